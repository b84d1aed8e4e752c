// Compile-only sample: every export and type of cip-wasm used the way a caller would.
import { defaultFileName, lint, lintJson, plan, planJson, snapshot, snapshotText, version } from "cip-wasm";
import type {
  AuditReport,
  Diagnostic,
  Files,
  Inventory,
  LintReport,
  Plan,
  PlanOptions,
  Severity,
  Snapshot,
  SnapshotFormat,
  SnapshotTextOptions,
  Summary,
} from "cip-wasm";

const files: Files = { "manifests/a/promoter-manifest.yaml": "registries: []\n" };
const report: LintReport = lint(files);
const first: Diagnostic | undefined = report.diagnostics[0];
const severity: Severity | undefined = first?.severity;
const utf16: number | undefined = first?.columnUtf16;
const help: string | undefined = first?.help;
const labels = first?.labels?.map((l) => `${l.file}:${l.line}:${l.column} ${l.message}`);
const summary: Summary = report.summary;
const text: string = lintJson("images: []\n") + lintJson(new Map([["a.yaml", ""]]));
const scratch: Files = { [defaultFileName()]: "images: []\n" };

const inventory: Inventory = {
  repositories: { "gcr.io/x/app": { "sha256:00": { tags: ["v1"], mediaType: "application/vnd.oci.image.index.v1+json", children: [] } } },
};
const options: PlanOptions = { strict: true, base: { "a.yaml": "" } };
const p: Plan = plan(files, inventory, options);
const kinds: string[] = p.actions.map((a) => `${a.action} ${a.src} ${a.dst} ${a.digest} ${a.tags.join(",")} ${a.mediaType ?? ""}`);
const reasons: string[] = p.blocked.flatMap((b) => [b.src ?? "", ...b.reasons]);
const counts: number = p.summary.copy + p.summary.tag + p.summary.present + p.summary.blocked;
const planText: string = planJson(files, JSON.stringify(inventory)) + planJson(files, inventory, {}) + planJson(scratch, inventory, { base: null });
const v: string = version();
const snap: Snapshot = snapshot(inventory, "gcr.io/x", { minimal: true, snapshotTag: null });
const names: string[] = snap.images.map((i) => `${i.name} ${Object.keys(i.dmap).length}`);
const format: SnapshotFormat = "csv";
const textOptions: SnapshotTextOptions = { output: format, snapshotTag: "v1" };
const csv: string = snapshotText(JSON.stringify(inventory), "gcr.io/x", textOptions) + snapshotText(inventory, "gcr.io/x");
const audit = (json: string): number => (JSON.parse(json) as AuditReport).drift.filter((d) => d.kind === "tags").length;

// @ts-expect-error numbers are not files
lint(42);
// @ts-expect-error not a snapshot format
snapshotText(inventory, "gcr.io/x", { output: "xml" });
// @ts-expect-error options are named after the CLI's flags (`--strict`)
plan(files, inventory, { sttrict: true });

export { names, csv, severity, utf16, help, labels, summary, text, kinds, reasons, counts, planText, v, p, audit };
