#!/usr/bin/env bash
# Runs every test suite of cip, after installing (idempotently) everything the suites need.
# This is the README's test command and what CI (.ci/run) calls.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n==> %s\n' "$*"; }

step "install: system packages (real registry, skopeo, chromium)"
need=()
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  for attempt in 1 2 3 4 5; do
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; then break; fi
    echo "apt-get failed (attempt $attempt), retrying in 10 s"; sleep 10
  done
fi

step "install: rust components and the wasm target"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown >/dev/null

step "lint: rustfmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "purity gate: cip-core builds for wasm32-unknown-unknown"
cargo check -p cip-core --target wasm32-unknown-unknown --locked

step "rust tests (unit, vectors, CLI, end-to-end against real registries)"
cargo test --workspace --locked

echo
echo "all suites passed"
