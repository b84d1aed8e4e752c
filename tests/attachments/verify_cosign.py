#!/usr/bin/env python3
"""Verify cosign tag-scheme signatures of an image with an independent implementation.

Reads `sha256-<hex>.sig` of REPO@DIGEST from an (HTTP, loopback) registry with the standard
library, then for every simple-signing layer checks, using the `cryptography` package (not cip's
code): the layer bytes hash to the layer's digest; the `dev.cosignproject.cosign/signature`
annotation is a valid ECDSA P-256 / SHA-256 signature over exactly those bytes with the given
public key; and the payload's `critical.image.docker-manifest-digest` equals DIGEST.

Usage: verify_cosign.py --registry http://127.0.0.1:PORT --repo REPO --digest sha256:HEX
                        --key cosign.pub [--min N]
Prints one line per verified signature; exits 1 when any check fails or fewer than N verified.
"""

import argparse
import base64
import hashlib
import json
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE = "dev.cosignproject.cosign/signature"
ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"


def get(url, accept=None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def load_key(path):
    """The ECDSA P-256 public key in the PEM file at PATH; exits saying so when it is not one."""
    with open(path, "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        sys.exit(f"{path}: not an ECDSA P-256 public key")
    return key


def finish(verified, failures, minimum, noun):
    """Prints the FAILURES on stderr; exits 1 when there are any or fewer than MINIMUM verified."""
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    if failures or verified < minimum:
        print(f"{verified} {noun}(s) verified, {len(failures)} failed, {minimum} required", file=sys.stderr)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--digest", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--min", type=int, default=1)
    args = parser.parse_args()

    key = load_key(args.key)

    base = args.registry.rstrip("/")
    tag = args.digest.replace(":", "-", 1) + ".sig"
    manifest = json.loads(get(f"{base}/v2/{args.repo}/manifests/{tag}", ACCEPT))
    verified = 0
    failures = []
    for layer in manifest.get("layers", []):
        if layer.get("mediaType") != SIMPLE_SIGNING:
            continue
        digest = layer["digest"]
        payload = get(f"{base}/v2/{args.repo}/blobs/{digest}")
        if "sha256:" + hashlib.sha256(payload).hexdigest() != digest:
            failures.append(f"{digest}: payload bytes do not match the layer digest")
            continue
        signature = base64.b64decode(layer.get("annotations", {}).get(SIGNATURE, ""))
        try:
            key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            failures.append(f"{digest}: signature does not verify with {args.key}")
            continue
        claimed = json.loads(payload)["critical"]["image"]["docker-manifest-digest"]
        if claimed != args.digest:
            failures.append(f"{digest}: signs {claimed}, not {args.digest}")
            continue
        verified += 1
        print(f"verified {digest} signs {claimed}")
    finish(verified, failures, args.min, "signature")


if __name__ == "__main__":
    main()
