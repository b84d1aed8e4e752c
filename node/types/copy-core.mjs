// Copies the core's TypeScript declarations (wasm/core.d.ts, the one source shared with cip-wasm)
// to node/core.d.ts, which index.d.ts re-exports. Run by `npm run types`, before `npm run
// typecheck` and `npm pack`/`npm publish` (prepack), and by ci.sh. The copy is not committed.
import { copyFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = fileURLToPath(new URL("../../wasm/core.d.ts", import.meta.url));
const target = fileURLToPath(new URL("../core.d.ts", import.meta.url));
copyFileSync(source, target);
if (readFileSync(source, "utf8") !== readFileSync(target, "utf8")) {
  throw new Error(`copy-core: ${target} differs from ${source} after copying`);
}
