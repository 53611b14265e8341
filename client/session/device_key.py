"""The PC's Ed25519 device key: made once at enrolment, kept 0600 in the client's home, and the
root of everything the PC proves to the gateway (signed requests, posture reports, the sealed
status queue). Losing it means enrolling again with a new code."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..state import client_home, write_private

DEVICE_KEY_FILE = "device-key.pem"


class DeviceKeyError(Exception):
    """The device key is missing or unreadable: the PC must enrol (again)."""


def key_path(home: Path | None = None) -> Path:
    return (home or client_home()) / DEVICE_KEY_FILE


def new_device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def save_device_key(key: Ed25519PrivateKey, home: Path | None = None) -> Path:
    """Written atomically with mode 0600 (PKCS#8, unencrypted: the OS account protects it, as
    it does the agent's browser profile)."""
    path = key_path(home)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private(path, pem)
    return path


def load_device_key(home: Path | None = None) -> Ed25519PrivateKey:
    path = key_path(home)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise DeviceKeyError(f"no device key at {path}") from None
    except ValueError as err:
        raise DeviceKeyError(f"the device key at {path} is unreadable: {err}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise DeviceKeyError(f"the device key at {path} is not an Ed25519 key")
    return key


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key, as enrolment registers it."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def private_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte private key: input keying material for keys derived from it."""
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def fingerprint(key: Ed25519PrivateKey) -> str:
    """Hex SHA-256 of the raw public key: how the gateway names this device."""
    return hashlib.sha256(public_bytes(key)).hexdigest()
