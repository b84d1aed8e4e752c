// What `npm pack` puts in the cip-wasm tarball: the declarations (core.d.ts, the core types shared
// with cip-node, and index.d.ts/index.d.mts/web.d.mts that re-export them), the entries and the
// three glues around ONE wasm module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const wasmDir = fileURLToPath(new URL("..", import.meta.url));

test("npm pack ships the declarations, the entries and one wasm module, nothing else", () => {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const run = spawnSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: wasmDir, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const files = new Set(JSON.parse(run.stdout)[0].files.map((f) => f.path));
  const expected = ["core.d.ts", "index.d.ts", "index.d.mts", "web.d.mts", "node.mjs", "bundler.mjs", "package.json", "README.md"];
  expected.push(...["package.json", "cip_wasm_bg.wasm", "node.cjs", "bundler.js", "cip_wasm_bg.js", "web.js"].map((f) => `pkg/${f}`));
  assert.deepEqual([...files].sort(), expected.sort());
});
