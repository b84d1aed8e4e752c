// Every tests/vectors case through the addon: the object forms (`lint`, `lintAsync`, `plan`,
// `planAsync`) must stringify to the exact bytes of expected.json, and the text forms
// (`lintJson`, `planJson`) must equal them. Sync and async forms must agree.
// The case reader is the one shared with the wasm suite (tests/js/vectors.mjs).
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { cases } from '../../tests/js/vectors.mjs'
import cip from './addon.mjs'

/** The CLI's JSON text for a value: 2-space pretty JSON plus a trailing newline. */
const cliText = (value) => `${JSON.stringify(value, null, 2)}\n`

describe('lint vectors', () => {
  for (const c of cases('lint')) {
    test(c.name, async () => {
      assert.equal(cip.lintJson(c.files), c.expected, 'lintJson differs from expected.json')
      assert.equal(cliText(cip.lint(c.files)), c.expected, 'lint() differs from expected.json')
      assert.equal(cliText(await cip.lintAsync(c.files)), c.expected, 'lintAsync() differs from expected.json')
    })
  }
})

describe('plan vectors', () => {
  for (const c of cases('plan')) {
    test(c.name, async () => {
      const options = c.options ? JSON.parse(c.options) : {}
      const inventory = c.inventory ?? '{"repositories": {}}'
      assert.equal(cip.planJson(c.files, inventory, options), c.expected, 'planJson differs')
      assert.equal(cliText(cip.plan(c.files, inventory, options)), c.expected, 'plan() differs')
      // The inventory as an object must plan the same as its text.
      const asObject = cip.plan(c.files, JSON.parse(inventory), options)
      assert.equal(cliText(asObject), c.expected, 'plan() with an inventory object differs')
      assert.equal(cliText(await cip.planAsync(c.files, inventory, options)), c.expected, 'planAsync() differs')
    })
  }
})
