// Runs the cip wasm engine off the main thread so typing stays responsive on large manifest sets.
// Protocol: {id, op, args} in; {id, result, ms} or {id, error} out. `op` names a cip-wasm export.
import init, * as cip from "./pkg/cip_wasm.js";

const ready = init({ module_or_path: new URL("./pkg/cip_wasm_bg.wasm", import.meta.url) });

/** The exports the page may call; anything else is a programming error in the page. */
const OPS = new Set(["lint", "plan", "version", "defaultFileName"]);

self.onmessage = async (event) => {
  const { id, op, args } = event.data;
  try {
    await ready;
    if (!OPS.has(op) || typeof cip[op] !== "function") {
      throw new Error(`the engine has no operation ${op}`);
    }
    const start = performance.now();
    const result = cip[op](...args);
    self.postMessage({ id, result, ms: performance.now() - start });
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
