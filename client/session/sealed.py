"""Sealing the client's shift file: AES-256-GCM under a key derived (HKDF-SHA256) from the
device key, so status changes waiting on disk read as noise to anyone without that key, and a
file altered or copied from another PC is refused rather than trusted."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"HAS1"
NONCE_BYTES = 12


class SealedFileError(ValueError):
    """The sealed data cannot be opened: another device's key, or altered."""


def derive_key(device_private: bytes, purpose: bytes) -> bytes:
    """A 256-bit key for `purpose` from the raw Ed25519 private key (never used to sign)."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"homeagent client",
        info=purpose,
    ).derive(device_private)


def seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """`MAGIC | nonce | ciphertext+tag`; `context` is authenticated, not stored."""
    nonce = os.urandom(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def unseal(key: bytes, sealed: bytes, context: bytes) -> bytes:
    if not sealed.startswith(MAGIC) or len(sealed) < len(MAGIC) + NONCE_BYTES + 16:
        raise SealedFileError("not a sealed homeagent file")
    nonce = sealed[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, sealed[len(MAGIC) + NONCE_BYTES :], context)
    except InvalidTag:
        raise SealedFileError("sealed with another key, or altered") from None
