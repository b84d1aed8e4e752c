// The published packages as a user gets them: the tarballs `npm run pack` wrote to dist/ (cip-node
// and one cip-node-<platform> per built addon) installed into fresh projects, as `npm install`
// would, then used from ESM, CommonJS and TypeScript (tsc, module nodenext).
//
// Every platform package is offered to npm at once (as optional dependencies, like cip-node's own
// optionalDependencies); npm must keep only the one whose os/cpu/libc fit. The platforms:
//   linux-x64-gnu    installed and run here
//   linux-arm64-gnu  installed with npm's --cpu=arm64 and run by an arm64 Node under qemu-user
//                    (CIP_ARM64_NODE: its path; QEMU_AARCH64_SYSROOT: the arm64 libc, Debian's
//                    libc6-arm64-cross); node/ci.sh provides both
//   linux-x64-musl   installed with --libc=musl; not run (no musl Node is to be had here): its ELF
//                    header, loader dependencies, symbol versions and Node-API entry point are
//                    checked, every symbol it imports (but weak ones) must be Node-API's, the
//                    unwinder's or exported by musl's libc (Debian's musl package), and the
//                    loader must pick it for a process that reports no glibc.
// The tarballs themselves pass @arethetypeswrong/cli, publint and `npm publish --dry-run`.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freshProject, nodenextTsconfig, ok, run, tarballs } from '../../tests/js/fresh-project.mjs'

const nodeDir = fileURLToPath(new URL('..', import.meta.url))
const bin = (name) => path.join(nodeDir, 'node_modules/.bin', name)
const tsc = path.join(nodeDir, 'node_modules/typescript/bin/tsc')
const { version } = JSON.parse(readFileSync(path.join(nodeDir, 'package.json'), 'utf8'))
const PLATFORMS = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu']
const PLATFORMS_ALL = [...PLATFORMS, 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']

const MANIFEST = `registries:\n- name: gcr.io/staging\n  src: true\n- name: gcr.io/prod\nimages:\n- name: app\n  dmap:\n    "sha256:${'a'.repeat(64)}": [v1]\n`

// What the JS consumers check, for the API object they got (default and named).
const CHECKS = `
async function check(cip, named) {
  if (cip.lint !== named.lint) throw new Error('default and named exports differ')
  const report = cip.lint(${JSON.stringify(MANIFEST)})
  if (report.summary.errors !== 0 || report.summary.digests !== 1) throw new Error('lint: ' + JSON.stringify(report))
  const later = await cip.lintAsync({ 'a.yaml': ${JSON.stringify(MANIFEST)} })
  const plan = cip.plan(${JSON.stringify(MANIFEST)}, { repositories: { 'gcr.io/staging/app': { ['sha256:' + 'a'.repeat(64)]: { tags: ['v1'] } }, 'gcr.io/prod/app': {} } })
  let code = 'no error'
  try { cip.lint(42) } catch (e) { code = e.code }
  return [cip.version(), later.summary.digests, plan.actions.length, code].join(' ')
}
`
const EXPECTED = `${version} 1 1 ERR_INVALID_ARG_TYPE`
const CONSUMERS = {
  'esm.mjs': `import cip from 'cip-node'\nimport * as named from 'cip-node'\n${CHECKS}\nconsole.log(await check(cip, named))\n`,
  'cjs.cjs': `const cip = require('cip-node')\n${CHECKS}\ncheck(cip, cip).then(console.log)\n`,
}
const TS_BODY = `
const report: LintReport = cip.lint(${JSON.stringify(MANIFEST)})
const plan: Promise<Plan> = named.planAsync('', { repositories: {} }, { strict: true })
const options: PromoteOptions = { confirm: false, jobs: 2 }
try { named.lint(42 as unknown as string) } catch (e) { console.log((e as CipError).code) }
plan.then((p) => console.log(report.summary.errors, p.actions.length, options.jobs))
`
const TS_CONSUMERS = {
  'ts-esm.mts': `import cip from 'cip-node'\nimport * as named from 'cip-node'\nimport type { CipError, LintReport, Plan, PromoteOptions } from 'cip-node'\n${TS_BODY}`,
  'ts-cjs.cts': `import cip = require('cip-node')\nimport named = require('cip-node')\nimport type { CipError, LintReport, Plan, PromoteOptions } from 'cip-node'\n${TS_BODY}`,
  'tsconfig.json': nodenextTsconfig(['ts-esm.mts', 'ts-cjs.cts'], { noEmit: false, outDir: 'out' }),
}

let all
const tarball = (name) => {
  const file = all.find((f) => path.basename(f) === `${name}-${version}.tgz`)
  assert.ok(file, `dist/ lacks ${name}-${version}.tgz (built: ${all.map((f) => path.basename(f)).join(', ')}); run ./build.sh for its target, then npm run pack`)
  return file
}
const projects = []
function install(files, npmArgs = []) {
  const p = freshProject(files, { npmArgs, files: { ...CONSUMERS, ...TS_CONSUMERS } })
  projects.push(p)
  assert.equal(p.install.status, 0, p.install.text)
  return p
}
// The main package and every platform package, offered as optional, as cip-node offers them.
const everything = () => [tarball('cip-node'), ...PLATFORMS.map((p) => tarball(`cip-node-${p}`))]

before(() => {
  all = tarballs(path.join(nodeDir, 'dist'))
})
after(() => projects.forEach((p) => p.dispose()))

test('linux-x64-gnu: npm keeps that platform package; ESM, CommonJS and TypeScript consumers run', () => {
  const p = install(everything(), ['--save-optional'])
  assert.deepEqual(p.installed(), ['cip-node', 'cip-node-linux-x64-gnu'])
  // The published manifest names every platform package as an optional dependency.
  const published = JSON.parse(readFileSync(path.join(p.dir, 'node_modules/cip-node/package.json'), 'utf8'))
  assert.deepEqual(Object.keys(published.optionalDependencies).sort(), PLATFORMS_ALL.map((n) => `cip-node-${n}`).sort())
  assert.ok(Object.values(published.optionalDependencies).every((v) => v === version))
  for (const file of Object.keys(CONSUMERS)) {
    assert.equal(ok(process.execPath, [file], { cwd: p.dir }).stdout.trim(), EXPECTED, file)
  }
  ok(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: p.dir })
  for (const out of ['out/ts-esm.mjs', 'out/ts-cjs.cjs']) {
    assert.equal(ok(process.execPath, [out], { cwd: p.dir }).stdout, 'ERR_INVALID_ARG_TYPE\n0 0 2\n', out)
  }
  // The shipped addon is the stripped release build: no symbol table, no debug sections.
  const addon = path.join(p.dir, 'node_modules/cip-node-linux-x64-gnu/cip.linux-x64-gnu.node')
  const sections = ok('readelf', ['-S', '-W', addon]).stdout
  assert.doesNotMatch(sections, /\.symtab|\.debug_/, 'the addon is not stripped')
})

