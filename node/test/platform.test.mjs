// The loader's choice of addon (platform.js) for platforms this machine is not, and the one
// platform list agreeing everywhere it is written: platform.js, the optionalDependencies pack.mjs
// publishes, package.json's napi.targets and the npm/<platform>/package.json that npm filters on
// (os, cpu, libc).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { PLATFORMS, libc, platformName, rustTarget, missingAddonMessage } = require('../platform.js')
const main = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const { publishedManifest } = await import('../pack.mjs')
const platformPackage = (name) => JSON.parse(readFileSync(new URL(`../npm/${name}/package.json`, import.meta.url), 'utf8'))

test('glibc or musl comes from the diagnostic report', () => {
  assert.equal(libc({ header: { glibcVersionRuntime: '2.36' }, sharedObjects: ['/lib/x86_64-linux-gnu/libc.so.6'] }), 'gnu')
  assert.equal(libc({ header: {}, sharedObjects: ['/lib/ld-musl-x86_64.so.1'] }), 'musl')
  assert.equal(libc(null), 'gnu')
  assert.equal(platformName('linux', 'x64', { header: { glibcVersionRuntime: '2.36' } }), 'linux-x64-gnu')
  assert.equal(platformName('linux', 'x64', { header: {} }), 'linux-x64-musl')
  assert.equal(platformName('linux', 'arm64', { header: { glibcVersionRuntime: '2.31' } }), 'linux-arm64-gnu')
  assert.equal(platformName('darwin', 'arm64', null), 'darwin-arm64')
  assert.equal(platformName('win32', 'x64', null), 'win32-x64-msvc')
  // This process: the report Node gives really has the field the choice rests on.
  if (process.platform === 'linux') assert.equal(libc(process.report.getReport()), 'gnu')
})

test('Rust targets: the shipped ones from the table, others derived', () => {
  assert.equal(rustTarget('linux-x64-musl'), 'x86_64-unknown-linux-musl')
  assert.equal(rustTarget('linux-riscv64-gnu'), 'riscv64gc-unknown-linux-gnu')
  assert.equal(rustTarget('freebsd-x64'), 'x86_64-unknown-freebsd')
})

test('the missing-addon message names the platform, the target and both ways out', () => {
  const shipped = missingAddonMessage({
    name: 'linux-x64-musl',
    version: '1.2.3',
    nodeVersion: 'v20.0.0',
    tried: ['cip-node-linux-x64-musl: not installed'],
    repository: 'https://example.invalid/cip',
  })
  assert.match(shipped, /no native addon loaded for linux-x64-musl \(Rust target x86_64-unknown-linux-musl, Node v20\.0\.0\)/)
  assert.match(shipped, /npm install cip-node-linux-x64-musl@1\.2\.3/)
  assert.match(shipped, /\.\/build\.sh x86_64-unknown-linux-musl/)
  assert.doesNotMatch(shipped, /npm has a bug/)
  const other = missingAddonMessage({ name: 'linux-riscv64-gnu', version: '1.2.3', nodeVersion: 'v20.0.0', tried: [], repository: 'r' })
  assert.match(other, /no prebuilt addon for linux-riscv64-gnu; prebuilt: linux-x64-gnu, /)
  assert.doesNotMatch(other, /npm install/)
})

test('one platform list: platform.js, optionalDependencies, napi.targets and npm/<platform>', () => {
  const names = Object.keys(PLATFORMS).sort()
  const published = publishedManifest()
  assert.deepEqual(readdirSync(new URL('../npm/', import.meta.url)).sort(), names)
  assert.deepEqual(Object.keys(published.optionalDependencies).sort(), names.map((n) => `cip-node-${n}`))
  assert.equal(main.optionalDependencies, undefined, 'optionalDependencies are added at pack time (npm ci here would look for them)')
  assert.equal(published.scripts, undefined)
  assert.deepEqual([...main.napi.targets].sort(), names.map((n) => PLATFORMS[n].rust).sort())
  for (const name of names) {
    const pkg = platformPackage(name)
    const [os, cpu, abi] = name.split('-')
    assert.equal(pkg.name, `cip-node-${name}`)
    assert.equal(pkg.version, main.version, name)
    assert.equal(published.optionalDependencies[pkg.name], main.version, name)
    assert.equal(pkg.main, `cip.${name}.node`)
    assert.deepEqual(pkg.files, [pkg.main])
    assert.deepEqual(pkg.os, [os])
    assert.deepEqual(pkg.cpu, [cpu])
    // npm's libc filter: glibc or musl on Linux, absent elsewhere (msvc is not a libc).
    assert.deepEqual(pkg.libc, os === 'linux' ? [abi === 'gnu' ? 'glibc' : abi] : undefined, name)
    for (const field of ['license', 'repository', 'homepage', 'bugs', 'engines']) assert.deepEqual(pkg[field] !== undefined, true, `${name}: ${field}`)
    assert.equal(pkg.license, main.license)
    assert.deepEqual(pkg.engines, main.engines)
    assert.match(pkg.description, PLATFORMS[name].tested ? /^(?!.*untested)/ : /untested/, name)
  }
})
