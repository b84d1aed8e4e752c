#!/usr/bin/env bash
# CI for the wasm package: install JS deps, build (installs wasm-bindgen-cli when missing), run
# the API/type tests and the shared vector suite (tests/js) against the wasm build.
set -euo pipefail
cd "$(dirname "$0")"
rustup target add wasm32-unknown-unknown >/dev/null
npm ci --no-audit --no-fund
./build.sh
node --test test/*.test.mjs ../tests/js/*.test.mjs
