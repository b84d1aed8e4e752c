// The cip core's data shapes for TypeScript: the one declaration of them for every JS package.
//
// cip-wasm ships this file as is (its index.d.ts re-exports it); cip-node's build copies it next
// to its index.d.ts (node/types/copy-core.mjs, run by `npm run typecheck` and `npm pack`), whose
// generated header re-exports it. Edit it here only.
//
// The shapes are the JSON the CLI prints (`cip lint|plan|snapshot|audit --format json`), the
// serde types of core/src (diagnostic.rs, lib.rs, inventory.rs, plan/, snapshot.rs, audit.rs),
// and the option objects of core/src/wire.rs, named after the CLI's flags in camelCase.
// tests/js/types.test.mjs compiles the real outputs of every test vector against them, through
// both packages' declarations, with `strict` and `exactOptionalPropertyTypes`.

/**
 * Manifest files: one manifest text (linted as `manifest.yaml`, see `defaultFileName()` in
 * cip-wasm), or paths mapped to texts (an object or a `Map`). Paths like
 * `<root>/manifests/<name>/promoter-manifest.yaml` and `<root>/images/<name>/images.yaml` form a
 * thin manifest directory; every other path is a plain manifest. Paths are sorted, so key order
 * never changes a result.
 */
export type Files = string | Record<string, string> | Map<string, string>;

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
  /** Stable kebab-case identifier, e.g. `digest-invalid` (the README lists every code). */
  code: string;
  /** What is wrong, lowercase, no trailing period. */
  message: string;
  /** What to do about it; absent when there is nothing to add. */
  help?: string;
  /** Related locations; absent when there are none. */
  labels?: Label[];
  /** Machine-applicable repairs, best first; absent when there are none. */
  fixes?: Fix[];
}

/** A repair of a finding: edits applied together (`cip lint --fix` applies the safe ones). */
export interface Fix {
  /** What the fix does, imperative and lowercase ("quote the tag"). */
  title: string;
  /** `safe` keeps what is promoted exactly as it was; `unsafe` may change it. */
  applicability: "safe" | "unsafe";
  /** The edits, in file order, never overlapping. */
  edits: Edit[];
}

/** One replacement: the range (an empty range inserts) and its new text. */
export interface Edit extends Location {
  replacement: string;
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

/** The result of `lint`: every finding, sorted by file and position, plus counts (`cip lint --format json`). */
export interface LintReport {
  diagnostics: Diagnostic[];
  summary: Summary;
}

/** What a repository holds under one digest. */
export interface ManifestInfo {
  /** Tags pointing at this digest, sorted. */
  tags?: string[];
  /** The manifest's media type, when known. */
  mediaType?: string;
  /** For an index: the digests of the manifests it lists. */
  children?: string[];
  /** For an OCI 1.1 referrer: the digest it refers to. */
  subject?: string;
  /** The OCI `artifactType` (or the config media type of an artifact without one). */
  artifactType?: string;
  /** Layer digests in order, recorded for cosign `.sig`/`.att`/`.sbom` tag-scheme attachments. */
  layers?: string[];
  /**
   * The signature and attestation layers of an attachment (`.sig`, `.att`, Sigstore-bundle
   * referrer) with their bytes: what the trust gate verifies offline.
   */
  signedLayers?: SignedLayer[];
}

/** One layer of a signature or attestation manifest, with its bytes (`data`, standard base64). */
export interface SignedLayer {
  /** Simple signing, DSSE envelope or Sigstore bundle media type. */
  mediaType: string;
  /** The layer's digest: `data` must hash to it. */
  digest: string;
  /** Signature, certificate, chain, Rekor bundle and predicate type annotations. */
  annotations?: Record<string, string>;
  /** The layer's bytes, standard base64. */
  data: string;
}

/**
 * The trust gate's options (`cip plan`/`cip promote`'s `--require-signature`, `--verify-key`,
 * ... in camelCase). Where the CLI takes a file, these take its text. Options that cannot be used
 * (a key that does not parse, identity constraints without a trusted root) throw
 * `ERR_INVALID_ARG_VALUE`.
 */
export interface TrustOptions {
  /** A digest without a verified signature is blocked, `signature-missing` (`--require-signature`). */
  requireSignature?: boolean;
  /** PEM public key (ECDSA P-256/P-384, cosign's `cosign.pub`) signatures must verify with (`--verify-key`'s file text). */
  verifyKey?: string | null;
  /** Keyless: the signer's exact certificate identity (SAN) (`--certificate-identity`). */
  certificateIdentity?: string | null;
  /** Keyless: a regular expression the identity must match (`--certificate-identity-regexp`). */
  certificateIdentityRegexp?: string | null;
  /** Keyless: the exact OIDC issuer (`--certificate-oidc-issuer`). */
  certificateOidcIssuer?: string | null;
  /** Keyless: a regular expression the OIDC issuer must match (`--certificate-oidc-issuer-regexp`). */
  certificateOidcIssuerRegexp?: string | null;
  /** Keyless: the Sigstore `trusted_root.json` document's text (`--trusted-root`'s file text). */
  trustedRoot?: string | null;
  /** In-toto predicate types that must be attested (`--require-attestation`, repeatable). */
  requireAttestation?: string | string[];
}

/**
 * The state of registries: full repository path -> digest -> manifest info (the inventory JSON,
 * core/inventory.schema.json). A repository absent here is unknown; present and empty means read
 * and empty.
 */
export interface Inventory {
  repositories: Record<string, Record<string, ManifestInfo>>;
}

/** Options of `plan` (`cip plan`'s flags), the trust gate's included. */
export interface PlanOptions extends TrustOptions {
  /** Any error blocks every action, not only the edges it concerns (`--strict`). */
  strict?: boolean;
  /** The manifests as of the last promotion: only what changed since then is planned (`--base`). */
  base?: Files | null;
  /** Which attachments follow every placed digest (`--attachments`); default `all`. */
  attachments?: "all" | "signatures" | "none";
  /** Only referrers with one of these `artifactType`s follow (`--attachment-type`, repeatable). */
  attachmentType?: string | string[];
}

/**
 * `copy`: the digest is missing in the destination; `tag`: it is there, tags are missing;
 * `attach`: a signature, attestation, SBOM or referrer of a placed digest is missing.
 */
export type ActionKind = "copy" | "tag" | "attach";

/** What an `attach` action carries: what it is attached to and how. */
export interface Attachment {
  /** Cosign tag-scheme `sig`/`att`/`sbom` (`sha256-<hex>.sig` tags) or an OCI 1.1 `referrer`. */
  kind: "sig" | "att" | "sbom" | "referrer";
  /** The digest it is attached to. */
  subject: string;
  /** Its `artifactType`, when the inventory records one. */
  artifactType?: string;
  /** The destination tag holds another manifest lacking a source layer: the union is written. */
  merge: boolean;
}

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
  /** For an `attach` action only. */
  attachment?: Attachment;
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
  /** Attach actions (not edges); absent when 0. */
  attach?: number;
}

