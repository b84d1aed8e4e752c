// ESM declarations of cip-wasm (Node `import`, bundlers, browsers): the named exports of index.d.ts
// and, as node.mjs and bundler.mjs have at run time, a default export holding all of them.
import * as cip from "./index.js";

export * from "./index.js";
export default cip;
