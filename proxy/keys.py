"""Secret key files: made on first use with owner-only permissions, refused when exposed."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from .data_dir import default_data_dir

WATERMARK_KEY_NAME = "watermark.key"


class KeyFileError(OSError):
    """A key file that cannot be used safely; the message says what to do."""


def watermark_key_path(policy_file: Path, key_file: str | None) -> Path:
    """Where the watermark key lives: the policy's `watermark.key_file` (relative to the policy
    file's folder) if set, else DATA_DIR/keys/watermark.key."""
    if key_file:
        return policy_file.parent / Path(key_file).expanduser()
    return default_data_dir() / "keys" / WATERMARK_KEY_NAME


def load_or_create_key(path: Path, size: int = 32) -> bytes:
    """The key in `path`, made from `size` random bytes on first use (folders 0700, file 0600).

    The file appears complete or not at all (written aside, then hard-linked into place), so
    gateways starting together agree on one key. A key file that group or others may read, or of
    the wrong size, is refused rather than used.
    """
    try:
        return _read_key(path, size)
    except FileNotFoundError:
        pass
    _make_private_dirs(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(secrets.token_bytes(size))
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read_key(path, size)


def _read_key(path: Path, size: int) -> bytes:
    descriptor = os.open(path, os.O_RDONLY)  # symlinks allowed: secret mounts use them
    with os.fdopen(descriptor, "rb") as key_file:
        info = os.fstat(key_file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise KeyFileError(
                f"key file {path} can be read by group or others"
                f" (mode {stat.S_IMODE(info.st_mode):04o}); anyone who reads it can forge marks"
                " or undo pseudonyms."
                f" Run: chmod 600 {path}, and make a new key if it may have been copied"
            )
        key = key_file.read(size + 1)
    if len(key) != size:
        raise KeyFileError(f"key file {path} holds {len(key)} bytes, expected {size}")
    return key


def _make_private_dirs(folder: Path) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        try:
            new.mkdir(mode=0o700)
        except FileExistsError:
            continue
        new.chmod(0o700)  # mkdir's mode is cut by the umask
