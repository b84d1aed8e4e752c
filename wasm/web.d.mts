// Declarations for `cip-wasm/web`: the same API as the main entry, for browsers without a bundler.
// Call the default export (init) once and await it before any other function.

export * from "./index.js";

/** What `init` accepts: a URL or path of `cip_wasm_bg.wasm`, its bytes, or a compiled module. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** Fetches and instantiates the module (default: `cip_wasm_bg.wasm` next to the glue script). */
export default function init(
  moduleOrPath?: { module_or_path: InitInput | Promise<InitInput> },
): Promise<WebAssembly.Exports>;

/** Instantiates the module synchronously from bytes or a compiled module (e.g. in a worker). */
export function initSync(module: { module: BufferSource | WebAssembly.Module }): WebAssembly.Exports;
