// Every tests/vectors case through the addon: the object forms (`lint`, `plan`, `snapshot` and
// their `…Async` forms) must stringify to the exact bytes of expected.json, and the text forms
// (`lintJson`, `planJson`, `snapshotText`) must equal them. Sync and async forms must agree.
// The case reader is the one shared with the wasm suite (tests/js/vectors.mjs), so both front
// ends read the vectors exactly as the Rust runners do.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { cases, planOptions } from '../../tests/js/vectors.mjs'

// CIP_NODE_ADDON may name a built addon (.node) or loader to test instead of this package.
const cip = createRequire(import.meta.url)(process.env.CIP_NODE_ADDON || '../index.js')

/** The CLI's JSON text for a value: 2-space pretty JSON plus a trailing newline. */
const cliText = (value) => `${JSON.stringify(value, null, 2)}\n`
const EMPTY_INVENTORY = '{"repositories": {}}'

describe('lint vectors', () => {
  for (const c of cases('lint')) {
    test(c.name, async () => {
      assert.equal(cip.lintJson(c.input), c.expectedJson, 'lintJson differs from expected.json')
      assert.equal(cliText(cip.lint(c.input)), c.expectedJson, 'lint() differs from expected.json')
      assert.equal(cliText(await cip.lintAsync(c.input)), c.expectedJson, 'lintAsync() differs')
    })
  }
})

/** One runner per `options.mode` of the planning vectors (see core/tests/plan_vectors.rs). */
const MODES = {
  async plan(c) {
    // The CLI's option words in camelCase (`--attachments`, `--require-signature`, ...).
    const options = planOptions(c)
    const inventory = c.inventory ?? EMPTY_INVENTORY
    assert.equal(cip.planJson(c.input, inventory, options), c.expectedJson, 'planJson differs')
    assert.equal(cliText(cip.plan(c.input, inventory, options)), c.expectedJson, 'plan() differs')
    // The inventory as an object plans the same as its text.
    assert.equal(cliText(cip.plan(c.input, JSON.parse(inventory), options)), c.expectedJson, 'plan(object) differs')
    assert.equal(cliText(await cip.planAsync(c.input, inventory, options)), c.expectedJson, 'planAsync() differs')
  },
  async snapshot(c) {
    const { registry, minimal, snapshotTag, output } = c.options
    const options = { minimal: Boolean(minimal), snapshotTag: snapshotTag ?? null }
    const inventory = c.inventory ?? EMPTY_INVENTORY
    assert.equal(cliText(cip.snapshot(inventory, registry, options)), c.expectedJson, 'snapshot() differs')
    assert.equal(cliText(await cip.snapshotAsync(inventory, registry, options)), c.expectedJson, 'snapshotAsync() differs')
    assert.equal(cip.snapshotText(inventory, registry, { ...options, output: 'json' }), c.expectedJson)
    assert.equal(cip.snapshotText(inventory, registry, { ...options, output: output ?? 'yaml' }), c.expectedText)
  },
}

describe('plan vectors', () => {
  for (const c of cases('plan')) {
    const mode = c.options.mode ?? 'plan'
    const run = MODES[mode]
    // snapshot-manifests and audit are CLI/core features the JS front ends do not expose.
    test(c.name, { skip: run ? false : `mode ${mode} is not part of the JS API` }, () => run(c))
  }
})
