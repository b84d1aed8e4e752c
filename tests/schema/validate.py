#!/usr/bin/env python3
"""Validates the test vectors against cip's JSON Schemas with an independent validator (Python
`jsonschema`, not the Rust reader).

Inventories: core/inventory.schema.json must be a valid Draft 2020-12 schema, every
`inventory.json` under tests/vectors must validate, and a few deliberately invalid inventories
must be rejected, so a schema or validator that accepts anything fails this script too.

Manifests: core/schema/{plain-manifest,thin-manifest,thin-images}.schema.json (what `cip schema`
prints) must be valid Draft 2020-12 schemas with a description and examples on every field, and
share their common definitions verbatim. Every manifest file of every lint vector without error
findings (`summary.errors == 0`) must validate against the schema of its kind (a file directly in
`input/` is a plain manifest; in a thin directory `manifests/<x>/promoter-manifest.yaml` is a thin
manifest and `images/<x>/images.yaml` a thin images list; other files there are never read by cip
and are skipped). Every vector in STRUCTURAL must have at least one file the schema rejects. YAML
is read with PyYAML (YAML 1.1, as the Go promoter's yaml.v2: `yes` is a boolean, merge keys are
resolved).

Run by tests/run-all.sh; needs `python3 -m pip install 'jsonschema>=4' pyyaml`.
Exit status 0 when all checks hold, 1 otherwise.
"""

import json
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "core" / "inventory.schema.json"
VECTORS = ROOT / "tests" / "vectors"

DIGEST = "sha256:" + "a" * 64

MANIFEST_SCHEMAS = ROOT / "core" / "schema"
PLAIN, THIN_MANIFEST, THIN_IMAGES = (
    "plain-manifest.schema.json",
    "thin-manifest.schema.json",
    "thin-images.schema.json",
)

# Lint vectors with error findings that a JSON Schema can see: the schema must reject at least one
# of their files. Structural means the shape of the data: unknown keys, wrong types, missing or
# empty required fields, the value grammars (digest, tag, image and registry names, as `pattern`s)
# and "exactly one `src: true` registry" (`contains` with `minContains`/`maxContains`).
STRUCTURAL = {
    "unknown-key-top-level": "unknown top-level key",
    "unknown-key-registry": "unknown key in a registry",
    "unknown-key-image": "unknown key in an image",
    "unknown-key-thin-manifest-images": "`images` in a thin promoter-manifest.yaml",
    "unknown-key-cr-line-endings": "unknown key, CR-only line endings",
    "fix-block-and-flow-styles": "unknown key `serviceaccount` in a registry",
    "wrong-type-values": "values of the wrong type",
    "wrong-type-registries-2018-schema": "`registries` as a mapping (2018 schema)",
    "wrong-type-thin-images-mapping": "images.yaml as a mapping",
    "registries-missing": "required `registries` missing",
    "registries-empty": "`registries` empty (minItems)",
    "yaml-empty-file": "an empty file has no `registries`",
    "registry-name-missing": "required registry `name` missing",
    "image-name-missing": "required image `name` missing",
    "dmap-missing": "required `dmap` missing",
    "dmap-empty": "`dmap` empty (minProperties)",
    "source-registry-missing": "no `src: true` registry",
    "source-registry-multiple": "two `src: true` registries",
    "digest-invalid": "digest grammar",
    "tag-invalid": "tag grammar",
    "tag-invalid-null": "an unquoted null tag",
    "tag-invalid-unicode-columns": "non-ASCII tags",
    "image-name-invalid": "image name grammar",
    "registry-name-invalid": "registry name grammar",
    "tag-unquoted-numbers": "unquoted numeric tags (numbers to a YAML reader)",
    "several-findings-sorted": "unknown key, image name, no source",
    "thin-gets-every-check": "grammar and required fields in a thin pair",
}

# Lint vectors with error findings that are not structural, so no schema check applies: relations
# between entries or files (overlaps, conflicts, `src-registry` naming an unlisted registry),
# duplicated keys (a JSON value cannot hold them; PyYAML keeps one), a sequence used as a key
# (no JSON value has one), YAML-level problems and the thin directory layout. Every vector with errors is in exactly one of the two lists (checked).
NOT_STRUCTURAL = {
    "destination-overlap-across-files",
    "destination-overlap-host-case",
    "destination-overlap-nested-registry-path",
    "destination-overlap-thin",
    "destination-overlap-thin-and-plain",
    "tag-conflict",
    "tag-conflict-repeated-image",
    "src-registry-conflict",
    "src-registry-unknown",
    "duplicate-key",
    "digest-duplicate",
    "wrong-type-key",
    "yaml-alias-bomb",
    "yaml-deep-nesting",
    "yaml-multiple-documents",
    "yaml-syntax-error",
    "yaml-syntax-tab-indent",
    "yaml-unknown-alias",
    "thin-syntax-error-in-images",
    "thin-images-dir-missing",
    "thin-images-file-missing",
    "thin-manifests-dir-missing",
    "thin-nested-manifest",
    "thin-no-manifests",
}

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
    "subject not a digest": {"repositories": {"r.io/foo": {DIGEST: {"subject": "latest"}}}},
    "artifactType not a string": {"repositories": {"r.io/foo": {DIGEST: {"artifactType": 1}}}},
    "layer not a digest": {"repositories": {"r.io/foo": {DIGEST: {"layers": ["sha256:abc"]}}}},
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
    "attachments (a tag-scheme signature with layers, a referrer with subject and artifactType)": {
        "repositories": {
            "r.io/foo": {
                DIGEST: {"tags": ["1.0"]},
                "sha256:" + "b" * 64: {"tags": ["sha256-" + "a" * 64 + ".sig"], "layers": ["sha256:" + "c" * 64]},
                "sha256:" + "d" * 64: {"subject": DIGEST, "artifactType": "application/spdx+json"},
            }
        }
    },
}


