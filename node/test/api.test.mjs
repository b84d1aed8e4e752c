// The addon's calling conventions: argument errors are JS Errors with a `code`, bad manifests are
// data, both entry points (ESM and CommonJS) expose the same functions, and the async forms run
// off the event loop.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
// CIP_NODE_ADDON may name a built addon (.node) or loader to test instead of this package.
const cip = require(process.env.CIP_NODE_ADDON || '../index.js')

const MANIFEST = `registries:
- name: gcr.io/staging
  src: true
- name: gcr.io/prod
images:
- name: app
  dmap:
    "sha256:${'a'.repeat(64)}": ["v1"]
`

test('ESM and CommonJS entry points expose the same functions', async () => {
  const esm = await import('../index.mjs')
  const cjs = require('../index.js')
  // `__napiBindingTarget` is napi-rs's loader bookkeeping, not part of the API.
  const names = Object.keys(cjs).filter((n) => !n.startsWith('__')).sort()
  assert.deepEqual(names, [
    'lint', 'lintAsync', 'lintJson', 'plan', 'planAsync', 'planJson', 'planOnline', 'promote',
    'readInventory', 'snapshot', 'snapshotAsync', 'snapshotText', 'version',
  ])
  for (const name of names) {
    assert.equal(typeof cjs[name], 'function', `CommonJS ${name}`)
    assert.equal(esm[name], cjs[name], `ESM ${name} is the CommonJS one`)
  }
  assert.match(esm.version(), /^\d+\.\d+\.\d+/)
})

test('a single string is linted as manifest.yaml', () => {
  const report = cip.lint('registries: [\n')
  assert.ok(report.summary.errors > 0)
  assert.equal(report.diagnostics[0].file, 'manifest.yaml')
})

test('bad manifests are data, not exceptions', async () => {
  const files = { 'a.yaml': 'images: 3\n', 'b.yaml': '\t- nope' }
  const report = cip.lint(files)
  assert.ok(report.diagnostics.length > 0)
  assert.deepEqual(await cip.lintAsync(files), report)
})

test('a clean manifest has no findings', () => {
  const report = cip.lint({ 'promoter-manifest.yaml': MANIFEST })
  assert.deepEqual(report.diagnostics, [])
  assert.equal(report.summary.images, 1)
  assert.equal(report.summary.tags, 1)
})

test('files may be a Map', async () => {
  const map = new Map([['b.yaml', 'images: 3\n'], ['a.yaml', MANIFEST]])
  assert.equal(cip.lintJson(map), cip.lintJson(Object.fromEntries(map)))
  assert.deepEqual(await cip.lintAsync(map), cip.lint(Object.fromEntries(map)))
  assert.throws(() => cip.lint(new Map([['a.yaml', 1]])), { code: 'ERR_INVALID_ARG_TYPE', message: /files\["a.yaml"\]/ })
})

test('file order does not change the result', () => {
  const a = { 'x/one.yaml': MANIFEST, 'y/two.yaml': 'images: 3\n' }
  const b = { 'y/two.yaml': 'images: 3\n', 'x/one.yaml': MANIFEST }
  assert.equal(cip.lintJson(a), cip.lintJson(b))
})

test('unusable arguments throw (sync) or reject (async) with a code', async () => {
  for (const bad of [undefined, null, 42, true, () => 1]) {
    assert.throws(() => cip.lint(bad), { code: 'ERR_INVALID_ARG_TYPE', message: /files: expected a manifest text/ })
    await assert.rejects(cip.lintAsync(bad), { code: 'ERR_INVALID_ARG_TYPE' })
  }
  assert.throws(() => cip.lint({ 'a.yaml': 3 }), { code: 'ERR_INVALID_ARG_TYPE', message: /files\["a.yaml"\]/ })
  const err = (() => { try { cip.lint(7) } catch (e) { return e } })()
  assert.ok(err instanceof Error, 'a real Error')
})

