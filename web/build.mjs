// Builds the static site into web/dist: the page sources plus the browser (`--target web`) build
// of the cip wasm package. No bundler: the page is plain ES modules and one module worker.
import { cpSync, existsSync, mkdirSync, rmSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, "src");
const dist = path.join(here, "dist");
const pkg = path.resolve(here, "../wasm/pkg/web");
const engineFiles = ["cip_wasm.js", "cip_wasm_bg.wasm"];

for (const f of engineFiles) {
  if (!existsSync(path.join(pkg, f))) {
    console.error(`web build: ${path.join(pkg, f)} is missing; build the wasm package first: (cd wasm && npm ci && ./build.sh)`);
    process.exit(2);
  }
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(path.join(dist, "pkg"), { recursive: true });
cpSync(src, dist, { recursive: true });
for (const f of engineFiles) cpSync(path.join(pkg, f), path.join(dist, "pkg", f));

const size = (dir) =>
  readdirSync(dir).reduce((n, f) => {
    const p = path.join(dir, f);
    return n + (statSync(p).isDirectory() ? size(p) : statSync(p).size);
  }, 0);
console.log(`web build: wrote ${path.relative(process.cwd(), dist) || dist} (${(size(dist) / 1024).toFixed(0)} KiB)`);
