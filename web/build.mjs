// Builds the static site into web/dist: the page and its worker bundled with esbuild (CodeMirror
// and the page's modules from npm and src/), the browser build of the cip wasm package, the
// per-code documentation page (generated from the core's code list, see docs/codes.mjs) and a
// service worker that caches all of it for offline use. Everything is served from one folder.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { codesPage } from "./docs/codes.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const src = path.join(here, "src");
const dist = path.join(here, "dist");

const engine = locateEngine(path.join(repoRoot, "wasm"));

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: { main: path.join(src, "main.js"), worker: path.join(src, "worker.js") },
  outdir: dist,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: !process.env.NOMIN,
  sourcemap: true,
  legalComments: "linked",
  // The worker imports the engine's browser glue under this name, wherever the wasm package keeps it.
  alias: { "cip-wasm-glue": engine.glue },
  logLevel: "warning",
});
cpSync(engine.wasm, path.join(dist, "cip_wasm_bg.wasm"));
for (const f of ["index.html", "style.css", "editor.css"]) cpSync(path.join(src, f), path.join(dist, f));
writeFileSync(path.join(dist, "codes.html"), codesPage(repoRoot));

// The service worker precaches every file of the build; its cache name is the hash of their
// contents, so a new build replaces the old cache and an unchanged one keeps it.
const assets = listFiles(dist).filter((f) => !f.endsWith(".map") && !f.endsWith(".LEGAL.txt"));
const hash = createHash("sha256");
for (const f of assets) hash.update(f).update(readFileSync(path.join(dist, f)));
const sw = readFileSync(path.join(src, "sw.js"), "utf8")
  .replace("__CACHE_NAME__", `cip-linter-${hash.digest("hex").slice(0, 16)}`)
  .replace('["__ASSETS__"]', JSON.stringify(["./", ...assets.filter((f) => f !== "index.html")]));
writeFileSync(path.join(dist, "sw.js"), sw);

const size = listFiles(dist).reduce((n, f) => n + statSync(path.join(dist, f)).size, 0);
console.log(`web build: wrote ${path.relative(process.cwd(), dist) || dist} (${(size / 1024).toFixed(0)} KiB)`);

/**
 * The browser (`--target web`) glue and the wasm module of the cip-wasm package: the glue is what
 * the package exports as `cip-wasm/web`, the module the file that glue loads by default.
 */
function locateEngine(wasmDir) {
  const hint = `build the wasm package first: (cd wasm && npm ci && ./build.sh)`;
  const manifest = JSON.parse(readFileSync(path.join(wasmDir, "package.json"), "utf8"));
  let entry = manifest.exports?.["./web"];
  while (entry && typeof entry === "object") entry = entry.import ?? entry.browser ?? entry.default;
  const glue = path.join(wasmDir, entry ?? "pkg/web/cip_wasm.js");
  if (!existsSync(glue)) fail(`${glue} is missing; ${hint}`);
  const named = /new URL\(['"]([^'"]+\.wasm)['"],\s*import\.meta\.url\)/.exec(readFileSync(glue, "utf8"));
  const wasm = named ? path.resolve(path.dirname(glue), named[1]) : path.join(path.dirname(glue), "cip_wasm_bg.wasm");
  if (!existsSync(wasm)) fail(`${wasm} (the module ${path.relative(wasmDir, glue)} loads) is missing; ${hint}`);
  return { glue, wasm };
}

function fail(message) {
  console.error(`web build: ${message}`);
  process.exit(2);
}

function listFiles(dir, prefix = "") {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const abs = path.join(dir, f);
      return statSync(abs).isDirectory() ? listFiles(abs, `${prefix}${f}/`) : [`${prefix}${f}`];
    });
}
