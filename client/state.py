"""Where the client keeps what it must remember between runs, and how each file is written:
whole or not at all (a temporary file renamed into place), readable only by the agent."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


def client_home() -> Path:
    """`$HOMEAGENT_HOME`, else `~/.local/share/homeagent` (created 0700 on first use)."""
    configured = os.environ.get("HOMEAGENT_HOME")
    home = Path(configured) if configured else Path.home() / ".local" / "share" / "homeagent"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically and durably, mode 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What enrolment learnt: who this PC works for, and how to reach the gateway."""

    agent: str
    role: str
    control_url: str
    """`https://host:port` of the control API (its UDP echo is on the same port)."""
    proxy: str
    """`host:port` of the gateway's proxy listener (TLS)."""
    ca_file: str
    """The gateway's CA, pinned for both."""


@dataclass(frozen=True, slots=True)
class Session:
    """The session token from clock-in, carried in `Proxy-Authorization` on every request."""

    token: str
    expires_at: float
    """Unix seconds."""


ENROLMENT_FILE = "gateway.json"
SESSION_FILE = "session.json"


def _load(name: str, home: Path | None) -> dict[str, Any] | None:
    path = (home or client_home()) / name
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    return data


def save_enrolment(enrolment: Enrolment, home: Path | None = None) -> None:
    path = (home or client_home()) / ENROLMENT_FILE
    write_private(path, json.dumps(asdict(enrolment), indent=2).encode())


def load_enrolment(home: Path | None = None) -> Enrolment | None:
    data = _load(ENROLMENT_FILE, home)
    return None if data is None else Enrolment(**data)


def save_session(session: Session, home: Path | None = None) -> None:
    path = (home or client_home()) / SESSION_FILE
    write_private(path, json.dumps(asdict(session)).encode())


def load_session(home: Path | None = None) -> Session | None:
    data = _load(SESSION_FILE, home)
    return None if data is None else Session(**data)


def clear_session(home: Path | None = None) -> None:
    ((home or client_home()) / SESSION_FILE).unlink(missing_ok=True)
