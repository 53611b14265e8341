"""Secret keys the gateway keeps on its own disk (pseudonym key, watermark key): read, or made
on first use with owner-only permissions."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

DEFAULT_DATA_DIR = Path("~/.local/share/homeagent-proxy")


class KeyFileError(Exception):
    """A key file that exists but cannot be trusted or read."""


def data_dir() -> Path:
    """`$HOMEAGENT_DATA_DIR`, else ~/.local/share/homeagent-proxy."""
    return Path(os.environ.get("HOMEAGENT_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()


def load_or_create_key(path: Path, size: int = 32) -> bytes:
    """The key stored at `path`; made (random, `size` bytes, mode 0600) if there is none.

    A key that others may read, or of the wrong size, is refused rather than used.
    """
    path = Path(path).expanduser()
    try:
        return _read_key(path, size)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(size)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path, size)  # another process made it first
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


def _read_key(path: Path, size: int) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: readable by others (mode {stat.filemode(mode)}); run: chmod 600 {path}"
        )
    key = path.read_bytes()
    if len(key) != size:
        raise KeyFileError(f"{path}: holds {len(key)} bytes, expected a {size}-byte key")
    return key
