// Compile-only sample of the API every JS front end shares (cip-wasm and cip-node), written once
// and compiled by types.test.mjs against the declarations of the front end under test, as they
// are packed. `./frontend/index.js` is that front end's index.d.ts (with core.d.ts next to it).
import * as cip from "./frontend/index.js";
import type {
  Action,
  ActionKind,
  Blocked,
  Diagnostic,
  Files,
  Inventory,
  Label,
  LintReport,
  ManifestInfo,
  Plan,
  PlanOptions,
  PlanSummary,
  Severity,
  Snapshot,
  SnapshotFormat,
  SnapshotImage,
  SnapshotOptions,
  SnapshotTextOptions,
  Summary,
} from "./frontend/index.js";

const files: Files = { "manifests/a/promoter-manifest.yaml": "registries: []\n" };
const asMap: Files = new Map([["a.yaml", "images: []\n"]]);
const report: LintReport = cip.lint(files);
const first: Diagnostic | undefined = report.diagnostics[0];
const severity: Severity | undefined = first?.severity;
const labels: Label[] = first?.labels ?? [];
const where: string = first ? `${first.file}:${first.line}:${first.column}-${first.endColumnUtf16} ${first.span.end}` : "";
const summary: Summary = report.summary;
const text: string = cip.lintJson("images: []\n") + cip.lintJson(asMap);

const info: ManifestInfo = { tags: ["v1"], mediaType: "application/vnd.oci.image.index.v1+json", children: [] };
const inventory: Inventory = { repositories: { "gcr.io/x/app": { "sha256:00": info }, "gcr.io/y/empty": {} } };
const options: PlanOptions = { strict: true, base: asMap };
const plan: Plan = cip.plan(files, inventory, options);
const actions: Action[] = plan.actions;
const kind: ActionKind | undefined = actions[0]?.action;
const mediaType: string | null | undefined = actions[0]?.mediaType;
const blocked: Blocked[] = plan.blocked;
const source: string | null | undefined = blocked[0]?.src;
const counts: PlanSummary = plan.summary;
const planText: string = cip.planJson(files, JSON.stringify(inventory)) + cip.planJson(files, inventory, null);

const snapshotOptions: SnapshotOptions = { minimal: true, snapshotTag: null };
const snap: Snapshot = cip.snapshot(inventory, "gcr.io/x", snapshotOptions);
const images: SnapshotImage[] = snap.images;
const formats: SnapshotFormat[] = ["yaml", "csv", "json"];
const textOptions: SnapshotTextOptions = { ...snapshotOptions, output: formats[1] ?? null };
const csv: string = cip.snapshotText(JSON.stringify(inventory), "gcr.io/x", textOptions) + cip.snapshotText(inventory, "gcr.io/x");
const version: string = cip.version();

// @ts-expect-error numbers are not files
cip.lint(42);
// @ts-expect-error a Set is not files
cip.lint(new Set(["a.yaml"]));
// @ts-expect-error options are named after the CLI's flags (`--strict`)
cip.plan(files, inventory, { sttrict: true });
// @ts-expect-error `--snapshot-tag` is `snapshotTag`
cip.snapshot(inventory, "gcr.io/x", { snapshot_tag: "v1" });
// @ts-expect-error not a snapshot format
cip.snapshotText(inventory, "gcr.io/x", { output: "xml" });
// @ts-expect-error exactOptionalPropertyTypes: an absent help is absent, not undefined
const noHelp: Diagnostic = { ...first!, help: undefined };

export { severity, labels, where, summary, text, kind, mediaType, source, counts, planText, images, csv, version, noHelp };
