// ESM entry for Node: the CommonJS build loads the module synchronously, and this re-exports it
// so `import { lint } from "cip-wasm"` and `require("cip-wasm")` share one instance.
import cip from "./pkg/node/cip_wasm.js";

export const { defaultFileName, lint, lintJson, plan, planJson, snapshot, snapshotText, version } = cip;
