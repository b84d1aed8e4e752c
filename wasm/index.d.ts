// Hand-written declarations for cip-wasm (checked by `tsc --noEmit` in test/types.test.mjs).
// The shapes are the JSON that `cip lint --format json` prints; keep them in step with
// core/src/diagnostic.rs and core/src/lib.rs.

/** How bad a finding is: errors block a promotion, warnings are advice. */
export type Severity = "error" | "warning";

/** Half-open byte range into a file's UTF-8 text. */
export interface Span {
  start: number;
  end: number;
}

/** A position range in a file: 1-based lines, columns in characters and in UTF-16 units. */
export interface Location {
  /** The path the file was given under. */
  file: string;
  line: number;
  /** 1-based column in Unicode characters. */
  column: number;
  endLine: number;
  /** Exclusive end column in Unicode characters. */
  endColumn: number;
  /** 1-based column in UTF-16 code units (what browser editors and `String.prototype` count). */
  columnUtf16: number;
  /** Exclusive end column in UTF-16 code units. */
  endColumnUtf16: number;
  span: Span;
}

/** A secondary location of a finding ("first declared here"). */
export interface Label extends Location {
  message: string;
}

/** One finding. */
export interface Diagnostic extends Location {
  severity: Severity;
  /** Stable kebab-case identifier, e.g. `digest-invalid`. */
  code: string;
  message: string;
  /** What to do about it; absent when there is nothing to add. */
  help?: string;
  /** Related locations; absent when there are none. */
  labels?: Label[];
}

/** Counts over all linted manifests. */
export interface Summary {
  errors: number;
  warnings: number;
  manifests: number;
  images: number;
  digests: number;
  tags: number;
}

/** The result of `lint`: every finding, sorted by file and position, plus counts. */
export interface LintReport {
  diagnostics: Diagnostic[];
  summary: Summary;
}

/**
 * Manifest files: one manifest text (linted as `manifest.yaml`), or paths mapped to texts.
 * Paths like `<root>/manifests/<name>/promoter-manifest.yaml` and `<root>/images/<name>/images.yaml`
 * form a thin manifest directory; every other path is a plain manifest.
 */
export type Files = string | Record<string, string> | Map<string, string>;

/** Lints the files together. Bad manifests yield diagnostics; only an unusable `files` throws. */
export function lint(files: Files): LintReport;

/** Like `lint`, but returns the exact text `cip lint --format json` prints (trailing newline included). */
export function lintJson(files: Files): string;

/** The cip version this module was built from. */
export function version(): string;

/** What a repository holds under one digest. */
export interface ManifestInfo {
  /** Tags pointing at this digest, sorted. */
  tags?: string[];
  /** The manifest's media type, when known. */
  mediaType?: string;
  /** For an index: the digests of the manifests it lists. */
  children?: string[];
}

/** The state of registries: full repository path -> digest -> manifest info (`cip snapshot`'s JSON). */
export interface Inventory {
  repositories: Record<string, Record<string, ManifestInfo>>;
}

/** How to plan. */
export interface PlanOptions {
  /** Any error blocks every action, not only the edges it concerns. */
  strict?: boolean;
  /** The manifests as of the last promotion: only what changed since then is planned. */
  base?: Files;
}

/** `copy`: the digest is missing in the destination; `tag`: it is there, tags are missing. */
export type ActionKind = "copy" | "tag";

/** One digest in one destination repository, with all its tags. */
export interface Action {
  action: ActionKind;
  /** Source reference, `<repo>@<digest>`. */
  src: string;
  /** Destination repository. */
  dst: string;
  digest: string;
  /** Tags to set, sorted; empty for a copy by digest only. */
  tags: string[];
  /** The manifest's media type when the inventory knows it, else null. */
  mediaType: string | null;
}

/** Edges that will not be acted on, grouped by destination, digest and reasons. */
export interface Blocked {
  /** Source reference, or null when the manifests name no single source. */
  src: string | null;
  dst: string;
  digest: string;
  tags: string[];
  /** Codes of the findings that block these edges (`lost`, `tag-move`, ...), or `strict`. */
  reasons: string[];
}

/** Edge counts: every edge is exactly one of these. */
export interface PlanSummary {
  copy: number;
  tag: number;
  present: number;
  blocked: number;
}

/** The result of `plan`, the JSON `cip plan` prints. */
export interface Plan {
  /** Work in execution order. */
  actions: Action[];
  blocked: Blocked[];
  /** Lint findings plus planning findings, sorted. */
  diagnostics: Diagnostic[];
  summary: PlanSummary;
}

/**
 * Plans a promotion of `files` against `inventory` (JSON text or object). Findings and blocked
 * edges are data; only unusable arguments (malformed inventory, unknown option) throw.
 */
export function plan(files: Files, inventory: string | Inventory, options?: PlanOptions | null): Plan;

/** Like `plan`, but returns the exact text `cip plan --format json` prints. */
export function planJson(files: Files, inventory: string | Inventory, options?: PlanOptions | null): string;

/** Options of `snapshot`. */
export interface SnapshotOptions {
  /** Leave out untagged digests that an index of the same repository lists (they travel with it). */
  minimal?: boolean;
  /** Keep only digests carrying this tag (with all their tags). */
  snapshotTag?: string | null;
}

/** Options of `snapshotText`. */
export interface SnapshotTextOptions extends SnapshotOptions {
  /** Text format, as `cip snapshot --output`; default `yaml` (the Go promoter's format). */
  output?: "yaml" | "csv" | "json";
}

/** One image of a snapshot: its name relative to the registry, digest -> sorted tags. */
export interface SnapshotImage {
  name: string;
  dmap: Record<string, string[]>;
}

/** The result of `snapshot`, the JSON `cip snapshot --output json` prints. */
export interface Snapshot {
  images: SnapshotImage[];
}

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
