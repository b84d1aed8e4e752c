// What `npm pack` puts in the cip-wasm tarball: the declarations (core.d.ts, the core types shared
// with cip-node, and the index.d.ts/web.d.mts that re-export them) and the three builds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const wasmDir = fileURLToPath(new URL("..", import.meta.url));

test("npm pack ships the declarations next to the builds", () => {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const run = spawnSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: wasmDir, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const files = new Set(JSON.parse(run.stdout)[0].files.map((f) => f.path));
  for (const f of ["core.d.ts", "index.d.ts", "web.d.mts", "node.mjs", "pkg/node/cip_wasm.js", "pkg/bundler/cip_wasm.js", "pkg/web/cip_wasm.js"]) {
    assert.ok(files.has(f), `the tarball lacks ${f}: ${[...files].join(", ")}`);
  }
});
