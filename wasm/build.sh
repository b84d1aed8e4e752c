#!/usr/bin/env bash
# Builds the cip-wasm npm package into pkg/: ONE wasm module (size-optimised with wasm-opt from the
# npm `binaryen` package; Debian's binaryen 108 writes modules that fail to load) and the three
# wasm-bindgen glues that load it, side by side:
#   pkg/cip_wasm_bg.wasm                 the module (wasm-bindgen writes the same bytes for every target)
#   pkg/node.cjs                         Node, CommonJS (reads the module next to it synchronously)
#   pkg/bundler.js + pkg/cip_wasm_bg.js  bundlers, ESM importing the module (its imports name ./cip_wasm_bg.js)
#   pkg/web.js                           browsers without a bundler, ESM with init() (fetches the module)
#   pkg/package.json                     {"type": "module"}: the .js glues are ESM
# pkg/web/ holds hard links of web.js (as cip_wasm.js) and the module for web/build.mjs, which
# reads them there; they are not in the npm package. Prints raw and gzipped sizes.
#
# Needs: rustup target wasm32-unknown-unknown, `npm ci` in wasm/ (binaryen, typescript).
# Installs wasm-bindgen-cli with cargo when the one on PATH does not match the pinned crate.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

# The CLI must equal the wasm-bindgen crate exactly (the crate is pinned `=x.y.z` in Cargo.toml).
want="$(sed -n 's/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' Cargo.toml)"
if [ -z "$want" ]; then
  echo "build.sh: cannot find the pinned wasm-bindgen version (wasm-bindgen = \"=x.y.z\") in Cargo.toml" >&2
  exit 2
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $want" ]; then
  echo "build.sh: installing wasm-bindgen-cli $want (a few minutes)" >&2
  # --locked can fail when the lockfile names a dependency version the registry mirror lacks;
  # then resolve afresh (same CLI version, newer compatible deps).
  cargo install wasm-bindgen-cli --version "$want" --locked \
    || cargo install wasm-bindgen-cli --version "$want"
fi

if [ ! -x "$here/node_modules/.bin/wasm-opt" ]; then
  echo "build.sh: wasm-opt missing; run 'npm ci' in wasm/ first (it installs the npm binaryen package)" >&2
  exit 2
fi

cargo build -p cip-wasm --target wasm32-unknown-unknown --profile wasm-release
target_dir="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
module="$target_dir/wasm32-unknown-unknown/wasm-release/cip_wasm.wasm"

rm -rf "$here/pkg"
mkdir -p "$here/pkg"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in nodejs bundler web; do
  # Declarations are hand-written (index.d.ts, web.d.mts), so the generated ones are not emitted.
  wasm-bindgen --target "$target" --no-typescript --out-dir "$scratch/$target" "$module"
done
# One module for all glues: stop if wasm-bindgen ever emits target-specific bytes.
for target in bundler web; do
  cmp -s "$scratch/nodejs/cip_wasm_bg.wasm" "$scratch/$target/cip_wasm_bg.wasm" || {
    echo "build.sh: wasm-bindgen wrote a different module for --target $target; one shared module no longer works" >&2
    exit 1
  }
done
cp "$scratch/nodejs/cip_wasm.js" "$here/pkg/node.cjs"
cp "$scratch/bundler/cip_wasm.js" "$here/pkg/bundler.js"
cp "$scratch/bundler/cip_wasm_bg.js" "$here/pkg/cip_wasm_bg.js"
cp "$scratch/web/cip_wasm.js" "$here/pkg/web.js"
printf '{ "type": "module" }\n' >"$here/pkg/package.json"
"$here/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-reference-types \
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-multivalue \
  "$scratch/nodejs/cip_wasm_bg.wasm" -o "$here/pkg/cip_wasm_bg.wasm"
mkdir "$here/pkg/web"
ln "$here/pkg/web.js" "$here/pkg/web/cip_wasm.js"
ln "$here/pkg/cip_wasm_bg.wasm" "$here/pkg/web/cip_wasm_bg.wasm"

# Size report (the target is under 600 KiB gzipped).
wasm="$here/pkg/cip_wasm_bg.wasm"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
awk -v raw="$raw" -v gz="$gz" 'BEGIN { printf "cip-wasm size: raw %d bytes (%.1f KiB), gzip -9 %d bytes (%.1f KiB); budget 600 KiB gzipped\n", raw, raw / 1024, gz, gz / 1024 }'
if [ "$gz" -ge $((600 * 1024)) ]; then
  echo "build.sh: the gzipped module is over the 600 KiB budget" >&2
  exit 1
fi
