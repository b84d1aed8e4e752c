#!/usr/bin/env python3
"""Writes the key fixtures of core::trust::key's tests with independent producers: Python
`cryptography` (PKCS#8, SEC1, SPKI, deterministic RFC 6979 ECDSA) and PyNaCl + hashlib.scrypt
(cosign's encrypted key file: scrypt KDF, nacl/secretbox, PKCS#8 plaintext).

Run from this directory: `python3 make_keys.py` (needs `pip install cryptography pynacl`).
The keys are test keys; their passwords are in the tests.
"""

import base64
import hashlib
import json
import os

import nacl.secret
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

PASSWORD = b"cip-test-password"
MESSAGE = b"cip signs this message\n"


def pem_block(label, der):
    text = base64.b64encode(der).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def cosign_encrypted(pkcs8_der, password, label, n=32768, r=8, p=1):
    """cosign's format: JSON {kdf{name, params{N, r, p}, salt}, cipher{name, nonce}, ciphertext}."""
    salt = os.urandom(32)
    key = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024)
    nonce = os.urandom(24)
    box = nacl.secret.SecretBox(key)
    ciphertext = box.encrypt(pkcs8_der, nonce).ciphertext
    doc = {
        "kdf": {
            "name": "scrypt",
            "params": {"N": n, "r": r, "p": p},
            "salt": base64.b64encode(salt).decode(),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    return pem_block(label, json.dumps(doc).encode())


def write(name, text):
    with open(name, "w") as f:
        f.write(text)


def main():
    key = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    write("pkcs8.pem", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode())
    write("sec1.pem", key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption()).decode())
    write("public.pem", key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    # cosign's own parameters (N = 32768) under both labels cosign has written.
    write("cosign.key", cosign_encrypted(pkcs8, PASSWORD, "ENCRYPTED SIGSTORE PRIVATE KEY"))
    write("cosign-legacy.key", cosign_encrypted(pkcs8, PASSWORD, "ENCRYPTED COSIGN PRIVATE KEY"))
    # RFC 6979: the same key and message give this exact DER signature in any implementation.
    signature = key.sign(MESSAGE, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    write("message.sig", base64.b64encode(signature).decode() + "\n")
    other = ec.generate_private_key(ec.SECP384R1())
    write("p384.pem", other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode())


if __name__ == "__main__":
    main()
