// The engine through the addon, against real CNCF distribution registries started here on
// 127.0.0.1 (test-support/registry.mjs): promotion of a multi-arch index with ordered progress
// events, a no-op re-run, an abort midway that a re-run completes, a wrong password, and the
// event loop staying responsive while registry work runs.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { REGISTRY_BINARY, dockerConfig, startRegistry, startSlowProxy } from '../test-support/registry.mjs'

const require = createRequire(import.meta.url)
const cip = require(process.env.CIP_NODE_ADDON || '../index.js')
// The CLI to compare with: CIP_BIN, else the workspace's debug build when present.
const CIP_BIN = process.env.CIP_BIN || fileURLToPath(new URL('../../target/debug/cip', import.meta.url))
const skip = existsSync(REGISTRY_BINARY) ? false : `${REGISTRY_BINARY} is missing (apt-get install docker-registry)`

function manifest(source, destination, images) {
  const lines = ['registries:', `- name: ${source}`, '  src: true', `- name: ${destination}`, 'images:']
  for (const [name, digest, tags] of images) {
    lines.push(`- name: ${name}`, '  dmap:', `    "${digest}": [${tags.map((t) => `"${t}"`).join(', ')}]`)
  }
  return { 'promoter-manifest.yaml': `${lines.join('\n')}\n` }
}

