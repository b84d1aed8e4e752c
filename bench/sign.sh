#!/bin/sh
# Benchmark: request count and wall time of signing N digests promoted to M mirrors (key-based,
# legacy and bundle formats, one identity for all mirrors) on loopback registries, printing a
# table. Needs the Debian package docker-registry and Python's cryptography package.
# Arguments: [DIGESTS] [MIRRORS] (default 20 1,5,20). Details: cli/examples/bench-sign.rs.
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p cip --bin cip --example bench-sign
exec target/release/examples/bench-sign "$@"
