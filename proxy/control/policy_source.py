"""The gateway's current policy, swapped whole on reload; every reload, kept or refused, is
audited with a digest of the files it read."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from ..core.policy.errors import PolicyError
from ..core.policy.loader import LoadedPolicy, load_policy
from ..store import AuditWriter


def policy_digest(loaded: LoadedPolicy) -> str:
    """SHA-256 over every file the policy read (names and contents), to tell versions apart."""
    digest = hashlib.sha256()
    for path in sorted(loaded.files):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class PolicySource:
    """Callable: returns the current policy (what ControlContext.policy wants)."""

    def __init__(self, loaded: LoadedPolicy, audit: AuditWriter) -> None:
        self._loaded = loaded
        self._audit = audit
        self._lock = threading.Lock()

    def __call__(self) -> LoadedPolicy:
        return self._loaded

    def reload(self) -> LoadedPolicy:
        """Load the policy file again. A policy that does not load leaves the current one in
        force and raises PolicyError; either way the attempt is audited."""
        with self._lock:
            path = self._loaded.path
            try:
                loaded = load_policy(path)
            except PolicyError as err:
                self._audit.append(
                    "policy.reload",
                    {"path": str(path), "ok": False, "problems": [str(p) for p in err.problems]},
                )
                raise
            self._audit.append(
                "policy.reload",
                {
                    "path": str(path),
                    "ok": True,
                    "sha256": policy_digest(loaded),
                    "notice_version": loaded.policy.notice.version,
                },
            )
            self._loaded = loaded
            return loaded


def load_policy_source(path: str | Path, audit: AuditWriter) -> PolicySource:
    return PolicySource(load_policy(path), audit)
