#!/usr/bin/env bash
# CI for the browser linter: build the static site from the wasm package (wasm/ci.sh or
# wasm/build.sh must have run), then the headless Chromium tests. Needs /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
node --test test/*.test.mjs
