// The JS front ends the shared vector suite runs against, selected with FRONTEND=wasm|node.
// Each adapter exposes the same calls so one suite checks that every front end prints the bytes
// the CLI prints:
//   lintJson(files) -> string      exact `cip lint --format json` text
//   lint(files)     -> object      the same report as a JS value
//   plan(files, inventory, options) / planJson(...)
//   snapshot(inventory, registry, options) / snapshotText(..., {output})
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../..");

/** Loads the front end named by FRONTEND (default `wasm`), failing loudly when it is not built. */
export function loadFrontend(name = process.env.FRONTEND || "wasm") {
  switch (name) {
    case "wasm":
      return wasm();
    case "node":
      return napi();
    default:
      throw new Error(`FRONTEND=${name}: unknown front end; use wasm or node`);
  }
}

function mustExist(file, hint) {
  if (!existsSync(file)) {
    throw new Error(`${file} does not exist; ${hint}`);
  }
  return file;
}

function wasm() {
  const entry = mustExist(
    path.join(repoRoot, "wasm/pkg/node.cjs"),
    "build the wasm package first: (cd wasm && npm ci && ./build.sh)",
  );
  const m = require(entry);
  return { name: "wasm", ...pick(m) };
}

// The napi addon (node/). Helper F owns its loader; CIP_NODE_ADDON may point at a built addon or
// its index.js. The adapter expects the same export names as the wasm package.
function napi() {
  const entry = process.env.CIP_NODE_ADDON || path.join(repoRoot, "node/index.js");
  const m = require(mustExist(entry, "build the napi addon first (see node/README or CIP_NODE_ADDON)"));
  return { name: "node", ...pick(m) };
}

function pick(m) {
  const api = {
    version: m.version,
    lint: m.lint,
    lintJson: m.lintJson,
    plan: m.plan,
    planJson: m.planJson,
    snapshot: m.snapshot,
    snapshotText: m.snapshotText,
  };
  for (const required of ["version", "lint", "lintJson", "plan", "planJson", "snapshot", "snapshotText"]) {
    if (typeof api[required] !== "function") {
      throw new Error(`front end does not export ${required}()`);
    }
  }
  return api;
}
