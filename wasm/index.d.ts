// Declarations of cip-wasm's functions, CommonJS flavour (Node `require`); index.d.mts adds the
// default export for ESM. Checked by `tsc` in test/types.test.mjs, tests/js/types.test.mjs and in
// a fresh project by test/install.test.mjs. The data shapes are core.d.ts, shared with cip-node.

import type {
  Diagnostic,
  Files,
  Inventory,
  LintReport,
  Plan,
  PlanOptions,
  Snapshot,
  SnapshotOptions,
  SnapshotTextOptions,
} from "./core.js";

export * from "./core.js";

/**
 * What every function throws for an unusable argument (never for a bad manifest, which is data):
 * an `Error` with the code cip-node gives the same failure, `ERR_INVALID_ARG_TYPE` (wrong type)
 * or `ERR_INVALID_ARG_VALUE` (right type, unusable value); `CIP_INTERNAL` is a cip bug.
 */
export interface CipError extends Error {
  code: "ERR_INVALID_ARG_TYPE" | "ERR_INVALID_ARG_VALUE" | "CIP_INTERNAL";
}

/**
 * Lints the files together. Bad manifests yield diagnostics; only an unusable `files` throws, an
 * `Error` whose `code` is `ERR_INVALID_ARG_TYPE` (see {@link CipError}).
 */
export function lint(files: Files): LintReport;

/** Like `lint`, but returns the exact text `cip lint --format json` prints (trailing newline included). */
export function lintJson(files: Files): string;

/**
 * The SARIF 2.1.0 log of `diagnostics` (as `lint`/`plan` return them): the exact text
 * `cip lint --format sarif` prints for the same findings.
 */
export function sarif(diagnostics: readonly Diagnostic[]): string;

/** The cip version this module was built from. */
export function version(): string;

/** The path a lone manifest text is linted under: `lint(text)` reports its findings in this file. */
export function defaultFileName(): string;

/**
 * Plans a promotion of `files` against `inventory` (JSON text or object). Findings and blocked
 * edges are data; only unusable arguments (malformed inventory, unknown option) throw.
 */
export function plan(files: Files, inventory: string | Inventory, options?: PlanOptions | null): Plan;

/** Like `plan`, but returns the exact text `cip plan --format json` prints. */
export function planJson(files: Files, inventory: string | Inventory, options?: PlanOptions | null): string;

/**
 * The `images:` list of `registry` (a prefix such as `gcr.io/k8s-artifacts-prod`) as the
 * inventory (JSON text or object) holds it.
 */
export function snapshot(inventory: string | Inventory, registry: string, options?: SnapshotOptions | null): Snapshot;

/** Like `snapshot`, but returns the exact text `cip snapshot --output <output>` prints (default YAML). */
export function snapshotText(
  inventory: string | Inventory,
  registry: string,
  options?: SnapshotTextOptions | null,
): string;
