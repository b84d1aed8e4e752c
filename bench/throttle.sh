#!/bin/sh
# Benchmark: a destination registry with a request quota (the test kit's proxy answers 429 above
# QUOTA requests/s); `cip promote --confirm` with no rate flags must find the quota by itself.
# Prints requests per second over the run and how long cip took to settle under the quota.
# Needs the Debian package docker-registry. Arguments: [QUOTA] [IMAGES] (default 20 40).
# Details: cli/examples/bench-throttle.rs.
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p cip --bin cip --example bench-throttle
exec target/release/examples/bench-throttle "$@"