test('plan: malformed inventory and unknown options are argument errors', async () => {
  const files = { 'promoter-manifest.yaml': MANIFEST }
  assert.throws(() => cip.plan(files, '{"repositories": ', {}), { code: 'ERR_INVALID_ARG_VALUE', message: /inventory/ })
  assert.throws(() => cip.plan(files, 5), { code: 'ERR_INVALID_ARG_TYPE', message: /inventory/ })
  assert.throws(() => cip.plan(files, { repositories: {} }, { stric: true }), { code: 'ERR_INVALID_ARG_VALUE', message: /stric/ })
  await assert.rejects(cip.planAsync(files, { nope: 1 }), { code: 'ERR_INVALID_ARG_VALUE' })
  // Trust options the policy cannot use are the caller's error, named in JavaScript's words.
  const inventory = { repositories: {} }
  assert.throws(() => cip.plan(files, inventory, { requireSignature: true, verifyKey: 'not a key' }), { code: 'ERR_INVALID_ARG_VALUE', message: /^options\.verifyKey: / })
  assert.throws(() => cip.plan(files, inventory, { certificateIdentity: 'a@example.com' }), { code: 'ERR_INVALID_ARG_VALUE', message: /^options\./ })
  await assert.rejects(cip.planAsync(files, inventory, { requireSignature: true, verifyKey: 'x' }), { code: 'ERR_INVALID_ARG_VALUE', message: /verifyKey/ })
})

test('plan: base takes every shape of files, a Map included', () => {
  const files = { 'promoter-manifest.yaml': MANIFEST }
  const inventory = { repositories: {} }
  const asObject = cip.planJson(files, inventory, { base: files })
  assert.equal(cip.planJson(files, inventory, { base: new Map(Object.entries(files)) }), asObject)
  assert.notEqual(asObject, cip.planJson(files, inventory, { base: {} }), 'base is used')
  assert.equal(cip.planJson(MANIFEST, inventory, { base: MANIFEST }), cip.planJson(MANIFEST, inventory, { base: { 'manifest.yaml': MANIFEST } }))
  assert.equal(cip.planJson(files, inventory, { base: null }), cip.planJson(files, inventory))
  const options = { strict: true, base: new Map(Object.entries(files)) }
  cip.plan(files, inventory, options)
  assert.ok(options.base instanceof Map, "the caller's options are left alone")
  assert.throws(() => cip.plan(files, inventory, { base: 3 }), { code: 'ERR_INVALID_ARG_VALUE', message: /options: .*expected a manifest text/ })
  assert.throws(() => cip.plan(files, inventory, { base: { 'a.yaml': 3 } }), { code: 'ERR_INVALID_ARG_VALUE', message: /\["a.yaml"\]: expected the text of a manifest file/ })
})

test('plan: sync, async and text forms agree', async () => {
  const files = { 'promoter-manifest.yaml': MANIFEST }
  const inventory = {
    repositories: { 'gcr.io/staging/app': { [`sha256:${'a'.repeat(64)}`]: { tags: ['v1'] } }, 'gcr.io/prod/app': {} },
  }
  const sync = cip.plan(files, inventory)
  assert.equal(sync.actions.length, 1)
  assert.equal(sync.actions[0].action, 'copy')
  assert.deepEqual(await cip.planAsync(files, JSON.stringify(inventory)), sync)
  assert.equal(cip.planJson(files, inventory, null), `${JSON.stringify(sync, null, 2)}\n`)
})

/** A manifest set large enough that linting it takes a noticeable time. */
function bigSet(images) {
  const lines = ['registries:', '- name: gcr.io/staging', '  src: true', '- name: gcr.io/prod', 'images:']
  for (let i = 0; i < images; i++) {
    const digest = i.toString(16).padStart(64, '0')
    lines.push(`- name: img-${i}`, '  dmap:', `    "sha256:${digest}": ["v1", "v1.${i}"]`)
  }
  return { 'promoter-manifest.yaml': `${lines.join('\n')}\n` }
}

test('the event loop keeps running during lintAsync', async () => {
  // Grow the input until a synchronous lint takes a while, so the async one has time to overlap
  // with the timer (no speed assertion: only "the timer fired while the work ran").
  let files
  for (let n = 2000; ; n *= 2) {
    files = bigSet(n)
    const start = performance.now()
    cip.lint(files)
    if (performance.now() - start > 150 || n >= 512000) break
  }
  let ticks = 0
  const timer = setInterval(() => { ticks++ }, 5)
  try {
    const pending = cip.lintAsync(files)
    assert.ok(pending instanceof Promise)
    const report = await pending
    assert.equal(report.diagnostics.length, 0)
  } finally {
    clearInterval(timer)
  }
  assert.ok(ticks >= 3, `the timer fired only ${ticks} times while lintAsync ran`)
})

test('many concurrent async calls all resolve', async () => {
  const files = { 'promoter-manifest.yaml': MANIFEST }
  const results = await Promise.all(Array.from({ length: 50 }, () => cip.lintAsync(files)))
  for (const r of results) assert.deepEqual(r, results[0])
})

