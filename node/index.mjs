// ESM entry point of cip-node: the same exports as the CommonJS loader (index.js), which loads
// the native addon built for this platform.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const binding = require('./index.js')

export const {
  version,
  lint,
  lintJson,
  lintAsync,
  plan,
  planJson,
  planAsync,
  snapshot,
  snapshotText,
  snapshotAsync,
  readInventory,
  planOnline,
  promote,
} = binding
export default binding
