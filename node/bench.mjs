// Benchmark (not a test): lint one manifest set in-process with the cip-node addon in this
// directory (the release build from build.sh, or whatever cip.<platform>.node is here) and with
// cip-wasm (../wasm/pkg, from wasm/build.sh), and print wall and CPU time per call side by side.
//
//   cargo run -p cip-core --release --example gen-manifests -- /tmp/set   # 45,000 digests, 4.2 MiB
//   node bench.mjs /tmp/set [RUNS]
//
// Both get the same {path: text} object; the first call of each is a warm-up and not counted.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const [dir, runsArg = '15'] = process.argv.slice(2)
if (!dir) {
  console.error('usage: node bench.mjs MANIFEST_DIR [RUNS]')
  process.exit(2)
}
const runs = Number(runsArg)
const require = createRequire(import.meta.url)

const files = {}
const walk = (d) => {
  for (const name of readdirSync(d).sort()) {
    const p = path.join(d, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (/\.ya?ml$/.test(name)) files[path.relative(dir, p)] = readFileSync(p, 'utf8')
  }
}
walk(dir)
const bytes = Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0)

const engines = {
  'cip-node (addon)': require('./index.js'),
  'cip-wasm': require('../wasm/pkg/node.cjs'),
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`${Object.keys(files).length} files, ${(bytes / 1048576).toFixed(2)} MiB, ${runs} runs each (median)`)
const rows = []
for (const [name, cip] of Object.entries(engines)) {
  const summary = cip.lint(files).summary
  const wall = []
  const cpu = []
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage()
    const t = process.hrtime.bigint()
    cip.lint(files)
    wall.push(Number(process.hrtime.bigint() - t) / 1e6)
    const u = process.cpuUsage(c)
    cpu.push((u.user + u.system) / 1000)
  }
  rows.push({ name, wall: median(wall), cpu: median(cpu), digests: summary.digests, errors: summary.errors })
}
const base = rows[0]
for (const r of rows) {
  console.log(
    `${r.name.padEnd(18)} wall ${r.wall.toFixed(0).padStart(5)} ms  cpu ${r.cpu.toFixed(0).padStart(5)} ms  ` +
      `(${(r.wall / base.wall).toFixed(2)}x wall)  ${r.digests} digests, ${r.errors} errors`,
  )
}