/** The result of `plan`, the JSON `cip plan --format json` prints. */
export interface Plan {
  /** Work in execution order. */
  actions: Action[];
  blocked: Blocked[];
  /** Lint findings plus planning findings, sorted. */
  diagnostics: Diagnostic[];
  summary: PlanSummary;
}

/** A text format of a snapshot (`cip snapshot --output`); `yaml` is the Go promoter's format. */
export type SnapshotFormat = "yaml" | "csv" | "json";

/** Options of `snapshot` (`cip snapshot`'s flags). */
export interface SnapshotOptions {
  /** Leave out untagged digests that an index of the same repository lists (`--minimal`). */
  minimal?: boolean;
  /** Keep only digests carrying this tag, with all their tags (`--snapshot-tag`). */
  snapshotTag?: string | null;
}

/** Options of `snapshotText`. */
export interface SnapshotTextOptions extends SnapshotOptions {
  /** Text format (`--output`); default `yaml`. */
  output?: SnapshotFormat | null;
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

/** `digest`: no manifest declares the digest; `tags`: it is declared, but not with these tags. */
export type DriftKind = "digest" | "tags";

/** One drift entry of an audit. */
export interface Drift {
  kind: DriftKind;
  /** Full repository path. */
  repository: string;
  digest: string;
  /** The undeclared tags, sorted. */
  tags: string[];
}

/** The JSON `cip audit --format json` prints: what production holds that no manifest declares. */
export interface AuditReport {
  /** Sorted by repository and digest. */
  drift: Drift[];
  /** Lint findings of the manifests. */
  diagnostics: Diagnostic[];
  summary: {
    repositories: number;
    digests: number;
    drift: number;
  };
  /** With `cip audit --attachments`: the attachments of every declared digest in every destination. */
  attachments?: AttachmentAudit;
}

/** One attachment missing from a destination (`attachment-missing` too), or there but not in the source. */
export interface AttachmentEntry {
  status: "missing" | "extra";
  /** Destination repository. */
  repository: string;
  /** The digest it is attached to. */
  subject: string;
  /** The attachment's digest (in the source when missing, in the destination when extra). */
  digest: string;
  kind: Attachment["kind"];
  /** Its tag-scheme tag (empty for a referrer). */
  tags: string[];
  /** Its `artifactType`, when recorded. */
  artifactType?: string;
}

/** The attachment part of an audit (`cip audit --attachments`). */
export interface AttachmentAudit {
  /** Sorted by repository, subject, status and digest. */
  entries: AttachmentEntry[];
  summary: {
    /** Subjects audited per destination repository (declared digests, index children, attachments). */
    subjects: number;
    complete: number;
    missing: number;
    extra: number;
  };
}