describe('promotion against real registries', { skip }, () => {
  let staging, prod, files, credentials, index, tool
  const cleanup = []

  before(async () => {
    staging = await startRegistry()
    prod = await startRegistry({ auth: true })
    cleanup.push(staging.stop, prod.stop)
    index = await staging.client.pushIndex('staging/app', ['amd64', 'arm64', 's390x'])
    tool = await staging.client.pushImage('staging/tool')
    files = manifest(`${staging.host}/staging`, `${prod.host}/prod`, [
      ['app', index.digest, ['v1.0', 'latest']],
      ['tool', tool.digest, ['v2']],
    ])
    credentials = dockerConfig(prod.host)
    cleanup.push(() => rmSync(credentials, { recursive: true, force: true }))
  })
  after(async () => {
    for (const stop of cleanup.reverse()) await stop()
  })

  test('planOnline reads the registries and plans without writing', async () => {
    const plan = await cip.planOnline(files, { dockerConfigDir: credentials })
    assert.deepEqual(plan.summary, { copy: 3, tag: 0, present: 0, blocked: 0 }, 'three edges: two tags of app, one of tool')
    assert.deepEqual(plan.actions.map((a) => [a.action, a.dst, a.tags]), [
      ['copy', `${prod.host}/prod/app`, ['latest', 'v1.0']],
      ['copy', `${prod.host}/prod/tool`, ['v2']],
    ])
    assert.deepEqual(await prod.client.tags('prod/app'), [])
  })

  test('a dry run gives exactly the JSON of `cip promote --format json`', { skip: !existsSync(CIP_BIN) && `no CLI at ${CIP_BIN}` }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cip-node-cli-'))
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text)
      const cli = spawnSync(CIP_BIN, ['promote', '--format', 'json', ...Object.keys(files)], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60000,
        env: { ...process.env, DOCKER_CONFIG: credentials },
      })
      assert.equal(cli.status, 0, cli.stderr)
      const result = await cip.promote(files, { dockerConfigDir: credentials })
      assert.equal(`${JSON.stringify(result, null, 2)}\n`, cli.stdout)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('promote copies the index, its children and the image, with ordered events', async () => {
    const events = []
    const result = await cip.promote(files, { confirm: true, dockerConfigDir: credentials, onProgress: (e) => events.push(e) })
    assert.equal(result.report.summary.failed, 0, JSON.stringify(result.report))
    assert.equal(result.report.summary.done, result.plan.actions.length)
    assert.equal(result.report.summary.manifests, 5, 'index + 3 children + image')
    // The index is complete (children and blobs) under both tags, the image under its tag.
    assert.equal(await prod.client.assertComplete('prod/app', 'v1.0'), index.digest)
    assert.equal(await prod.client.assertComplete('prod/app', 'latest'), index.digest)
    assert.equal(await prod.client.assertComplete('prod/tool', 'v2'), tool.digest)
    // Events: numbered in order, phases in order, counters monotonic and complete at the end.
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i))
    const phases = events.filter((e) => e.type === 'phase').map((e) => e.phase)
    assert.deepEqual(phases, ['reading', 'planning', 'promoting', 'done'])
    const planEvent = events.find((e) => e.type === 'plan')
    assert.equal(planEvent.actions, result.plan.actions.length)
    assert.ok(events.indexOf(planEvent) < events.findIndex((e) => e.phase === 'promoting'))
    const progress = events.filter((e) => e.type === 'progress')
    assert.ok(progress.length >= 1)
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].imagesDone >= progress[i - 1].imagesDone)
    const last = progress.at(-1)
    assert.equal(last.imagesDone, last.imagesTotal)
    assert.equal(last.imagesTotal, result.plan.actions.length)
    assert.equal(events.at(-1).phase, 'done')
    // One `action` event per action, while promoting, naming what the report records.
    const actions = events.filter((e) => e.type === 'action')
    assert.deepEqual(actions.map((e) => e.index).sort(), result.plan.actions.map((_, i) => i))
    const promoting = events.findIndex((e) => e.phase === 'promoting')
    for (const e of actions) {
      const planned = result.plan.actions[e.index]
      assert.deepEqual([e.action, e.dst, e.digest, e.tags, e.result], [planned.action, planned.dst, planned.digest, planned.tags, 'done'])
      assert.ok(events.indexOf(e) > promoting && events.indexOf(e) < events.length - 1)
    }
  })

  test('the re-run does nothing', async () => {
    const events = []
    const result = await cip.promote(files, { confirm: true, dockerConfigDir: credentials, onProgress: (e) => events.push(e) })
    assert.deepEqual(result.plan.actions, [])
    assert.equal(result.plan.summary.present, 3)
    assert.equal(result.report, undefined)
    assert.ok(!events.some((e) => e.phase === 'promoting'))
  })

  test('readInventory reads what the manifests need', async () => {
    const inventory = await cip.readInventory({ manifests: files, dockerConfigDir: credentials })
    assert.deepEqual(inventory.repositories[`${prod.host}/prod/app`][index.digest].tags, ['latest', 'v1.0'])
    // The result plans like the registries themselves: nothing left to do.
    assert.deepEqual(cip.plan(files, inventory).actions, [])
  })

  test('a wrong password rejects with a clear error naming the registry', async () => {
    const wrong = dockerConfig(prod.host, 'cip', 'not-the-password')
    try {
      await assert.rejects(cip.promote(files, { confirm: true, dockerConfigDir: wrong }), (e) => {
        assert.ok(e instanceof Error)
        assert.equal(e.code, 'CIP_AUTH')
        assert.equal(e.registry, prod.host)
        assert.match(e.repository, /^prod\//)
        assert.match(e.message, /authentication/)
        assert.ok(!e.message.includes('not-the-password'), 'the password never appears')
        return true
      })
    } finally {
      rmSync(wrong, { recursive: true, force: true })
    }
  })

  test('one error mapping: every engine path rejects a refused login with CIP_AUTH, registry and repository', async () => {
    // Before the engine had one reader and one error type, reading whole registries (the
    // snapshot path) rejected with a generic CIP_REGISTRY while promote rejected with CIP_AUTH.
    const wrong = dockerConfig(prod.host, 'cip', 'not-the-password')
    try {
      const refused = (e) => {
        assert.equal(e.code, 'CIP_AUTH', e.message)
        assert.equal(e.registry, prod.host)
        assert.ok(!e.message.includes('not-the-password'), 'the password never appears')
        return true
      }
      await assert.rejects(cip.readInventory({ registries: [`${prod.host}/prod`], dockerConfigDir: wrong }), refused)
      await assert.rejects(cip.readInventory({ manifests: files, dockerConfigDir: wrong }), refused)
      await assert.rejects(cip.planOnline(files, { dockerConfigDir: wrong }), refused)
      await assert.rejects(cip.promote(files, { confirm: true, dockerConfigDir: wrong }), refused)
    } finally {
      rmSync(wrong, { recursive: true, force: true })
    }
  })

  test('credentials as in the CLI: authEnv (HOST=VAR) and credentials given directly', async () => {
    const need = { manifests: files, noDockerConfig: true }
    await assert.rejects(cip.readInventory(need), { code: 'CIP_AUTH', registry: prod.host })
    process.env.CIP_NODE_TEST_AUTH = 'cip:s3cret-pass'
    try {
      const viaEnv = await cip.readInventory({ ...need, authEnv: { [prod.host]: 'CIP_NODE_TEST_AUTH' } })
      assert.ok(viaEnv.repositories[`${prod.host}/prod/app`])
    } finally {
      delete process.env.CIP_NODE_TEST_AUTH
    }
    await assert.rejects(cip.readInventory({ ...need, authEnv: { [prod.host]: 'CIP_NODE_TEST_UNSET' } }), {
      code: 'ERR_INVALID_ARG_VALUE',
      message: /CIP_NODE_TEST_UNSET is not set/,
    })
    const direct = await cip.readInventory({ ...need, credentials: { [prod.host]: { username: 'cip', password: 's3cret-pass' } } })
    assert.deepEqual(direct, await cip.readInventory({ manifests: files, dockerConfigDir: credentials }))
  })

  test('a dry run writes nothing and has no report', async () => {
    const fresh = await startRegistry()
    try {
      const dry = manifest(`${staging.host}/staging`, `${fresh.host}/prod`, [['tool', tool.digest, ['v2']]])
      const result = await cip.promote(dry, {})
      assert.equal(result.plan.actions.length, 1)
      assert.equal(result.report, undefined)
      assert.deepEqual(await fresh.client.tags('prod/tool'), [])
    } finally {
      await fresh.stop()
    }
  })
})

