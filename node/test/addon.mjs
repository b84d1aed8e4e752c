// Loads the addon under test: the package's own ESM entry point by default, or the module named
// by CIP_NODE_ADDON (a built .node file or a loader) when a CI step built it elsewhere.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cip = process.env.CIP_NODE_ADDON ? require(process.env.CIP_NODE_ADDON) : (await import('../index.mjs')).default
export default cip
