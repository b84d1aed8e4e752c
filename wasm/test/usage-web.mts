// Compile-only sample for the browser entry (`cip-wasm/web`).
import init, { initSync, lint } from "cip-wasm/web";
import type { LintReport } from "cip-wasm/web";

export async function run(url: URL): Promise<LintReport> {
  await init({ module_or_path: url });
  return lint("images: []\n");
}

export function runSync(bytes: ArrayBuffer): LintReport {
  initSync({ module: bytes });
  return lint({ "a.yaml": "" });
}
