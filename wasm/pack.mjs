// `npm run pack`: writes the publishable tarball, dist/cip-wasm-<version>.tgz (run build.sh first),
// and prints its packed and unpacked size.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
if (!existsSync(path.join(here, "pkg", "cip_wasm_bg.wasm"))) {
  console.error("pack: pkg/ is not built; run ./build.sh first");
  process.exit(2);
}
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dist], { cwd: here, encoding: "utf8" });
const [p] = JSON.parse(out.slice(out.search(/^\[/m)));
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`dist/${p.filename}  ${kib(p.size)} packed, ${kib(p.unpackedSize)} unpacked, ${p.entryCount} files`);
