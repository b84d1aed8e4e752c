#!/usr/bin/env bash
# The pre-commit hooks of .pre-commit-hooks.yaml run by the real `pre-commit` tool (from PyPI):
# `pre-commit try-repo` against a temporary git repository holding manifests. cip-lint passes a
# clean manifest and fails on a bad one naming the finding; cip-fmt rewrites an unformatted
# manifest (the run fails, as pre-commit does when a hook changes files) and passes on its output.
# The hooks are `language: system`: `cip` must be on PATH; this script puts the workspace build
# (target/debug, built if missing) first on PATH. Needs git and `python3 -m pip install pre-commit`
# (tests/run-all.sh installs it). Exit 0 when every check holds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/debug
[ -x "$BIN_DIR/cip" ] || (cd "$ROOT" && cargo build -q -p cip)
export PATH="$BIN_DIR:$PATH"

work=$(mktemp -d)
cache=$(mktemp -d)
trap 'rm -rf "$work" "$cache"' EXIT
cd "$work"
git init -q .
git config user.email test@example.invalid
git config user.name test
export PRE_COMMIT_HOME="$cache"
export PRE_COMMIT_COLOR=never

digest_a=sha256:$(printf 'a%.0s' $(seq 64))
digest_b=sha256:$(printf 'b%.0s' $(seq 64))
cat > promoter-manifest.yaml <<YAML
registries:
- name: gcr.io/k8s-staging-foo
  src: true
- name: us-docker.pkg.dev/k8s-artifacts-prod/images
images:
- name: foo
  dmap:
    "$digest_a": ["1.0"]
    "$digest_b": ["1.1"]
YAML
git add -A

fail() { echo "try-repo: FAIL: $*"; exit 1; }
try() { python3 -m pre_commit try-repo "$ROOT" "$1" --all-files > "$cache/out.txt" 2>&1; }

try cip-lint || { cat "$cache/out.txt"; fail "cip-lint on a clean manifest"; }
grep -q 'cip lint.*Passed' "$cache/out.txt" || { cat "$cache/out.txt"; fail "cip-lint did not run"; }
echo "try-repo: cip-lint passes a clean manifest"

sed -i 's/  src: true/  src: true\n  srcc: true/' promoter-manifest.yaml
git add -A
if try cip-lint; then cat "$cache/out.txt"; fail "cip-lint passed a manifest with an unknown key"; fi
grep -q 'unknown-key' "$cache/out.txt" || { cat "$cache/out.txt"; fail "cip-lint output does not name unknown-key"; }
echo "try-repo: cip-lint fails on an unknown key and names it"

cat > promoter-manifest.yaml <<YAML
registries:
- name: gcr.io/k8s-staging-foo
  src: true
- name: us-docker.pkg.dev/k8s-artifacts-prod/images
images:
- name: foo
  dmap:
    "$digest_b": [1.1]
    "$digest_a": ['1.0']
YAML
git add -A
before=$(cat promoter-manifest.yaml)
if try cip-fmt; then cat "$cache/out.txt"; fail "cip-fmt passed an unformatted manifest"; fi
grep -q 'files were modified by this hook' "$cache/out.txt" || { cat "$cache/out.txt"; fail "cip-fmt did not rewrite"; }
[ "$(cat promoter-manifest.yaml)" != "$before" ] || fail "cip-fmt left the file unchanged"
grep -q "\"$digest_a\": \[\"1.0\"\]" promoter-manifest.yaml || { cat promoter-manifest.yaml; fail "cip-fmt output is not the canonical layout"; }
git add -A
try cip-fmt || { cat "$cache/out.txt"; fail "cip-fmt on its own output"; }
echo "try-repo: cip-fmt rewrites an unformatted manifest and passes on its output"
echo "try-repo: all checks passed"
