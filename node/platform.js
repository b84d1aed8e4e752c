// Which prebuilt addon fits this process: the npm platform name (`linux-x64-gnu`, the suffix of
// the `cip-node-<platform>` package and of the `cip.<platform>.node` file) and its Rust target.
// Pure functions of the values Node reports, so the tests can ask about platforms they do not
// run on (musl, arm64, Windows). index.js calls them with the running process.
'use strict'

/** The platform packages cip-node publishes. `tested`: built and run by node/ci.sh. */
const PLATFORMS = {
  'linux-x64-gnu': { rust: 'x86_64-unknown-linux-gnu', tested: true },
  'linux-x64-musl': { rust: 'x86_64-unknown-linux-musl', tested: true },
  'linux-arm64-gnu': { rust: 'aarch64-unknown-linux-gnu', tested: true },
  'darwin-x64': { rust: 'x86_64-apple-darwin', tested: false },
  'darwin-arm64': { rust: 'aarch64-apple-darwin', tested: false },
  'win32-x64-msvc': { rust: 'x86_64-pc-windows-msvc', tested: false },
}

const RUST_ARCH = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7', riscv64: 'riscv64gc', ppc64: 'powerpc64le', s390x: 's390x', loong64: 'loongarch64' }

/**
 * The C library of a Linux process from its diagnostic report (`process.report.getReport()`):
 * a glibc Node reports `header.glibcVersionRuntime`, a musl one does not. The report is what Node
 * itself knows, so no file (/usr/bin/ldd) or child process is consulted.
 */
function libc(report) {
  if (!report) return 'gnu' // Node built without reports: assume glibc, as almost every Node
  return report.header && report.header.glibcVersionRuntime ? 'gnu' : 'musl'
}

/** The npm platform name for `process.platform`, `process.arch` and (Linux) the report. */
function platformName(platform, arch, report) {
  switch (platform) {
    case 'linux':
      return `linux-${arch}-${libc(report)}`
    case 'win32':
      return `win32-${arch}-msvc`
    default:
      return `${platform}-${arch}`
  }
}

/** The Rust target triple that builds the addon for `name` (best effort for unshipped ones). */
function rustTarget(name) {
  if (PLATFORMS[name]) return PLATFORMS[name].rust
  const [platform, arch, abi] = name.split('-')
  const cpu = RUST_ARCH[arch] || arch
  switch (platform) {
    case 'linux':
      return `${cpu}-unknown-linux-${abi}`
    case 'darwin':
      return `${cpu}-apple-darwin`
    case 'win32':
      return `${cpu}-pc-windows-msvc`
    default:
      return `${cpu}-unknown-${platform}`
  }
}

/**
 * The message of a load failure: the platform and Rust target, what was tried and why it
 * failed, and the two ways out (install the platform package, or build from source).
 */
function missingAddonMessage({ name, version, nodeVersion, tried, repository, localPath }) {
  const pkg = `cip-node-${name}`
  const target = rustTarget(name)
  const lines = [`cip-node ${version}: no native addon loaded for ${name} (Rust target ${target}, Node ${nodeVersion}).`]
  for (const t of tried) lines.push(`  - ${t}`)
  if (PLATFORMS[name]) {
    lines.push(
      `${pkg} is an optional dependency of cip-node, installed only on ${name}; npm skips it with`,
      `--omit=optional, or when the lockfile was made on another platform. Install it with:`,
      `  npm install ${pkg}@${version}`,
    )
  } else {
    lines.push(`cip-node has no prebuilt addon for ${name}; prebuilt: ${Object.keys(PLATFORMS).join(', ')}.`)
  }
  lines.push(
    `Or build it from source (Rust toolchain with target ${target}): in a checkout of ${repository},`,
    `  cd node && npm ci && ./build.sh ${target}`,
    `which writes node/cip.${name}.node; copy it to ${localPath || `cip.${name}.node next to cip-node's index.js`}.`,
  )
  return lines.join('\n')
}

module.exports = { PLATFORMS, libc, platformName, rustTarget, missingAddonMessage }
