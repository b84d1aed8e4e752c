// ESM entry for Node: the CommonJS glue (pkg/node.cjs) loads the module synchronously, and this
// re-exports it, so `import cip from "cip-wasm"`, `import { lint } from "cip-wasm"` and
// `require("cip-wasm")` share one instance.
import cip from "./pkg/node.cjs";

export const { defaultFileName, lint, lintJson, plan, planJson, sarif, snapshot, snapshotText, version } = cip;
export default cip;
