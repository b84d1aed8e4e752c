#!/usr/bin/env python3
"""Writes the trust gate's plan vectors (tests/vectors/plan/trust-*/) with Python `cryptography`:
an independent producer of the signatures cip's planner must accept or refuse.

Deterministic: keys are derived from fixed labels (sha512 -> scalar) and every ECDSA signature is
RFC 6979 deterministic, so running the script again rewrites the same bytes
(`git diff --exit-code tests/vectors/plan` after a run). It writes each case's `input/`,
`inventory.json`, `options.json` and keys; `expected.json` is the planner's
(`UPDATE_VECTORS=1 cargo test -p cip-core --test plan_vectors`, reviewed).

Cases:
- trust-keyed-gate: one manifest with five images of one repository: unsigned, signed with
  another key, correctly signed, tampered payload (re-hashed layer, stale signature), and a valid
  signature whose payload names another digest; `--require-signature --verify-key key.pub`: only
  the correctly signed one is copied (with its `.sig`), the others are blocked at their lines.
- trust-keyed-no-policy: the same registry state without options: only the signature naming
  another digest is refused (`signature-invalid`); what needs a key to judge passes.
- trust-attestation: `--require-attestation https://slsa.dev/provenance/v1` with the key: signed
  and attested (copied), signed without attestation (`attestation-missing`), attested by another
  key (refused).
- trust-refused-held-everywhere: a digest in place in one destination and missing from another,
  whose signature names another digest: refused where it moves, its signature held in both.
- trust-keyless: keyless `.sig` layers and a Sigstore bundle referrer from tests/trust/fixtures/
  (H1a's producer, also Python `cryptography`) against its trusted root, with identity and issuer
  constraints: good legacy and bundle signatures pass; a leaf from a rogue CA and one expired at
  its log time are refused.

Usage: python3 tests/vectors/plan/make_trust_vectors.py
"""

import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "trust", "fixtures")

