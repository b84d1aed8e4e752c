#!/usr/bin/env bash
# CI for the wasm package: install JS deps, build (installs wasm-bindgen-cli when missing), run
# the API/type tests and the shared vector suite (tests/js) against the build, then pack
# (dist/cip-wasm-<version>.tgz) and test the tarball installed into a fresh project
# (test/install.test.mjs: ESM, CommonJS, TypeScript, bundler and browser entries, attw, publint,
# npm publish --dry-run).
set -euo pipefail
cd "$(dirname "$0")"
rustup target add wasm32-unknown-unknown >/dev/null
npm ci --no-audit --no-fund
./build.sh
npm run pack
node --test test/*.test.mjs ../tests/js/*.test.mjs