test('without its platform package the error names the platform and how to install or build it', () => {
  const p = install([tarball('cip-node')])
  assert.deepEqual(p.installed(), ['cip-node'])
  const r = run(process.execPath, ['cjs.cjs'], { cwd: p.dir })
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /code: 'ERR_CIP_NODE_ADDON'/)
  assert.match(r.stderr, /no native addon loaded for linux-x64-gnu \(Rust target x86_64-unknown-linux-gnu, Node v/)
  assert.match(r.stderr, /cip-node-linux-x64-gnu: not installed/)
  assert.match(r.stderr, new RegExp(`npm install cip-node-linux-x64-gnu@${version.replaceAll('.', '\\.')}`))
  assert.match(r.stderr, /cd node && npm ci && \.\/build\.sh x86_64-unknown-linux-gnu/)
  assert.doesNotMatch(r.stderr, /npm has a bug/)
  // ESM reports the same.
  assert.match(run(process.execPath, ['esm.mjs'], { cwd: p.dir }).stderr, /ERR_CIP_NODE_ADDON/)
})

test('linux-arm64-gnu: npm --cpu=arm64 keeps that package, and an arm64 Node runs the consumers under qemu', () => {
  const node = process.env.CIP_ARM64_NODE
  const sysroot = process.env.QEMU_AARCH64_SYSROOT || '/usr/aarch64-linux-gnu'
  assert.ok(node && existsSync(node), 'CIP_ARM64_NODE must name an arm64 Node binary (node/ci.sh fetches one)')
  const p = install(everything(), ['--save-optional', '--cpu=arm64', '--os=linux', '--libc=glibc'])
  assert.deepEqual(p.installed(), ['cip-node', 'cip-node-linux-arm64-gnu'])
  const addon = path.join(p.dir, 'node_modules/cip-node-linux-arm64-gnu/cip.linux-arm64-gnu.node')
  assert.match(ok('readelf', ['-h', addon]).stdout, /Machine:\s+AArch64/)
  // The TypeScript consumers are compiled here (tsc is JavaScript) and their output run there.
  ok(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: p.dir })
  const arm = (file) => ok('qemu-aarch64', ['-L', sysroot, node, file], { cwd: p.dir }).stdout
  assert.equal(ok('qemu-aarch64', ['-L', sysroot, node, '-p', 'process.arch'], { cwd: p.dir }).stdout.trim(), 'arm64')
  for (const file of Object.keys(CONSUMERS)) assert.equal(arm(file).trim(), EXPECTED, file)
  for (const out of ['out/ts-esm.mjs', 'out/ts-cjs.cjs']) assert.equal(arm(out), 'ERR_INVALID_ARG_TYPE\n0 0 2\n', out)
})

