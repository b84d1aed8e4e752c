#!/usr/bin/env bash
# CI for the browser linter: build the static site from the wasm package (wasm/ci.sh or
# wasm/build.sh must have run), then the headless Chromium tests, one file at a time (each drives
# its own browser): test/linter.test.mjs (the page, screenshots in tests/artifacts/) and
# test/scale.test.mjs (the 45,000-digest manifest; generates it with cargo, prints the figures and
# writes tests/artifacts/web-scale.json). Needs /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
node --test --test-concurrency=1 test/*.test.mjs
