#!/usr/bin/env python3
"""Verify Sigstore bundle referrers of an image with an independent implementation.

Finds the OCI 1.1 referrers of REPO@DIGEST in an (HTTP, loopback) registry with the standard
library: the referrers API when the registry answers it, else the referrers tag-schema index
(`sha256-<hex>`). For every referrer whose artifactType is the Sigstore bundle v0.3 media type
(optionally only those whose `dev.sigstore.bundle.predicateType` annotation is PREDICATE), it
checks with the `cryptography` package, not cip's code:

- the referrer's `subject` is DIGEST, and its layer bytes hash to the layer's digest;
- the bundle's mediaType is the v0.3 one and it names the key (publicKey) it was signed with;
- a `dsseEnvelope`: the ECDSA P-256 / SHA-256 signature verifies over the DSSE pre-authentication
  encoding (PAE) of exactly the payload bytes with the given public key; the payload is an
  in-toto statement whose subject has sha256 == DIGEST's hex, whose predicateType equals the
  referrer annotation, and (with --identity) whose subject name is IDENTITY;
- a `messageSignature`: the signature verifies over the artifact (--artifact FILE) and its
  messageDigest is the artifact's SHA-256.

Usage: verify_bundle.py --registry http://127.0.0.1:PORT --repo REPO --digest sha256:HEX
                        --key key.pub [--identity NAME] [--predicate TYPE] [--min N]
Prints one line per verified bundle; exits 1 when any check fails or fewer than N verified.
"""

import argparse
import base64
import hashlib
import json
import os
import sys
import urllib.error

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

# The registry fetch, key loading and summary of tests/attachments/verify_cosign.py (no
# __pycache__ left in the tree).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attachments"))
from verify_cosign import finish, get, load_key  # noqa: E402

BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType"
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def referrers(base, repo, digest):
    try:
        return json.loads(get(f"{base}/v2/{repo}/referrers/{digest}", INDEX)).get("manifests", [])
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
    try:
        tag = digest.replace(":", "-", 1)
        return json.loads(get(f"{base}/v2/{repo}/manifests/{tag}", INDEX)).get("manifests", [])
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return []
        raise


def pae(payload_type, payload):
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


def check(args, key, base, descriptor):
    """Returns a description of the verified bundle, or raises ValueError saying what failed."""
    digest = descriptor["digest"]
    raw = get(f"{base}/v2/{args.repo}/manifests/{digest}", MANIFEST)
    if "sha256:" + hashlib.sha256(raw).hexdigest() != digest:
        raise ValueError("referrer manifest bytes do not match its digest")
    manifest = json.loads(raw)
    if manifest.get("subject", {}).get("digest") != args.digest:
        raise ValueError(f"subject is {manifest.get('subject')}, not {args.digest}")
    if manifest.get("artifactType") != BUNDLE:
        raise ValueError(f"artifactType {manifest.get('artifactType')}")
    layer = manifest["layers"][0]
    data = get(f"{base}/v2/{args.repo}/blobs/{layer['digest']}")
    if "sha256:" + hashlib.sha256(data).hexdigest() != layer["digest"]:
        raise ValueError("bundle bytes do not match the layer digest")
    bundle = json.loads(data)
    if bundle.get("mediaType") != BUNDLE:
        raise ValueError(f"bundle mediaType {bundle.get('mediaType')}")
    if "publicKey" not in bundle.get("verificationMaterial", {}):
        raise ValueError("the bundle does not say it was signed with a key (publicKey)")
    if "dsseEnvelope" in bundle:
        envelope = bundle["dsseEnvelope"]
        payload = base64.b64decode(envelope["payload"])
        signature = base64.b64decode(envelope["signatures"][0]["sig"])
        try:
            key.verify(signature, pae(envelope["payloadType"], payload), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise ValueError(f"DSSE signature does not verify with {args.key}")
        statement = json.loads(payload)
        hexes = [s.get("digest", {}).get("sha256") for s in statement.get("subject", [])]
        if args.digest.split(":", 1)[1] not in hexes:
            raise ValueError(f"the statement is about {hexes}, not {args.digest}")
        annotated = manifest.get("annotations", {}).get(PREDICATE_ANNOTATION)
        if annotated is not None and annotated != statement.get("predicateType"):
            raise ValueError(f"predicateType {statement.get('predicateType')} but annotated {annotated}")
        names = [s.get("name") for s in statement.get("subject", [])]
        if args.identity and args.identity not in names:
            raise ValueError(f"the statement names {names}, not {args.identity}")
        return f"DSSE {statement.get('predicateType')} for {names}"
    signature = bundle["messageSignature"]
    if not args.artifact:
        raise ValueError("a message-signature bundle needs --artifact")
    with open(args.artifact, "rb") as f:
        artifact = f.read()
    if base64.b64decode(signature["messageDigest"]["digest"]) != hashlib.sha256(artifact).digest():
        raise ValueError("messageDigest is not the artifact's SHA-256")
    try:
        key.verify(base64.b64decode(signature["signature"]), artifact, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError(f"message signature does not verify with {args.key}")
    return "message signature"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--digest", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--identity")
    parser.add_argument("--predicate")
    parser.add_argument("--artifact")
    parser.add_argument("--min", type=int, default=1)
    args = parser.parse_args()

    key = load_key(args.key)

    base = args.registry.rstrip("/")
    verified = 0
    failures = []
    for descriptor in referrers(base, args.repo, args.digest):
        if descriptor.get("artifactType") != BUNDLE:
            continue
        predicate = descriptor.get("annotations", {}).get(PREDICATE_ANNOTATION)
        if args.predicate and predicate != args.predicate:
            continue
        try:
            what = check(args, key, base, descriptor)
        except (ValueError, KeyError) as e:
            failures.append(f"{descriptor['digest']}: {e}")
            continue
        verified += 1
        print(f"verified {descriptor['digest']}: {what}")
    finish(verified, failures, args.min, "bundle")


if __name__ == "__main__":
    main()
