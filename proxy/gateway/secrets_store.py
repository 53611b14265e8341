"""The gateway's signing keys in the data dir: Ed25519 from a 32-byte seed file made on first
use with 0600 permissions (the same file rules as every other key)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..keys import load_or_create_key


def signing_key(path: Path) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(load_or_create_key(path, 32))
