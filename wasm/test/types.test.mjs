// Type-checks the declarations (core.d.ts, index.d.ts, web.d.mts) against a usage sample with
// the TypeScript compiler from wasm/node_modules (`npm ci` in wasm/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const wasmDir = fileURLToPath(new URL("..", import.meta.url));

test("tsc --noEmit accepts the declarations and the usage sample", () => {
  const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "--noEmit", "-p", "test/tsconfig.json"], {
    cwd: wasmDir,
    encoding: "utf8",
  });
  assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
});