def manifest_files(case: Path):
    """(path, schema name) of every file of a lint vector that cip reads, as the vectors' README
    describes `input/`."""
    for entry in sorted((case / "input").iterdir(), key=lambda p: p.name.encode()):
        if entry.is_file():
            yield entry, PLAIN
            continue
        for path in sorted(entry.rglob("*")):
            parts = path.relative_to(entry).parts
            if len(parts) >= 3 and parts[-3:-2] == ("manifests",) and parts[-1] == "promoter-manifest.yaml":
                yield path, THIN_MANIFEST
            elif len(parts) >= 3 and parts[-3:-2] == ("images",) and parts[-1] == "images.yaml":
                yield path, THIN_IMAGES


def fields_without_docs(node, where="#"):
    """Every field (a subschema under `properties`, `items`, `additionalProperties` or `$defs`
    that describes a value) lacking a description or examples."""
    missing = []
    if isinstance(node, dict):
        for key in ("properties", "$defs"):
            for name, sub in node.get(key, {}).items():
                if key == "properties" or "type" in sub:
                    for need in ("description", "examples"):
                        if need not in sub and "$ref" not in sub and "allOf" not in sub:
                            missing.append(f"{where}/{key}/{name}: no {need}")
                missing += fields_without_docs(sub, f"{where}/{key}/{name}")
        for key in ("items", "additionalProperties", "propertyNames"):
            sub = node.get(key)
            if isinstance(sub, dict):
                if "type" in sub:
                    for need in ("description", "examples"):
                        if need not in sub:
                            missing.append(f"{where}/{key}: no {need}")
                missing += fields_without_docs(sub, f"{where}/{key}")
    return missing


def check_manifests(failures, failed):
    """The manifest schemas against the lint vectors; returns the number of checks made."""
    schemas = {}
    for name in (PLAIN, THIN_MANIFEST, THIN_IMAGES):
        path = MANIFEST_SCHEMAS / name
        schema = json.loads(path.read_text(encoding="utf-8"))
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            failures.append(f"{path}: expected a Draft 2020-12 schema")
            failed.add(("schema", name))
        Draft202012Validator.check_schema(schema)
        for problem in fields_without_docs(schema):
            failures.append(f"{name}: {problem}")
            failed.add(("schema", name))
        schemas[name] = schema
    # The common definitions are copied into each file (each is standalone for SchemaStore):
    # they must not drift apart.
    for name, schema in schemas.items():
        for key, definition in schema["$defs"].items():
            for other_name, other in schemas.items():
                if key in other["$defs"] and other["$defs"][key] != definition:
                    failures.append(f"$defs/{key} differs between {name} and {other_name}")
                    failed.add(("schema", name))
    validators = {name: Draft202012Validator(schema) for name, schema in schemas.items()}
    # The examples editors show must themselves be valid documents.
    for name, schema in schemas.items():
        for i, example in enumerate(schema.get("examples", [])):
            for error in validators[name].iter_errors(example):
                failures.append(f"{name}: examples[{i}] is invalid: {error.message}")
                failed.add(("schema", name))

    checks = len(schemas)
    cases = sorted(p for p in (VECTORS / "lint").iterdir() if p.is_dir())
    for case in cases:
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        errors = expected["summary"]["errors"]
        name = case.name
        if errors and name not in STRUCTURAL and name not in NOT_STRUCTURAL:
            failures.append(f"lint/{name}: has errors but is in neither STRUCTURAL nor NOT_STRUCTURAL")
            failed.add(("manifest", name))
            continue
        if errors and name in NOT_STRUCTURAL:
            continue
        checks += 1
        rejected = []
        for path, schema_name in manifest_files(case):
            rel = path.relative_to(ROOT)
            try:
                instance = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as error:
                if not errors:
                    failures.append(f"{rel}: PyYAML cannot read it: {error}")
                    failed.add(("manifest", name))
                continue
            problems = list(validators[schema_name].iter_errors(instance))
            if problems:
                rejected.append(rel)
            if not errors:
                for error in problems:
                    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
                    failures.append(f"{rel} ({schema_name}): {where}: {error.message}")
                    failed.add(("manifest", name))
        if errors and not rejected:
            failures.append(f"lint/{name} ({STRUCTURAL[name]}): no file rejected by its schema")
            failed.add(("manifest", name))
    for name in sorted((STRUCTURAL.keys() | NOT_STRUCTURAL) - {c.name for c in cases}):
        failures.append(f"lint/{name}: listed here but no such vector")
        failed.add(("manifest", name))
    return checks


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

    manifest_checks = check_manifests(failures, failed)

    for failure in failures:
        print(failure)
    print(
        f"schema: {len(vectors)} vector inventories, {len(VALID)} valid and "
        f"{len(INVALID)} invalid cases checked against {SCHEMA.relative_to(ROOT)}"
    )
    print(
        f"schema: {manifest_checks} manifest checks (3 schemas, lint vectors without errors must "
        f"validate, {len(STRUCTURAL)} structurally invalid ones must be rejected) against "
        f"{MANIFEST_SCHEMAS.relative_to(ROOT)}/"
    )
    checks = len(vectors) + len(VALID) + len(INVALID) + manifest_checks
    print(f"schema: {checks - len(failed)} passed, {len(failed)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
