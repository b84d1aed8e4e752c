// `npm run pack`: writes every publishable tarball into dist/: cip-node-<version>.tgz (the loader
// and the declarations) and cip-node-<platform>-<version>.tgz for each addon built into this
// directory (cip.<platform>.node, by build.sh). A platform package is npm/<platform>/ (its
// package.json and README) plus its addon, packed from a scratch copy so no binary lands in npm/.
// Prints each tarball's packed and unpacked size.
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const dist = path.join(here, 'dist')
const { PLATFORMS } = createRequire(import.meta.url)('./platform.js')
const main = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'))

// `npm pack --json` prints the tarball's name and sizes (after any lifecycle script output).
function pack(dir) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dist], { cwd: dir, encoding: 'utf8' })
  return JSON.parse(out.slice(out.search(/^\[/m)))[0]
}

rmSync(dist, { recursive: true, force: true })
mkdirSync(dist)
const packed = [pack(here)]
for (const name of Object.keys(PLATFORMS)) {
  const addon = path.join(here, `cip.${name}.node`)
  if (!existsSync(addon)) continue
  const meta = JSON.parse(readFileSync(path.join(here, 'npm', name, 'package.json'), 'utf8'))
  if (meta.version !== main.version || main.optionalDependencies[meta.name] !== main.version) {
    throw new Error(`npm/${name}: version ${meta.version}, but cip-node ${main.version} depends on ${main.optionalDependencies[meta.name]}`)
  }
  const stage = mkdtempSync(path.join(tmpdir(), `cip-node-${name}-`))
  try {
    cpSync(path.join(here, 'npm', name), stage, { recursive: true })
    copyFileSync(addon, path.join(stage, meta.main))
    packed.push(pack(stage))
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`
for (const p of packed) console.log(`dist/${p.filename}  ${kib(p.size)} packed, ${kib(p.unpackedSize)} unpacked, ${p.entryCount} files`)
