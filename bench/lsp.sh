#!/usr/bin/env bash
# `cip lsp` re-lint time after a one-line edit in a 45,000-digest workspace (the synthetic set of
# tests/gen): prints a table of the server's own times. See cli/benches/lsp_relint.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -p cip --bench lsp_relint "$@"
