#!/usr/bin/env node
// A release team's promotion script, to adapt: reads a thin-manifest directory, lints it, shows
// the plan, asks for confirmation (or --yes), promotes with a live progress line, and writes a
// JSON report (the same document `cip promote --format json` prints).
//
//   node promote.mjs ./k8s.gcr.io                       # lint + plan, then ask
//   node promote.mjs ./k8s.gcr.io --yes --report out.json
//   node promote.mjs ./k8s.gcr.io --dest us-docker.pkg.dev/k8s-artifacts-prod/images
//
// Credentials are the CLI's: Docker's config.json (DOCKER_CONFIG or ~/.docker) and, for Google
// registries only, Google application default credentials. Ctrl-C stops the run cleanly (no tag
// is set for an image that is not complete); running the script again finishes the work.
// Exit status: 0 done (or nothing to do), 1 findings, blocked edges or failed actions, 2 errors.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline/promises'
import { parseArgs } from 'node:util'
import { lint, planOnline, promote } from 'cip-node'

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    yes: { type: 'boolean', short: 'y', default: false },
    report: { type: 'string', default: 'promotion-report.json' },
    dest: { type: 'string', multiple: true, default: [] },
    jobs: { type: 'string', default: '16' },
    strict: { type: 'boolean', default: false },
    'insecure-registry': { type: 'string', multiple: true, default: [] },
  },
})
if (positionals.length !== 1) usage('give exactly one thin-manifest directory')
const root = positionals[0].replace(/\/+$/, '')

// 1. Read the thin-manifest directory: <root>/manifests/<x>/promoter-manifest.yaml and
//    <root>/images/<x>/images.yaml, keyed by path (the addon recognises the layout from them).
const files = {}
for (const [sub, name] of [['manifests', 'promoter-manifest.yaml'], ['images', 'images.yaml']]) {
  const dir = path.join(root, sub)
  let entries = []
  try { entries = readdirSync(dir).sort() } catch { continue }
  for (const entry of entries) {
    const file = path.join(dir, entry, name)
    if (statSync(path.join(dir, entry)).isDirectory() && safeIsFile(file)) {
      files[`${root}/${sub}/${entry}/${name}`] = readFileSync(file, 'utf8')
    }
  }
}
if (Object.keys(files).length === 0) fail(`${root} holds no manifests/<x>/promoter-manifest.yaml`, 2)

// 2. Lint: errors stop here (the planner would block the edges they concern anyway).
const report = lint(files)
for (const d of report.diagnostics) {
  console.error(`${d.file}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}${d.help ? `\n  help: ${d.help}` : ''}`)
}
const s = report.summary
console.error(`${s.manifests} manifests, ${s.images} images, ${s.digests} digests, ${s.tags} tags: ${s.errors} errors, ${s.warnings} warnings`)
if (s.errors > 0) fail('fix the errors above first', 1)

// 3. Plan against the registries (reads only: one HEAD per tag at the destinations).
const engine = { dest: opts.dest, strict: opts.strict, insecureRegistry: opts['insecure-registry'] }
const plan = await planOnline(files, engine).catch(registryFailure)
for (const a of plan.actions) console.log(`${a.action.padEnd(4)} ${a.dst}@${a.digest.slice(0, 19)}… ${a.tags.join(', ') || '(untagged)'}`)
for (const b of plan.blocked) console.log(`BLOCKED ${b.dst}@${b.digest.slice(0, 19)}… ${b.tags.join(', ')}: ${b.reasons.join(', ')}`)
const p = plan.summary
console.log(`plan: ${plan.actions.length} actions (${p.copy} tags by copy, ${p.tag} by tagging), ${p.present} present, ${p.blocked} blocked`)
if (plan.actions.length === 0) {
  console.log('nothing to do')
  process.exit(p.blocked > 0 ? 1 : 0)
}

// 4. Confirm.
if (!opts.yes) {
  if (!process.stdin.isTTY) fail('not a terminal: pass --yes to promote without asking', 2)
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  const answer = await rl.question(`promote ${plan.actions.length} actions? [y/N] `)
  rl.close()
  if (!/^y(es)?$/i.test(answer.trim())) fail('not promoted', 1)
}

// 5. Promote with a live progress line; Ctrl-C aborts cleanly.
const controller = new AbortController()
process.once('SIGINT', () => {
  process.stderr.write('\nstopping (Ctrl-C again to kill)…\n')
  controller.abort()
})
const live = process.stderr.isTTY
const result = await promote(files, {
  ...engine,
  confirm: true,
  jobs: Number(opts.jobs),
  signal: controller.signal,
  onProgress(e) {
    if (e.type === 'phase' && !live) console.error(`phase: ${e.phase}`)
    if (e.type !== 'progress') return
    const line = `images ${e.imagesDone}/${e.imagesTotal}  ${mib(e.bytes)} uploaded  ${mib(e.bytes / Math.max(e.elapsedMs / 1000, 0.001))}/s  ${e.failures} failed`
    if (live) process.stderr.write(`\r\x1b[2K${line}`)
  },
}).catch((e) => {
  if (e.name === 'AbortError') fail('aborted: images not finished carry no tag; run again to finish', 1)
  return registryFailure(e)
})
if (live) process.stderr.write('\n')

// 6. Report.
writeFileSync(opts.report, `${JSON.stringify(result, null, 2)}\n`)
const r = result.report?.summary
if (r) console.log(`done: ${r.done}, failed: ${r.failed}, tags: ${r.tags}, uploaded ${mib(r.bytes)} in ${(r.millis / 1000).toFixed(1)} s; report: ${opts.report}`)
for (const a of result.report?.actions ?? []) if (a.result === 'failed') console.error(`failed: ${a.dst}@${a.digest}: ${a.error}`)
process.exit(r && r.failed === 0 && result.plan.summary.blocked === 0 ? 0 : 1)

function registryFailure(e) {
  const where = [e.registry, e.repository].filter(Boolean).join(' ')
  fail(`${e.code ?? 'error'}${where ? ` (${where})` : ''}: ${e.message}`, 2)
}

function mib(n) {
  return `${(n / 1048576).toFixed(1)} MiB`
}

function safeIsFile(p) {
  try { return statSync(p).isFile() } catch { return false }
}

function usage(message) {
  console.error(`promote.mjs: ${message}\nusage: node promote.mjs THIN-MANIFEST-DIR [--yes] [--report FILE] [--dest REGISTRY]... [--jobs N] [--strict] [--insecure-registry HOST]...`)
  process.exit(2)
}

function fail(message, status) {
  console.error(`promote.mjs: ${message}`)
  process.exit(status)
}