describe('abort and resume', { skip }, () => {
  test('an abort midway leaves no tag on an incomplete image; the re-run completes', async () => {
    const staging = await startRegistry()
    const prod = await startRegistry()
    // Every blob read from staging waits, so the promotion takes long enough to abort midway.
    const slow = await startSlowProxy(staging.url, 120)
    try {
      const images = []
      for (let i = 0; i < 6; i++) images.push([`img${i}`, (await staging.client.pushImage(`staging/img${i}`)).digest, [`v${i}`]])
      const files = manifest(`${slow.host}/staging`, `${prod.host}/prod`, images)
      const controller = new AbortController()
      const events = []
      const run = cip.promote(files, {
        confirm: true,
        jobs: 1,
        signal: controller.signal,
        onProgress: (e) => {
          events.push(e)
          if (e.type === 'progress' && e.imagesDone >= 1) controller.abort()
        },
      })
      await assert.rejects(run, { name: 'AbortError', code: 'ABORT_ERR' })
      // Whatever carries a tag is complete; something is still missing.
      let tagged = 0
      for (const [name, digest, [tag]] of images) {
        if ((await prod.client.tags(`prod/${name}`)).includes(tag)) {
          assert.equal(await prod.client.assertComplete(`prod/${name}`, tag), digest)
          tagged++
        }
      }
      assert.ok(tagged >= 1 && tagged < images.length, `${tagged} of ${images.length} images tagged after the abort`)

      // The re-run finishes the rest, and the event loop keeps running meanwhile.
      let ticks = 0
      const timer = setInterval(() => { ticks++ }, 10)
      let result
      try {
        // `concurrency`: the deprecated name of `jobs`, still accepted.
        result = await cip.promote(files, { confirm: true, concurrency: 1 })
      } finally {
        clearInterval(timer)
      }
      assert.equal(result.report.summary.failed, 0)
      assert.equal(result.report.summary.done, images.length - tagged)
      for (const [name, digest, [tag]] of images) assert.equal(await prod.client.assertComplete(`prod/${name}`, tag), digest)
      assert.ok(ticks >= 5, `the timer fired only ${ticks} times during a promotion of ${result.report.summary.millis} ms`)
      // An already-aborted signal rejects at once and writes nothing.
      await assert.rejects(cip.promote(files, { confirm: true, signal: AbortSignal.abort() }), { name: 'AbortError' })
    } finally {
      await slow.stop()
      await staging.stop()
      await prod.stop()
    }
  })
})
