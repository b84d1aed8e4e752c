// ESM entry for bundlers and browsers through one (webpack, Vite, esbuild, Rollup): the
// wasm-bindgen bundler glue (pkg/bundler.js, which imports the module as an ES module) and, as
// in Node, a default export holding every function, so `import cip from "cip-wasm"` works here too.
import * as cip from "./pkg/bundler.js";

export * from "./pkg/bundler.js";
export default cip;
