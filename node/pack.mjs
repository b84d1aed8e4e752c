// `npm run pack`: writes every publishable tarball into dist/: cip-node-<version>.tgz (the loader
// and the declarations) and cip-node-<platform>-<version>.tgz for each addon built into this
// directory (cip.<platform>.node, by build.sh). Prints each tarball's packed and unpacked size.
//
// Both kinds are packed from scratch copies. The main package's published package.json gains
// `optionalDependencies` on every platform package of platform.js (the one list of platforms),
// at this version; they are not in the package.json here, because `npm ci` in this directory
// would then look for unpublished packages. Development-only fields (scripts, devDependencies)
// are left out. A platform package is npm/<platform>/ (its package.json and README) plus its
// addon, so no binary lands in npm/.
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const dist = path.join(here, 'dist')
const { PLATFORMS } = createRequire(import.meta.url)('./platform.js')
const main = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'))

// `npm pack --json` prints the tarball's name and sizes.
function pack(dir) {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dist], { cwd: dir, encoding: 'utf8' })
  return JSON.parse(out.slice(out.search(/^\[/m)))[0]
}

function staged(name, fill) {
  const stage = mkdtempSync(path.join(tmpdir(), `${name}-`))
  try {
    fill(stage)
    return pack(stage)
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

/** The package.json cip-node is published with. */
export function publishedManifest() {
  const { scripts, devDependencies, ...published } = main
  const optionalDependencies = Object.fromEntries(Object.keys(PLATFORMS).map((p) => [`cip-node-${p}`, main.version]))
  return { ...published, optionalDependencies }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  execFileSync(process.execPath, [path.join(here, 'types/copy-core.mjs')]) // core.d.ts, fresh
  rmSync(dist, { recursive: true, force: true })
  mkdirSync(dist)
  const packed = [
    staged('cip-node', (stage) => {
      for (const f of [...main.files, 'README.md']) copyFileSync(path.join(here, f), path.join(stage, f))
      writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(publishedManifest(), null, 2)}\n`)
    }),
  ]
  for (const name of Object.keys(PLATFORMS)) {
    const addon = path.join(here, `cip.${name}.node`)
    if (!existsSync(addon)) continue
    const meta = JSON.parse(readFileSync(path.join(here, 'npm', name, 'package.json'), 'utf8'))
    if (meta.version !== main.version) throw new Error(`npm/${name}: version ${meta.version}, but cip-node is ${main.version}`)
    packed.push(
      staged(meta.name, (stage) => {
        cpSync(path.join(here, 'npm', name), stage, { recursive: true })
        copyFileSync(addon, path.join(stage, meta.main))
      }),
    )
  }
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`
  for (const p of packed) console.log(`dist/${p.filename}  ${kib(p.size)} packed, ${kib(p.unpackedSize)} unpacked, ${p.entryCount} files`)
}
