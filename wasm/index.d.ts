// Declarations of cip-wasm's functions (checked by `tsc` in test/types.test.mjs and
// tests/js/types.test.mjs). The data shapes are core.d.ts, shared with cip-node.

import type {
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

/** Lints the files together. Bad manifests yield diagnostics; only an unusable `files` throws. */
export function lint(files: Files): LintReport;

/** Like `lint`, but returns the exact text `cip lint --format json` prints (trailing newline included). */
export function lintJson(files: Files): string;

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
