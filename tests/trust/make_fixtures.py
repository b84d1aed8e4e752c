#!/usr/bin/env python3
"""Writes the trust verification fixtures (tests/trust/fixtures/) with Python `cryptography`: an
independent producer of everything cip's core verifier (core::trust) must accept or refuse.

Deterministic: every key is derived from a fixed label (sha256 -> scalar), every certificate has
fixed serials and dates, and every ECDSA signature is RFC 6979 deterministic, so running the script
again rewrites the same bytes (`git diff --exit-code tests/trust/fixtures` after a run).

What it makes (see tests/trust/fixtures/README.md for the list of files):
- a fake Sigstore: root CA (P-384) -> intermediate (P-384) -> keyless leaf certificates (P-256) with
  the Fulcio extensions (OIDC issuer, legacy 1.3.6.1.4.1.57264.1.1 and 1.3.6.1.4.1.57264.1.8) and a
  SAN; a transparency log key (P-256) that signs Rekor signed entry timestamps over the canonical
  JSON {body, integratedTime, logID, logIndex} and RFC 6962 checkpoints; a trusted_root.json;
- a rogue CA not in the trusted root;
- cosign legacy `.sig` layers (keyed and keyless), `.att` DSSE layers, Sigstore bundle v0.3
  referrer layers, each written as the inventory's `signedLayers` JSON (SignedLayer objects).

Usage: python3 tests/trust/make_fixtures.py [OUT_DIR]   (default: the fixtures dir next to it)
"""

import base64
import datetime
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")

# The image every fixture is about, and another one (wrong digest).
IMAGE_DIGEST = "sha256:" + hashlib.sha256(b"cip trust fixture image manifest").hexdigest()
OTHER_DIGEST = "sha256:" + hashlib.sha256(b"some other image manifest").hexdigest()
REPO = "registry.example/stage/app"

IDENTITY = "signer@example.com"
ISSUER = "https://accounts.example.com"
URI_IDENTITY = "https://github.com/example/app/.github/workflows/release.yml@refs/heads/main"
URI_ISSUER = "https://token.actions.githubusercontent.com"

UTC = datetime.timezone.utc
# Leaf certificates are valid for ten minutes from LEAF_START (Fulcio's window).
LEAF_START = datetime.datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
LEAF_END = LEAF_START + datetime.timedelta(minutes=10)
INTEGRATED_TIME = int((LEAF_START + datetime.timedelta(minutes=1)).timestamp())
LATE_TIME = int((LEAF_END + datetime.timedelta(minutes=50)).timestamp())

DETERMINISTIC = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


def key(label, curve):
    """A private key derived from a label (fixed across runs)."""
    order = {
        "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        "P-384": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    }[curve]
    scalar = int.from_bytes(hashlib.sha512(label.encode()).digest(), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1() if curve == "P-256" else ec.SECP384R1())


def b64(data):
    return base64.b64encode(data).decode()


def spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_pem(public_key):
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cip-test"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def ca_cert(cn, subject_key, issuer_cert, issuer_key, serial, path_length):
    issuer_name = issuer_cert.subject if issuer_cert is not None else name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(issuer_name)
        .public_key(subject_key.public_key())
        .serial_number(serial)
        .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime.datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA384(), ecdsa_deterministic=True)


def der_utf8(text):
    raw = text.encode()
    assert len(raw) < 128
    return bytes([0x0C, len(raw)]) + raw


def leaf_cert(leaf_key, issuer_cert, issuer_key, serial, san, issuer, start, end, code_signing=True, extra=None):
    if san.startswith("https://"):
        alt = x509.UniformResourceIdentifier(san)
    elif "@" not in san:
        # Fulcio's username identity: otherName 1.3.6.1.4.1.57264.1.7 holding a UTF8String.
        alt = x509.OtherName(ObjectIdentifier("1.3.6.1.4.1.57264.1.7"), der_utf8(san))
    else:
        alt = x509.RFC822Name(san)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(issuer_cert.subject)
        .public_key(leaf_key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING if code_signing else ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([alt]), critical=True)
        # Fulcio: the OIDC issuer, legacy form (raw bytes) and the DER UTF8String form.
        .add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.1"), issuer.encode()), critical=False)
        .add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), der_utf8(issuer)), critical=False)
    )
    if extra is not None:
        builder = builder.add_extension(extra, critical=False)
    return builder.sign(issuer_key, hashes.SHA384(), ecdsa_deterministic=True)