test('linux-x64-musl: npm --libc=musl keeps that package; its ELF fits musl and the loader picks it', () => {
  const p = install(everything(), ['--save-optional', '--libc=musl'])
  assert.deepEqual(p.installed(), ['cip-node', 'cip-node-linux-x64-musl'])
  const addon = path.join(p.dir, 'node_modules/cip-node-linux-x64-musl/cip.linux-x64-musl.node')
  const header = ok('readelf', ['-h', addon]).stdout
  assert.match(header, /Type:\s+DYN/)
  assert.match(header, /Machine:\s+Advanced Micro Devices X86-64/)
  const dynamic = ok('readelf', ['-d', '-W', addon]).stdout
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)].map((m) => m[1])
  // musl's libc is libc.so (one library: no libm, libpthread, libdl); libgcc_s is the unwinder.
  assert.ok(needed.includes('libc.so'), `NEEDED: ${needed}`)
  assert.deepEqual(needed.filter((n) => !['libc.so', 'libgcc_s.so.1'].includes(n)), [], `NEEDED: ${needed}`)
  assert.doesNotMatch(ok('readelf', ['-V', '-W', addon]).stdout, /GLIBC_/, 'the addon asks for glibc symbol versions')
  const symbols = ok('readelf', ['--dyn-syms', '-W', addon]).stdout.split('\n').map((l) => l.trim().split(/\s+/))
  // Num: Value Size Type Bind Vis Ndx Name
  const defined = new Set(symbols.filter((s) => s.length >= 8 && s[6] !== 'UND').map((s) => s[7]))
  // Weak imports may stay unresolved (aws-lc's optional allocator hooks, glibc-only extras).
  const imported = symbols.filter((s) => s.length >= 8 && s[6] === 'UND' && s[7] && s[4] !== 'WEAK').map((s) => s[7].replace(/@.*/, ''))
  assert.ok(defined.has('napi_register_module_v1'), 'the Node-API entry point is not exported')
  const musl = muslExports()
  assert.ok(imported.length > 100, `only ${imported.length} imported symbols read`)
  const unresolved = imported.filter((s) => !/^(napi_|node_api_|_Unwind_)/.test(s) && !musl.has(s))
  assert.deepEqual(unresolved, [], 'symbols neither Node-API nor in musl libc nor the unwinder')
  // The loader asks for the musl package when the process reports no glibc; under this glibc
  // Node, loading it must then fail in the dynamic loader, naming that package.
  p.write('fake-musl.cjs', `const real = process.report.getReport.bind(process.report)\nprocess.report.getReport = () => { const r = real(); delete r.header.glibcVersionRuntime; return r }\n`)
  const r = run(process.execPath, ['--require', './fake-musl.cjs', 'cjs.cjs'], { cwd: p.dir })
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /no native addon loaded for linux-x64-musl \(Rust target x86_64-unknown-linux-musl/)
  assert.match(r.stderr, /- cip-node-linux-x64-musl: /)
  assert.doesNotMatch(r.stderr, /cip-node-linux-x64-musl: not installed/)
})

// The dynamic symbols musl's C library exports (Debian's musl package, which musl-tools pulls in).
function muslExports() {
  const lib = '/usr/lib/x86_64-linux-musl/libc.so'
  assert.ok(existsSync(lib), `${lib} is missing: install Debian's musl (musl-tools)`)
  const out = ok('readelf', ['--dyn-syms', '-W', lib]).stdout
  return new Set(
    out
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((s) => s.length >= 8 && s[6] !== 'UND')
      .map((s) => s[7].replace(/@.*/, '')),
  )
}

test('@arethetypeswrong/cli and publint find no problem in cip-node', () => {
  const attw = run(bin('attw'), [tarball('cip-node'), '--format', 'table-flipped'], { cwd: nodeDir })
  assert.equal(attw.status, 0, attw.text)
  assert.match(attw.stdout, /No problems found/, attw.text)
  const p = install([tarball('cip-node')])
  const publint = run(bin('publint'), ['--strict', path.join(p.dir, 'node_modules/cip-node')], { cwd: nodeDir })
  assert.equal(publint.status, 0, publint.text)
  assert.doesNotMatch(publint.stdout + publint.stderr, /warn|error|suggest/i, publint.text)
})

test('npm publish --dry-run is clean for every tarball', () => {
  for (const file of all) {
    const r = run('npm', ['publish', '--dry-run', '--offline', '--ignore-scripts', file], { cwd: nodeDir })
    assert.equal(r.status, 0, r.text)
    // The one warning a dry run gives without a registry login is about that login.
    const complaints = r.stderr.split('\n').filter((l) => /npm (warn|error)/i.test(l) && !/requires you to be logged in/.test(l))
    assert.deepEqual(complaints, [], r.text)
    assert.match(r.stdout, new RegExp(`^\\+ ${path.basename(file, `-${version}.tgz`)}@${version.replaceAll('.', '\\.')}$`, 'm'), r.text)
  }
})
