#!/usr/bin/env bash
# CI for the Node addon: build it (debug, sharing target/debug with `cargo test --workspace`),
# install the pinned JS tools, then run the addon's suites (vectors, API, engine against real
# registries, examples, package contents), the type check, and the shared JS suite (vectors and
# the TypeScript declarations against real outputs) through the addon. Honours CARGO_TARGET_DIR.
# Needs /usr/bin/docker-registry (Debian package docker-registry) for the engine tests.
#   node/ci.sh            # debug addon (fast; what the tests need)
#   CIP_NODE_RELEASE=1 node/ci.sh   # the release addon, as published (napi-cli, LTO)
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run types   # core.d.ts: the copy of ../wasm/core.d.ts that index.d.ts re-exports
target_dir="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
# The CLI the engine tests compare with (built by `cargo test --workspace` or `cargo build -p cip`).
export CIP_BIN="${CIP_BIN:-$target_dir/debug/cip}"
if [ "${CIP_NODE_RELEASE:-}" = 1 ]; then
  # Builds into target/x86_64-unknown-linux-gnu/release and regenerates index.js/index.d.ts;
  # they are committed, so a diff means a #[napi] signature changed without regenerating them.
  npx napi build --platform --release
  git diff --exit-code -- index.js index.d.ts
else
  cargo build -p cip-node --locked
  cp "$target_dir/debug/libcip_node.so" cip.linux-x64-gnu.node
fi
node --test test/*.test.mjs
npm run typecheck
(cd .. && FRONTEND=node node --test tests/js/*.test.mjs)
