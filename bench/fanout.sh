#!/bin/sh
# Benchmark: fan-out, one source registry to 1, 5 and 20 destination registries on loopback,
# `cip promote --confirm` (no rate flags) against one `skopeo sync` per destination, printing a
# table (wall, source requests, source blob bytes / unique, destination requests, peak RSS).
# Needs the Debian packages docker-registry and skopeo, and /usr/bin/time.
# Arguments: [REPOS] [TAGS] [LAYER_KIB] [LAYERS] [DESTS] (default 20 3 512 3 1,5,20).
# Details: cli/examples/bench-fanout.rs.
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p cip --bin cip --example bench-fanout
exec target/release/examples/bench-fanout "$@"