def der_octet_string(data):
    n = len(data)
    if n < 128:
        return bytes([0x04, n]) + data
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x04, 0x80 | len(length)]) + length + data


def with_sct(leaf_key, issuer_cert, issuer_key, serial, san, issuer, start, end, ct_key, timestamp_ms):
    """A leaf with an embedded SCT (RFC 6962) from `ct_key` over its precertificate: the TBS
    without the SCT extension, bound to the issuer's key hash, as Fulcio's CT log signs it."""
    pre = leaf_cert(leaf_key, issuer_cert, issuer_key, serial, san, issuer, start, end)
    issuer_key_hash = hashlib.sha256(spki_der(issuer_cert.public_key())).digest()
    tbs = pre.tbs_certificate_bytes
    signed = (
        b"\x00\x00" + timestamp_ms.to_bytes(8, "big") + b"\x00\x01" + issuer_key_hash
        + len(tbs).to_bytes(3, "big") + tbs + b"\x00\x00"
    )
    signature = sign(ct_key, signed)
    log_id = hashlib.sha256(spki_der(ct_key.public_key())).digest()
    sct = b"\x00" + log_id + timestamp_ms.to_bytes(8, "big") + b"\x00\x00" + b"\x04\x03" + len(signature).to_bytes(2, "big") + signature
    entry = len(sct).to_bytes(2, "big") + sct
    sct_list = len(entry).to_bytes(2, "big") + entry
    extension = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), der_octet_string(sct_list))
    return leaf_cert(leaf_key, issuer_cert, issuer_key, serial, san, issuer, start, end, extra=extension)


def sign(private_key, message):
    return private_key.sign(message, DETERMINISTIC)


def sign_prehashed(private_key, digest):
    return private_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()), deterministic_signing=True))


def simple_signing(digest):
    # cosign's exact payload bytes (Go encoding/json of its struct: this key order, no spaces).
    return json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": REPO},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        },
        separators=(",", ":"),
    ).encode()


def statement(digest, predicate_type):
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": REPO, "digest": {"sha256": digest.split(":", 1)[1]}}],
            "predicateType": predicate_type,
            "predicate": {"buildType": "https://example.com/build/v1", "builder": {"id": "https://example.com/builder"}},
        },
        separators=(",", ":"),
    ).encode()


PAYLOAD_TYPE = "application/vnd.in-toto+json"
PROVENANCE = "https://slsa.dev/provenance/v1"


def pae(payload_type, payload):
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


class Log:
    """A fake Rekor: a P-256 key, an append-only list of entry bodies (RFC 6962 tree)."""

    def __init__(self, label, origin):
        self.key = key(label, "P-256")
        self.spki = spki_der(self.key.public_key())
        self.log_id = hashlib.sha256(self.spki).digest()
        self.origin = origin
        # Some unrelated entries first, so our entries sit inside a tree with real audit paths.
        self.leaves = [b"unrelated entry %d" % i for i in range(5)]

    def add(self, body):
        self.leaves.append(body)
        return len(self.leaves) - 1

    def set(self, body_b64, integrated_time, index, signer=None):
        message = canonical_set(body_b64, integrated_time, self.log_id.hex(), index)
        return sign(signer or self.key, message)

    def proof(self, index, size):
        leaves = [leaf_hash(leaf) for leaf in self.leaves[:size]]
        root = mth(leaves)
        path = audit_path(index, leaves)
        note = "%s\n%d\n%s\n" % (self.origin, size, b64(root))
        hint = hashlib.sha256(self.spki).digest()[:4]
        signature = sign(self.key, note.encode())
        envelope = note + "\n\u2014 %s %s\n" % (self.origin.split(" ")[0], b64(hint + signature))
        return {
            "logIndex": str(index),
            "rootHash": b64(root),
            "treeSize": str(size),
            "hashes": [b64(h) for h in path],
            "checkpoint": {"envelope": envelope},
        }


def canonical_set(body_b64, integrated_time, log_id_hex, index):
    return json.dumps(
        {"body": body_b64, "integratedTime": integrated_time, "logID": log_id_hex, "logIndex": index},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes_):
    """RFC 6962 Merkle tree hash over leaf hashes."""
    if len(hashes_) == 1:
        return hashes_[0]
    k = split_point(len(hashes_))
    return node_hash(mth(hashes_[:k]), mth(hashes_[k:]))


