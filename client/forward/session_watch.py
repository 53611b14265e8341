"""The forwarder's token provider: the session file from clock-in, read again whenever it changes
(a renewed token), and no token at all once it is cleared or expired (clock-out)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ..state import SESSION_FILE, Session, client_home, load_session

_Stamp = tuple[int, int, int]


class SessionWatch:
    """Call it for the current token. It stats the file on each call (cheap, and no file
    watcher dependency on three operating systems) and parses it only when it changed."""

    def __init__(self, home: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self._home = home or client_home()
        self._clock = clock
        self._stamp: _Stamp | None = None
        self._session: Session | None = None

    @property
    def path(self) -> Path:
        return self._home / SESSION_FILE

    def session(self) -> Session | None:
        """The session as the file has it now, expired or not; None without a readable file."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._session = None, None
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self._stamp:
            try:
                self._session = load_session(self._home)
            except (OSError, ValueError, TypeError):
                # A damaged file (bad JSON, missing fields) is no session; the writer replaces
                # files whole, so the next change brings a readable one.
                self._session = None
            self._stamp = stamp
        return self._session

    def __call__(self) -> str | None:
        """The token while the session lasts; None once it is cleared or has expired."""
        session = self.session()
        if session is None or session.expires_at <= self._clock() or not session.token:
            return None
        return session.token
