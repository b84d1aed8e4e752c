// The example scripts run as a user would run them (child processes): lint-changed.mjs on a git
// repository with a staged change, promote.mjs on a thin-manifest directory against real
// registries on 127.0.0.1.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { REGISTRY_BINARY, startRegistry, startSlowProxy } from '../test-support/registry.mjs'

const examples = path.join(path.dirname(fileURLToPath(import.meta.url)), '../examples')
const run = (script, args, cwd) =>
  spawnSync(process.execPath, [path.join(examples, script), ...args], { cwd, encoding: 'utf8', timeout: 120000 })

/** Like `run`, without blocking this process (whose event loop serves the slow proxy). */
function runAsync(script, args, cwd) {
  const child = spawn(process.execPath, [path.join(examples, script), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => { stdout += d })
  child.stderr.on('data', (d) => { stderr += d })
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stdout, stderr })))
}

/** A thin-manifest directory with one image set. */
function thinDir(root, source, destination, digest, tags) {
  mkdirSync(path.join(root, 'manifests/app'), { recursive: true })
  mkdirSync(path.join(root, 'images/app'), { recursive: true })
  writeFileSync(
    path.join(root, 'manifests/app/promoter-manifest.yaml'),
    `registries:\n- name: ${source}\n  src: true\n- name: ${destination}\n`,
  )
  writeFileSync(path.join(root, 'images/app/images.yaml'), `- name: app\n  dmap:\n    "${digest}": [${tags.map((t) => `"${t}"`).join(', ')}]\n`)
}

test('lint-changed.mjs lints the staged manifest set and fails on errors', () => {
  const repo = mkdtempSync(path.join(tmpdir(), 'cip-node-git-'))
  try {
    const git = (...args) => execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], { cwd: repo })
    git('init', '-q')
    thinDir(path.join(repo, 'k8s'), 'gcr.io/k8s-staging-app', 'gcr.io/k8s-prod', `sha256:${'1'.repeat(64)}`, ['v1'])
    git('add', '.')
    git('commit', '-qm', 'init')
    const clean = run('lint-changed.mjs', ['--staged'], repo)
    assert.equal(clean.status, 0, clean.stderr)
    appendFileSync(path.join(repo, 'k8s/images/app/images.yaml'), '    "sha256:abc": ["v2"]\n')
    git('add', '.')
    const bad = run('lint-changed.mjs', ['--staged', '--format', 'github'], repo)
    assert.equal(bad.status, 1, bad.stdout + bad.stderr)
    assert.match(bad.stdout, /^::error file=k8s\/images\/app\/images\.yaml,line=4,/m)
    const usage = run('lint-changed.mjs', [], repo)
    assert.equal(usage.status, 2)
  } finally {
    rmSync(repo, { recursive: true, force: true })
  }
})

test('promote.mjs promotes a thin-manifest directory and writes the report', { skip: !existsSync(REGISTRY_BINARY) && `${REGISTRY_BINARY} is missing` }, async () => {
  const staging = await startRegistry()
  const prod = await startRegistry()
  const work = mkdtempSync(path.join(tmpdir(), 'cip-node-promote-'))
  try {
    const index = await staging.client.pushIndex('staging/app', ['amd64', 'arm64'])
    thinDir(path.join(work, 'release'), `${staging.host}/staging`, `${prod.host}/prod`, index.digest, ['v1.0'])
    // Without a terminal and without --yes, nothing happens.
    const asked = run('promote.mjs', ['release'], work)
    assert.equal(asked.status, 2, asked.stderr)
    assert.match(asked.stderr, /--yes/)
    assert.deepEqual(await prod.client.tags('prod/app'), [])

    const done = run('promote.mjs', ['release', '--yes', '--report', 'report.json'], work)
    assert.equal(done.status, 0, done.stdout + done.stderr)
    assert.match(done.stdout, /^copy /m)
    const report = JSON.parse(readFileSync(path.join(work, 'report.json'), 'utf8'))
    assert.equal(report.report.summary.done, 1)
    assert.equal(await prod.client.assertComplete('prod/app', 'v1.0'), index.digest)

    const again = run('promote.mjs', ['release', '--yes'], work)
    assert.equal(again.status, 0, again.stderr)
    assert.match(again.stdout, /nothing to do/)
  } finally {
    rmSync(work, { recursive: true, force: true })
    await staging.stop()
    await prod.stop()
  }
})

test('promote.mjs stops cleanly on Ctrl-C (SIGINT) and a re-run finishes', { skip: !existsSync(REGISTRY_BINARY) && `${REGISTRY_BINARY} is missing` }, async () => {
  const staging = await startRegistry()
  const prod = await startRegistry()
  const slow = await startSlowProxy(staging.url, 150)
  const work = mkdtempSync(path.join(tmpdir(), 'cip-node-sigint-'))
  try {
    const index = await staging.client.pushIndex('staging/app', ['amd64', 'arm64', 'ppc64le', 's390x'])
    thinDir(path.join(work, 'release'), `${slow.host}/staging`, `${prod.host}/prod`, index.digest, ['v1.0'])
    const child = spawn(process.execPath, [path.join(examples, 'promote.mjs'), 'release', '--yes', '--jobs', '1'], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr += d
      // Off a terminal the script logs phases; interrupt once copying has started.
      if (stderr.includes('phase: promoting') && !child.interrupted) {
        child.interrupted = true
        setTimeout(() => child.kill('SIGINT'), 200)
      }
    })
    const status = await new Promise((resolve) => child.on('exit', resolve))
    assert.equal(status, 1, stderr)
    assert.match(stderr, /aborted: images not finished carry no tag/)
    assert.deepEqual(await prod.client.tags('prod/app'), [], 'no tag on the interrupted index')
    const again = await runAsync('promote.mjs', ['release', '--yes'], work)
    assert.equal(again.status, 0, again.stderr)
    assert.equal(await prod.client.assertComplete('prod/app', 'v1.0'), index.digest)
  } finally {
    rmSync(work, { recursive: true, force: true })
    await slow.stop()
    await staging.stop()
    await prod.stop()
  }
})