def audit_path(index, hashes_):
    """RFC 6962 PATH(m, D[n]), bottom-up."""
    if len(hashes_) == 1:
        return []
    k = split_point(len(hashes_))
    if index < k:
        return audit_path(index, hashes_[:k]) + [mth(hashes_[k:])]
    return audit_path(index - k, hashes_[k:]) + [mth(hashes_[:k])]


def hashedrekord(digest_hex, signature, verifier_pem):
    return json.dumps(
        {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest_hex}},
                "signature": {"content": b64(signature), "publicKey": {"content": b64(verifier_pem.encode())}},
            },
        },
        separators=(",", ":"),
    ).encode()


def dsse_entry(envelope_json, payload, signature, verifier_pem):
    return json.dumps(
        {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(envelope_json).hexdigest()},
                "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                "signatures": [{"signature": b64(signature), "verifier": b64(verifier_pem.encode())}],
            },
        },
        separators=(",", ":"),
    ).encode()


def intoto_entry(envelope_json, payload, signature, verifier_pem):
    # Rekor intoto v0.0.2 as cosign v2 logs attestations: the envelope's signature is stored
    # base64-encoded twice, the verifier as base64 PEM.
    return json.dumps(
        {
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {
                "content": {
                    "envelope": {
                        "payloadType": PAYLOAD_TYPE,
                        "signatures": [{"publicKey": b64(verifier_pem.encode()), "sig": b64(b64(signature).encode())}],
                    },
                    "hash": {"algorithm": "sha256", "value": hashlib.sha256(envelope_json).hexdigest()},
                    "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                }
            },
        },
        separators=(",", ":"),
    ).encode()


def layer(media_type, data, annotations):
    out = {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest()}
    if annotations:
        out["annotations"] = annotations
    out["data"] = b64(data)
    return out


def write(name_, content):
    path = os.path.join(OUT, name_)
    with open(path, "w", encoding="utf-8") as f:
        if isinstance(content, str):
            f.write(content)
        else:
            f.write(json.dumps(content, indent=2, sort_keys=True) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)

    signer = key("cip fixture signer", "P-256")
    wrong = key("cip fixture wrong signer", "P-256")
    root_key = key("cip fixture root ca", "P-384")
    inter_key = key("cip fixture intermediate ca", "P-384")
    leaf_key = key("cip fixture keyless leaf", "P-256")
    rogue_root_key = key("cip fixture rogue root", "P-384")
    rogue_inter_key = key("cip fixture rogue intermediate", "P-384")

    root = ca_cert("cip-test-root", root_key, None, root_key, 1001, 1)
    inter = ca_cert("cip-test-intermediate", inter_key, root, root_key, 1002, 0)
    rogue_root = ca_cert("cip-test-root", rogue_root_key, None, rogue_root_key, 1001, 1)
    rogue_inter = ca_cert("cip-test-intermediate", rogue_inter_key, rogue_root, rogue_root_key, 1002, 0)

    leaf = leaf_cert(leaf_key, inter, inter_key, 2001, IDENTITY, ISSUER, LEAF_START, LEAF_END)
    uri_leaf = leaf_cert(leaf_key, inter, inter_key, 2002, URI_IDENTITY, URI_ISSUER, LEAF_START, LEAF_END)
    rogue_leaf = leaf_cert(leaf_key, rogue_inter, rogue_inter_key, 2001, IDENTITY, ISSUER, LEAF_START, LEAF_END)
    username_leaf = leaf_cert(leaf_key, inter, inter_key, 2004, "alice", ISSUER, LEAF_START, LEAF_END)
    server_leaf = leaf_cert(leaf_key, inter, inter_key, 2003, IDENTITY, ISSUER, LEAF_START, LEAF_END, code_signing=False)

    log = Log("cip fixture transparency log", "cip-test-log - 1")
    wrong_log_key = key("cip fixture wrong log", "P-256")

    chain = cert_pem(inter) + cert_pem(root)
    rogue_chain = cert_pem(rogue_inter) + cert_pem(rogue_root)

    write("image_digest.txt", IMAGE_DIGEST + "\n")
    write("signer.pub", public_pem(signer.public_key()))
    write("wrong.pub", public_pem(wrong.public_key()))
    write("leaf.pem", cert_pem(leaf))
    write("rogue_leaf.pem", cert_pem(rogue_leaf))

    trusted_root = {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [
            {
                "baseUrl": "https://rekor.cip-test.invalid",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64(log.spki),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                },
                "logId": {"keyId": b64(log.log_id)},
            }
        ],
        "certificateAuthorities": [
            {
                "subject": {"organization": "cip-test", "commonName": "cip-test-root"},
                "uri": "https://fulcio.cip-test.invalid",
                "certChain": {
                    "certificates": [
                        {"rawBytes": b64(inter.public_bytes(serialization.Encoding.DER))},
                        {"rawBytes": b64(root.public_bytes(serialization.Encoding.DER))},
                    ]
                },
                "validFor": {"start": "2020-01-01T00:00:00Z"},
            }
        ],
        "ctlogs": [],
        "timestampAuthorities": [],
    }
    write("trusted_root.json", trusted_root)
    # A root whose CA chain does not hold: the intermediate under the rogue root.
    broken_root = json.loads(json.dumps(trusted_root))
    broken_root["certificateAuthorities"][0]["certChain"]["certificates"][1]["rawBytes"] = b64(
        rogue_root.public_bytes(serialization.Encoding.DER)
    )
    write("trusted_root_broken_chain.json", broken_root)
    # The same CA listed root first (older Sigstore roots did; the spec imposes no order).
    root_first = json.loads(json.dumps(trusted_root))
    root_first["certificateAuthorities"][0]["certChain"]["certificates"].reverse()
    write("trusted_root_root_first.json", root_first)

    # --- legacy `.sig` layers --------------------------------------------------------------
    payload = simple_signing(IMAGE_DIGEST)
    write("sig_keyed.json", [layer("application/vnd.dev.cosign.simplesigning.v1+json", payload,
                                   {"dev.cosignproject.cosign/signature": b64(sign(signer, payload))})])
    # Same signature, payload changed after signing (the layer digest matches the new bytes).
    tampered = payload.replace(REPO.encode(), b"registry.example/evil/app")
    write("sig_keyed_tampered.json", [layer("application/vnd.dev.cosign.simplesigning.v1+json", tampered,
                                            {"dev.cosignproject.cosign/signature": b64(sign(signer, payload))})])
    other = simple_signing(OTHER_DIGEST)
    write("sig_keyed_wrong_digest.json", [layer("application/vnd.dev.cosign.simplesigning.v1+json", other,
                                                {"dev.cosignproject.cosign/signature": b64(sign(signer, other))})])

    def keyless_sig(cert, chain_pem, integrated_time, set_signer=None, body_tamper=False):
        signature = sign(leaf_key, payload)
        body = hashedrekord(hashlib.sha256(payload).hexdigest(), signature, cert_pem(cert))
        index = log.add(body)
        body_b64 = b64(body)
        set_sig = log.set(body_b64, integrated_time, index, set_signer)
        if body_tamper:
            # A body naming another signature: the SET still verifies over it, the entry does not
            # match the layer.
            body_b64 = b64(hashedrekord(hashlib.sha256(payload).hexdigest(), sign(wrong, payload), cert_pem(cert)))
            set_sig = log.set(body_b64, integrated_time, index, set_signer)
        rekor_bundle = {
            "SignedEntryTimestamp": b64(set_sig),
            "Payload": {"body": body_b64, "integratedTime": integrated_time, "logIndex": index, "logID": log.log_id.hex()},
        }
        return [layer("application/vnd.dev.cosign.simplesigning.v1+json", payload, {
            "dev.cosignproject.cosign/signature": b64(signature),
            "dev.sigstore.cosign/certificate": cert_pem(cert),
            "dev.sigstore.cosign/chain": chain_pem,
            "dev.sigstore.cosign/bundle": json.dumps(rekor_bundle, separators=(",", ":")),
        })]

    write("sig_keyless.json", keyless_sig(leaf, chain, INTEGRATED_TIME))
    write("sig_keyless_uri.json", keyless_sig(uri_leaf, chain, INTEGRATED_TIME))
    write("sig_keyless_username.json", keyless_sig(username_leaf, chain, INTEGRATED_TIME))
    write("sig_keyless_rogue.json", keyless_sig(rogue_leaf, rogue_chain, INTEGRATED_TIME))
    write("sig_keyless_bad_set.json", keyless_sig(leaf, chain, INTEGRATED_TIME, set_signer=wrong_log_key))
    write("sig_keyless_expired.json", keyless_sig(leaf, chain, LATE_TIME))
    write("sig_keyless_not_code_signing.json", keyless_sig(server_leaf, chain, INTEGRATED_TIME))
    write("sig_keyless_entry_mismatch.json", keyless_sig(leaf, chain, INTEGRATED_TIME, body_tamper=True))

    # --- legacy `.att` layers (DSSE, in-toto statement) -----------------------------------
    def envelope(private_key, stmt):
        sig = sign(private_key, pae(PAYLOAD_TYPE, stmt))
        env = json.dumps({"payloadType": PAYLOAD_TYPE, "payload": b64(stmt), "signatures": [{"keyid": "", "sig": b64(sig)}]},
                         separators=(",", ":")).encode()
        return env, sig

    stmt = statement(IMAGE_DIGEST, PROVENANCE)
    env, _ = envelope(signer, stmt)
    write("att_keyed.json", [layer("application/vnd.dsse.envelope.v1+json", env, {"predicateType": PROVENANCE})])
    env_other, _ = envelope(signer, statement(OTHER_DIGEST, PROVENANCE))
    write("att_keyed_wrong_subject.json", [layer("application/vnd.dsse.envelope.v1+json", env_other, {"predicateType": PROVENANCE})])
    env_wrong, _ = envelope(wrong, stmt)
    write("att_keyed_wrong_key.json", [layer("application/vnd.dsse.envelope.v1+json", env_wrong, {"predicateType": PROVENANCE})])

    env_leaf, sig_leaf = envelope(leaf_key, stmt)
    body = dsse_entry(env_leaf, stmt, sig_leaf, cert_pem(leaf))
    index = log.add(body)
    rekor_bundle = {
        "SignedEntryTimestamp": b64(log.set(b64(body), INTEGRATED_TIME, index)),
        "Payload": {"body": b64(body), "integratedTime": INTEGRATED_TIME, "logIndex": index, "logID": log.log_id.hex()},
    }
    write("att_keyless.json", [layer("application/vnd.dsse.envelope.v1+json", env_leaf, {
        "predicateType": PROVENANCE,
        "dev.sigstore.cosign/certificate": cert_pem(leaf),
        "dev.sigstore.cosign/chain": chain,
        "dev.sigstore.cosign/bundle": json.dumps(rekor_bundle, separators=(",", ":")),
    })])

    # The same attestation logged as cosign v2 does (an intoto v0.0.2 entry).
    body = intoto_entry(env_leaf, stmt, sig_leaf, cert_pem(leaf))
    index = log.add(body)
    rekor_bundle = {
        "SignedEntryTimestamp": b64(log.set(b64(body), INTEGRATED_TIME, index)),
        "Payload": {"body": b64(body), "integratedTime": INTEGRATED_TIME, "logIndex": index, "logID": log.log_id.hex()},
    }
    write("att_keyless_intoto.json", [layer("application/vnd.dsse.envelope.v1+json", env_leaf, {
        "predicateType": PROVENANCE,
        "dev.sigstore.cosign/certificate": cert_pem(leaf),
        "dev.sigstore.cosign/chain": chain,
        "dev.sigstore.cosign/bundle": json.dumps(rekor_bundle, separators=(",", ":")),
    })])

    # --- Sigstore bundle v0.3 referrers ----------------------------------------------------
    # messageSignature over the image manifest: its digest is the image digest.
    digest_bytes = bytes.fromhex(IMAGE_DIGEST.split(":", 1)[1])

    def tlog_entry(body, integrated_time, proof=True, corrupt_proof=False):
        idx = log.add(body)
        entry = {
            "logIndex": str(idx),
            "logId": {"keyId": b64(log.log_id)},
            "kindVersion": {"kind": json.loads(body)["kind"], "version": json.loads(body)["apiVersion"]},
            "integratedTime": str(integrated_time),
            "inclusionPromise": {"signedEntryTimestamp": b64(log.set(b64(body), integrated_time, idx))},
            "canonicalizedBody": b64(body),
        }
        if proof:
            # A tree two entries larger than ours (as when the bundle is made a little later).
            log.leaves.append(b"later entry %d" % idx)
            log.leaves.append(b"later entry %d+" % idx)
            p = log.proof(idx, len(log.leaves))
            if corrupt_proof:
                p["hashes"][0] = b64(hashlib.sha256(b"not the sibling").digest())
            entry["inclusionProof"] = p
        return entry

    def message_bundle(private_key, cert, corrupt_proof=False, keyed=False):
        signature = sign_prehashed(private_key, digest_bytes)
        if keyed:
            material = {"publicKey": {"hint": b64(hashlib.sha256(spki_der(private_key.public_key())).digest())}, "tlogEntries": []}
        else:
            body = hashedrekord(digest_bytes.hex(), signature, cert_pem(cert))
            material = {
                "certificate": {"rawBytes": b64(cert.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [tlog_entry(body, INTEGRATED_TIME, corrupt_proof=corrupt_proof)],
            }
        bundle = {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": material,
            "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest_bytes)}, "signature": b64(signature)},
        }
        data = json.dumps(bundle, separators=(",", ":")).encode()
        return [layer("application/vnd.dev.sigstore.bundle.v0.3+json", data, {})]

    write("bundle_keyless.json", message_bundle(leaf_key, leaf))
    write("bundle_keyless_bad_proof.json", message_bundle(leaf_key, leaf, corrupt_proof=True))
    write("bundle_keyed.json", message_bundle(signer, None, keyed=True))

    # cosign v3's image signature: a DSSE bundle over a statement of predicate type
    # https://sigstore.dev/cosign/sign/v1 about the image, here key-signed without a log entry.
    sign_stmt = statement(IMAGE_DIGEST, "https://sigstore.dev/cosign/sign/v1")
    env_sign, _ = envelope(signer, sign_stmt)
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": ""}},
        "dsseEnvelope": json.loads(env_sign),
    }
    write("bundle_dsse_sign_keyed.json", [layer("application/vnd.dev.sigstore.bundle.v0.3+json",
                                                json.dumps(bundle, separators=(",", ":")).encode(), {})])

    # A DSSE bundle carrying a provenance attestation (cosign v3 `attest`).
    env_leaf, sig_leaf = envelope(leaf_key, stmt)
    body = dsse_entry(env_leaf, stmt, sig_leaf, cert_pem(leaf))
    env_obj = json.loads(env_leaf)
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": b64(leaf.public_bytes(serialization.Encoding.DER))},
            "tlogEntries": [tlog_entry(body, INTEGRATED_TIME)],
        },
        "dsseEnvelope": env_obj,
    }
    write("bundle_att_keyless.json", [layer("application/vnd.dev.sigstore.bundle.v0.3+json",
                                            json.dumps(bundle, separators=(",", ":")).encode(), {})])


    # --- certificate transparency (last, so the log indexes above stay as they were) -------
    ct_key = key("cip fixture ct log", "P-256")
    wrong_ct_key = key("cip fixture wrong ct log", "P-256")
    root_ct = json.loads(json.dumps(trusted_root))
    ct_spki = spki_der(ct_key.public_key())
    root_ct["ctlogs"] = [
        {
            "baseUrl": "https://ctfe.cip-test.invalid",
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": b64(ct_spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": {"start": "2020-01-01T00:00:00Z"}},
            "logId": {"keyId": b64(hashlib.sha256(ct_spki).digest())},
        }
    ]
    write("trusted_root_ct.json", root_ct)
    sct_ms = int(LEAF_START.timestamp()) * 1000
    sct_leaf = with_sct(leaf_key, inter, inter_key, 2005, IDENTITY, ISSUER, LEAF_START, LEAF_END, ct_key, sct_ms)
    bad_sct_leaf = with_sct(leaf_key, inter, inter_key, 2006, IDENTITY, ISSUER, LEAF_START, LEAF_END, wrong_ct_key, sct_ms)
    write("sig_keyless_sct.json", keyless_sig(sct_leaf, chain, INTEGRATED_TIME))
    write("sig_keyless_bad_sct.json", keyless_sig(bad_sct_leaf, chain, INTEGRATED_TIME))

    # --- a key-signed `.sig` that was also logged (cosign's default with a key) -------------
    keyed_sig = sign(signer, payload)
    body = hashedrekord(hashlib.sha256(payload).hexdigest(), keyed_sig, public_pem(signer.public_key()))
    for name_, set_signer in (("sig_keyed_logged.json", None), ("sig_keyed_logged_bad_set.json", wrong_log_key)):
        index = log.add(body)
        rekor_bundle = {
            "SignedEntryTimestamp": b64(log.set(b64(body), INTEGRATED_TIME, index, set_signer)),
            "Payload": {"body": b64(body), "integratedTime": INTEGRATED_TIME, "logIndex": index, "logID": log.log_id.hex()},
        }
        write(name_, [layer("application/vnd.dev.cosign.simplesigning.v1+json", payload, {
            "dev.cosignproject.cosign/signature": b64(keyed_sig),
            "dev.sigstore.cosign/bundle": json.dumps(rekor_bundle, separators=(",", ":")),
        })])

if __name__ == "__main__":
    main()
