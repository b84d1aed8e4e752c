#!/usr/bin/env node
// Lints the promoter manifests touched by a git change: a pre-commit hook or a CI step.
//
//   node lint-changed.mjs --staged                 # pre-commit: the staged versions
//   node lint-changed.mjs --base origin/main       # CI: everything changed since the base
//   node lint-changed.mjs --base origin/main --format github   # annotations on the PR diff
//
// Rules look across files (a thin manifest pairs promoter-manifest.yaml with images.yaml; images
// of one set must not overlap), so each touched manifest is linted together with the rest of its
// set: every file under the same thin-manifest root. Exit status: 0 clean, 1 error findings,
// 2 usage or git failure.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { lint } from 'cip-node'

const { values: opts } = parseArgs({
  options: {
    staged: { type: 'boolean', default: false },
    base: { type: 'string' },
    format: { type: 'string', default: 'human' },
  },
})
if (opts.staged === Boolean(opts.base)) fail('use exactly one of --staged or --base REF')
if (!['human', 'github'].includes(opts.format)) fail('--format is human or github')

const git = (...args) => execFileSync('git', args, { encoding: 'utf8', maxBuffer: 256 << 20 })
const changed = (opts.staged
  ? git('diff', '--cached', '--name-only', '--diff-filter=ACMR')
  : git('diff', '--name-only', '--diff-filter=ACMR', `${opts.base}...HEAD`)
).split('\n').filter((p) => /\.ya?ml$/.test(p))

// The thin-manifest root of a path (`<root>/manifests/<x>/promoter-manifest.yaml`,
// `<root>/images/<x>/images.yaml`), or null for a plain manifest file.
function thinRoot(path) {
  const m = /^(.*?)(?:^|\/)(?:manifests\/[^/]+\/promoter-manifest\.yaml|images\/[^/]+\/images\.yaml)$/.exec(path)
  return m ? m[1] : null
}

const tracked = git('ls-files', '-z').split('\0').filter(Boolean)
const read = (path) => (opts.staged ? git('show', `:${path}`) : readFileSync(path, 'utf8'))

// One lint run per thin root (the whole set), and one per plain manifest file.
const runs = new Map()
for (const path of changed) {
  const root = thinRoot(path)
  if (root === null) {
    if (/promoter-manifest\.ya?ml$|(^|\/)manifests?\//.test(path)) runs.set(path, [path])
    continue
  }
  if (runs.has(`root:${root}`)) continue
  const prefix = root ? `${root}/` : ''
  runs.set(`root:${root}`, tracked.filter((p) => p.startsWith(prefix) && thinRoot(p) === root))
}

let errors = 0
let warnings = 0
for (const paths of runs.values()) {
  const files = Object.fromEntries(paths.map((p) => [p, read(p)]))
  for (const d of lint(files).diagnostics) {
    if (d.severity === 'error') errors++
    else warnings++
    print(d)
  }
}
console.log(`${changed.length} changed YAML file(s), ${runs.size} manifest set(s): ${errors} error(s), ${warnings} warning(s)`)
process.exit(errors > 0 ? 1 : 0)

function print(d) {
  const help = d.help ? `\n  help: ${d.help}` : ''
  if (opts.format === 'github') {
    const esc = (s) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
    console.log(`::${d.severity} file=${d.file},line=${d.line},col=${d.column},endLine=${d.endLine},endColumn=${d.endColumn},title=${d.code}::${esc(d.message + help)}`)
  } else {
    console.log(`${d.file}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}${help}`)
  }
}

function fail(message) {
  console.error(`lint-changed: ${message}`)
  process.exit(2)
}
