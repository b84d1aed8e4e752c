// What `npm pack` puts in the cip-node tarball: the loaders and the declarations, among them
// core.d.ts, which the prepack script copies from wasm/core.d.ts (the one source of the core
// types) and index.d.ts re-exports.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const nodeDir = fileURLToPath(new URL('..', import.meta.url))

test('npm pack ships the loader, index.d.ts and the core declarations it re-exports, and no addon', () => {
  const run = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: nodeDir, encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  // Lifecycle scripts (prepack) may print to stdout before the JSON.
  const json = run.stdout.slice(run.stdout.search(/^\[/m))
  const files = new Set(JSON.parse(json)[0].files.map((f) => f.path))
  // Exactly the loader, the declarations and the metadata: the addon is in the platform packages.
  const expected = ['index.js', 'index.mjs', 'platform.js', 'index.d.ts', 'index.d.mts', 'core.d.ts', 'package.json', 'README.md']
  assert.deepEqual([...files].sort(), expected.sort())
  const core = (p) => readFileSync(new URL(p, new URL('..', import.meta.url)), 'utf8')
  assert.equal(core('core.d.ts'), core('../wasm/core.d.ts'), 'core.d.ts is the copy of wasm/core.d.ts')
})
