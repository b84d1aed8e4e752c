#!/bin/sh
# Benchmark: `cip promote --confirm` against `skopeo sync` on loopback registries (cold copy and
# no-op re-run), printing a table. Needs the Debian packages docker-registry and skopeo, and
# /usr/bin/time. Arguments: [REPOS] [TAGS] [LAYER_KIB] [LAYERS] (default 200 5 1024 4).
# Details: cli/examples/bench-promote.rs.
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p cip --bin cip --example bench-promote
exec target/release/examples/bench-promote "$@"