test('snapshot: object, text forms and async agree', async () => {
  const d1 = `sha256:${'1'.repeat(64)}`
  const d2 = `sha256:${'2'.repeat(64)}`
  const inventory = {
    repositories: {
      'gcr.io/prod/app': { [d1]: { tags: ['v1', 'latest'] }, [d2]: { tags: [] } },
      'gcr.io/prod/sub/tool': { [d2]: { tags: ['1.0'] } },
      'gcr.io/prodx/other': { [d1]: { tags: ['x'] } },
    },
  }
  const snap = cip.snapshot(inventory, 'gcr.io/prod')
  assert.deepEqual(snap.images.map((i) => i.name), ['app', 'sub/tool'])
  assert.deepEqual(snap.images[0].dmap[d1], ['latest', 'v1'])
  assert.equal(cip.snapshotText(inventory, 'gcr.io/prod', { output: 'json' }), `${JSON.stringify(snap, null, 2)}\n`)
  assert.match(cip.snapshotText(inventory, 'gcr.io/prod'), /^- name: app\n {2}dmap:\n/)
  assert.match(cip.snapshotText(inventory, 'gcr.io/prod', { output: 'csv' }), /^app@sha256:/)
  assert.deepEqual(await cip.snapshotAsync(JSON.stringify(inventory), 'gcr.io/prod'), snap)
  const tagged = cip.snapshot(inventory, 'gcr.io/prod', { snapshotTag: '1.0' })
  assert.deepEqual(tagged.images.map((i) => i.name), ['sub/tool'])
  assert.throws(() => cip.snapshot(inventory, 3), { code: 'ERR_INVALID_ARG_TYPE', message: /registry/ })
  assert.throws(() => cip.snapshotText(inventory, 'gcr.io/prod', { output: 'xml' }), { code: 'ERR_INVALID_ARG_VALUE', message: /output must be "yaml", "csv" or "json"/ })
  assert.throws(() => cip.snapshot(inventory, 'gcr.io/prod', { snapshot_tag: '1.0' }), { code: 'ERR_INVALID_ARG_VALUE', message: /unknown field `snapshot_tag`/ })
})

test('engine options are the CLI flags in camelCase; the earlier names are deprecated aliases', async () => {
  // Local OCI layouts: the engine reads them without a network.
  const staging = fileURLToPath(new URL('../../examples/staging', import.meta.url))
  const dir = mkdtempSync(path.join(tmpdir(), 'cip-node-options-'))
  try {
    const files = {
      'promote.yaml': `registries:\n- name: oci:${staging}\n  src: true\n- name: oci:${dir}/prod\nimages:\n- name: plain\n  dmap:\n` +
        '    "sha256:92803563d151254bd5409d3aaa94ddc1607e496e8df47e5c09e1852fd252fa5f": ["1.0"]\n',
    }
    const plan = await cip.planOnline(files)
    assert.deepEqual(plan.summary, { copy: 1, tag: 0, present: 0, blocked: 0 })
    // --jobs, --blob-jobs, --registry-rate, --host-rate, --insecure-registry, ...
    const current = {
      jobs: 2, blobJobs: 3, registryRate: 0, hostRate: { 'gcr.io': 5 }, insecureRegistry: ['registry.internal:5000'],
      maxConcurrency: 4, requestTimeout: 30, chunkSize: 8, authEnv: {}, noDockerConfig: true, verifyMounts: true,
      attachments: 'signatures', attachmentType: ['application/spdx+json'],
    }
    const deprecated = {
      concurrency: 2, blobConcurrency: 3, rate: 0, hostRates: { 'gcr.io': 5 }, insecureRegistries: ['registry.internal:5000'],
    }
    for (const options of [current, deprecated]) {
      assert.deepEqual(await cip.planOnline(files, options), plan)
      assert.deepEqual(await cip.promote(files, options), { plan }, 'a dry run: the plan, no report')
    }
    // One knob, one value: a name and its deprecated alias together are an error, as is a typo.
    for (const [options, message] of [
      [{ jobs: 1, concurrency: 1 }, /duplicate field `jobs`/],
      [{ blobJobs: 1, blobConcurrency: 1 }, /duplicate field `blobJobs`/],
      [{ registryRate: 1, rate: 1 }, /duplicate field `registryRate`/],
      [{ hostRate: {}, hostRates: {} }, /duplicate field `hostRate`/],
      [{ insecureRegistry: [], insecureRegistries: [] }, /duplicate field `insecureRegistry`/],
      [{ job: 1 }, /unknown field `job`/],
      [{ attachments: 'some' }, /unknown variant `some`/],
      [{ attachmentType: 3 }, /a string or an array of strings/],
    ]) {
      await assert.rejects(cip.promote(files, options), { code: 'ERR_INVALID_ARG_VALUE', message }, JSON.stringify(options))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
