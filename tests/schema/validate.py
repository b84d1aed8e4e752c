#!/usr/bin/env python3
"""Validates every inventory of the test vectors against core/inventory.schema.json.

An independent check (Python `jsonschema`, not the Rust reader): the schema itself must be a valid
Draft 2020-12 schema, every `inventory.json` under tests/vectors must validate, and a few
deliberately invalid inventories must be rejected, so a schema or validator that accepts anything
fails this script too. Run by tests/run-all.sh; needs `python3 -m pip install 'jsonschema>=4'`.
Exit status 0 when all checks hold, 1 otherwise.
"""

import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "core" / "inventory.schema.json"
VECTORS = ROOT / "tests" / "vectors"

DIGEST = "sha256:" + "a" * 64

# Each must be rejected. The name says why.
INVALID = {
    "missing repositories": {},
    "repositories not an object": {"repositories": []},
    "unknown top-level key": {"repositories": {}, "extra": 1},
    "bad digest key (not sha256:<64 hex>)": {"repositories": {"r.io/foo": {"sha256:abc": {}}}},
    "bad digest key (upper-case hex)": {"repositories": {"r.io/foo": {"sha256:" + "A" * 64: {}}}},
    "tags not an array": {"repositories": {"r.io/foo": {DIGEST: {"tags": "1.0"}}}},
    "tag not matching the tag grammar": {"repositories": {"r.io/foo": {DIGEST: {"tags": ["-x"]}}}},
    "duplicate tags": {"repositories": {"r.io/foo": {DIGEST: {"tags": ["1.0", "1.0"]}}}},
    "child not a digest": {"repositories": {"r.io/foo": {DIGEST: {"children": ["latest"]}}}},
    "mediaType not a string": {"repositories": {"r.io/foo": {DIGEST: {"mediaType": 1}}}},
    "unknown manifest key": {"repositories": {"r.io/foo": {DIGEST: {"size": 1}}}},
}

# Each must be accepted (guards the invalid cases above against a schema that rejects everything).
VALID = {
    "empty": {"repositories": {}},
    "empty repository": {"repositories": {"r.io/foo": {}}},
    "full manifest": {
        "repositories": {
            "r.io/foo": {
                DIGEST: {
                    "tags": ["1.0", "latest"],
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "children": ["sha256:" + "b" * 64],
                }
            }
        }
    },
}


def main() -> int:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        print(f"{SCHEMA}: expected a Draft 2020-12 schema, got {schema.get('$schema')!r}")
        return 1
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    failures = []  # one line per problem
    failed = set()  # the checks that failed, for the closing count

    vectors = sorted(VECTORS.rglob("inventory.json"))
    if not vectors:
        failures.append(f"no inventory.json found under {VECTORS}")
    for path in vectors:
        instance = json.loads(path.read_text(encoding="utf-8"))
        for error in validator.iter_errors(instance):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            failures.append(f"{path.relative_to(ROOT)}: {where}: {error.message}")
            failed.add(("vector", path))

    for name, instance in VALID.items():
        for error in validator.iter_errors(instance):
            failures.append(f"valid case {name!r} was rejected: {error.message}")
            failed.add(("valid", name))
    for name, instance in INVALID.items():
        if validator.is_valid(instance):
            failures.append(f"invalid case {name!r} was accepted")
            failed.add(("invalid", name))

    for failure in failures:
        print(failure)
    print(
        f"schema: {len(vectors)} vector inventories, {len(VALID)} valid and "
        f"{len(INVALID)} invalid cases checked against {SCHEMA.relative_to(ROOT)}"
    )
    checks = len(vectors) + len(VALID) + len(INVALID)
    print(f"schema: {checks - len(failed)} passed, {len(failed)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