SRC = "gcr.io/k8s-staging-foo"
DST = "registry.k8s.io/prod"
IMAGE_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE = "application/vnd.dsse.envelope.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
PROVENANCE = "https://slsa.dev/provenance/v1"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def key(label):
    """A P-256 private key derived from a label (fixed across runs)."""
    scalar = int.from_bytes(hashlib.sha512(label.encode()).digest(), "big") % (P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


SIGNER = key("cip trust vectors: signer")
OTHER = key("cip trust vectors: another signer")


def sign(private_key, message):
    der = private_key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    return base64.b64encode(der).decode()


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def label_digest(label):
    """A manifest digest named after what it stands for (the planner never hashes manifests)."""
    return digest_of(("cip trust vector: " + label).encode())


def public_pem(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def payload(repo, digest, optional=None):
    """cosign's simple-signing payload, compact as cosign writes it."""
    doc = {
        "critical": {
            "identity": {"docker-reference": repo},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": optional,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def layer(media_type, data, annotations):
    return {
        "mediaType": media_type,
        "digest": digest_of(data),
        "annotations": annotations,
        "data": base64.b64encode(data).decode(),
    }


def sig_layer(private_key, data, signed=None):
    """A legacy `.sig` layer over `data` (signed over `signed` when given: a stale signature)."""
    return layer(SIMPLE_SIGNING, data, {SIGNATURE_ANNOTATION: sign(private_key, signed or data)})


def pae(payload_type, body):
    """DSSE pre-authentication encoding."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def att_layer(private_key, repo, digest):
    """A legacy `.att` layer: a DSSE envelope of an in-toto SLSA provenance statement."""
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": repo, "digest": {"sha256": digest.split(":", 1)[1]}}],
        "predicateType": PROVENANCE,
        "predicate": {"buildDefinition": {"buildType": "https://example.invalid/build/v1"}},
    }
    body = json.dumps(statement, separators=(",", ":")).encode()
    payload_type = "application/vnd.in-toto+json"
    envelope = {
        "payloadType": payload_type,
        "payload": base64.b64encode(body).decode(),
        "signatures": [{"keyid": "", "sig": sign(private_key, pae(payload_type, body))}],
    }
    data = json.dumps(envelope, separators=(",", ":")).encode()
    return layer(DSSE, data, {"predicateType": PROVENANCE})


def attachment(subject, suffix, layers, label):
    """An inventory entry for a tag-scheme attachment of `subject` holding `layers`."""
    hex_ = subject.split(":", 1)[1]
    return label_digest(label), {
        "tags": [f"sha256-{hex_}.{suffix}"],
        "mediaType": IMAGE_MEDIA_TYPE,
        "layers": [l["digest"] for l in layers],
        "signedLayers": layers,
    }


def manifest(images):
    """A promoter manifest: images -> sorted {digest: [tag]}."""
    lines = ["registries:", f"- name: {SRC}", "  src: true", f"- name: {DST}", "images:"]
    for name, dmap in images:
        lines += [f"- name: {name}", "  dmap:"]
        for digest, tag in sorted(dmap):
            lines.append(f'    "{digest}": ["{tag}"]')
    return "\n".join(lines) + "\n"


def write_case(name, manifest_text, repositories, options, files=None):
    case = os.path.join(HERE, name)
    os.makedirs(os.path.join(case, "input"), exist_ok=True)
    with open(os.path.join(case, "input", "promoter.yaml"), "w") as f:
        f.write(manifest_text)
    with open(os.path.join(case, "inventory.json"), "w") as f:
        f.write(json.dumps({"repositories": repositories}, indent=2, sort_keys=True) + "\n")
    if options:
        with open(os.path.join(case, "options.json"), "w") as f:
            f.write(json.dumps(options, indent=2) + "\n")
    for file_name, text in (files or {}).items():
        with open(os.path.join(case, file_name), "w") as f:
            f.write(text)


def keyed_state():
    """The five images of the keyed cases and their source repository."""
    repo = f"{SRC}/foo"
    d = {k: label_digest(k) for k in ["unsigned", "wrong-key", "good", "tampered", "other-digest"]}
    src = {digest: {"tags": [tag], "mediaType": IMAGE_MEDIA_TYPE} for tag, digest in d.items()}
    good = payload(repo, d["good"])
    signed_tampered = payload(repo, d["tampered"])
    tampered = payload(repo, d["tampered"], {"note": "changed after signing"})
    sigs = {
        "wrong-key": [sig_layer(OTHER, payload(repo, d["wrong-key"]))],
        "good": [sig_layer(SIGNER, good)],
        "tampered": [sig_layer(SIGNER, tampered, signed=signed_tampered)],
        "other-digest": [sig_layer(SIGNER, payload(repo, d["unsigned"]))],
    }
    for tag, layers in sigs.items():
        digest, info = attachment(d[tag], "sig", layers, f"{tag} .sig")
        src[digest] = info
    text = manifest([("foo", [(digest, tag) for tag, digest in d.items()])])
    return text, {repo: src, f"{DST}/foo": {}}


def keyed_cases():
    text, repositories = keyed_state()
    write_case(
        "trust-keyed-gate",
        text,
        repositories,
        {"requireSignature": True, "verifyKey": "key.pub"},
        {"key.pub": public_pem(SIGNER)},
    )
    write_case("trust-keyed-no-policy", text, repositories, None)


def attestation_case():
    repo = f"{SRC}/foo"
    d = {k: label_digest("att " + k) for k in ["attested", "not-attested", "attested-by-another"]}
    src = {digest: {"tags": [tag], "mediaType": IMAGE_MEDIA_TYPE} for tag, digest in d.items()}
    for tag, digest in d.items():
        sig, info = attachment(digest, "sig", [sig_layer(SIGNER, payload(repo, digest))], f"att {tag} .sig")
        src[sig] = info
    for tag, signer in [("attested", SIGNER), ("attested-by-another", OTHER)]:
        att, info = attachment(d[tag], "att", [att_layer(signer, repo, d[tag])], f"att {tag} .att")
        src[att] = info
    text = manifest([("foo", [(digest, tag) for tag, digest in d.items()])])
    write_case(
        "trust-attestation",
        text,
        {repo: src, f"{DST}/foo": {}},
        {"requireSignature": True, "verifyKey": "key.pub", "requireAttestation": [PROVENANCE]},
        {"key.pub": public_pem(SIGNER)},
    )


def fixture_repositories(images, label):
    """One digest (the fixtures' image) in a source repository per image, each holding the
    evidence of one fixture file (a `.sig` tag or a Sigstore bundle referrer)."""
    with open(os.path.join(FIXTURES, "image_digest.txt")) as f:
        digest = f.read().strip()

    def fixture(name):
        with open(os.path.join(FIXTURES, name)) as f:
            return json.load(f)

    repositories = {}
    for name, (kind, file_name) in images.items():
        src = {digest: {"tags": ["1.0"], "mediaType": IMAGE_MEDIA_TYPE}}
        if kind == "sig":
            att, info = attachment(digest, "sig", fixture(file_name), f"{label} {name} .sig")
            src[att] = info
        elif kind == "referrer":
            layers = fixture(file_name)
            src[label_digest(f"{label} {name} referrer")] = {
                "mediaType": IMAGE_MEDIA_TYPE,
                "subject": digest,
                "artifactType": BUNDLE,
                "signedLayers": layers,
            }
        repositories[f"{SRC}/{name}"] = src
        repositories[f"{DST}/{name}"] = {}
    text = manifest([(name, [(digest, "1.0")]) for name in images])
    return text, repositories


def keyless_case():
    """Keyless legacy and bundle signatures against the fixtures' trusted root."""
    images = {
        "legacy": ("sig", "sig_keyless.json"),
        "bundle": ("referrer", "bundle_keyless.json"),
        "rogue": ("sig", "sig_keyless_rogue.json"),
        "expired": ("sig", "sig_keyless_expired.json"),
        "unsigned": (None, None),
    }
    text, repositories = fixture_repositories(images, "keyless")
    write_case(
        "trust-keyless",
        text,
        repositories,
        {
            "requireSignature": True,
            "trustedRoot": "../../../trust/fixtures/trusted_root.json",
            "certificateIdentity": "signer@example.com",
            "certificateOidcIssuer": "https://accounts.example.com",
        },
    )


def fixture_keyed_case():
    """The fixtures' keyed evidence: a legacy `.sig` and a bundle with a public-key hint pass
    with signer.pub; a tampered payload and a payload naming another digest do not."""
    images = {
        "legacy": ("sig", "sig_keyed.json"),
        "bundle": ("referrer", "bundle_keyed.json"),
        "tampered": ("sig", "sig_keyed_tampered.json"),
        "wrong-digest": ("sig", "sig_keyed_wrong_digest.json"),
    }
    text, repositories = fixture_repositories(images, "keyed")
    write_case(
        "trust-keyed-fixtures",
        text,
        repositories,
        {"requireSignature": True, "verifyKey": "../../../trust/fixtures/signer.pub"},
    )


def held_everywhere_case():
    """A digest already in one destination and missing from another, whose signature names
    another digest: refused where it moves, and its signature is held in both destinations (no
    untrusted signature travels, even where the image itself is in place)."""
    repo = f"{SRC}/foo"
    digest, other = label_digest("held image"), label_digest("held other image")
    sig, info = attachment(digest, "sig", [sig_layer(SIGNER, payload(repo, other))], "held .sig")
    src = {digest: {"tags": ["1.0"], "mediaType": IMAGE_MEDIA_TYPE}, sig: info}
    mirror = "mirror.example.io/prod"
    lines = ["registries:", f"- name: {SRC}", "  src: true", f"- name: {DST}", f"- name: {mirror}", "images:"]
    lines += ["- name: foo", "  dmap:", f'    "{digest}": ["1.0"]']
    write_case(
        "trust-refused-held-everywhere",
        "\n".join(lines) + "\n",
        {
            repo: src,
            f"{DST}/foo": {digest: {"tags": ["1.0"], "mediaType": IMAGE_MEDIA_TYPE}},
            f"{mirror}/foo": {},
        },
        None,
    )


if __name__ == "__main__":
    held_everywhere_case()
    keyed_cases()
    attestation_case()
    keyless_case()
    fixture_keyed_case()
