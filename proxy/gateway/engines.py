"""The policy in force and the engines compiled from it, swapped whole on reload: a flow sees
one policy from start to end, and a broken file never replaces a good one."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from ..core.access import AccessPolicy
from ..core.forbidden.scanner import PhraseScanner
from ..core.limits import RateLimits
from ..core.masking import Masker
from ..core.policy.errors import PolicyError
from ..core.policy.loader import LoadedPolicy, load_policy
from ..core.watermark import Watermarker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Keys:
    """The gateway's secrets that the engines need (read once from the data dir)."""

    pseudonym: bytes
    watermark: bytes


@dataclass(frozen=True)
class Engines:
    loaded: LoadedPolicy
    version: str
    """A digest of every file the policy was read from: names the policy in the audit log."""
    access: AccessPolicy
    limits: RateLimits
    words: PhraseScanner
    masker: Masker
    watermarker: Watermarker

    @classmethod
    def build(cls, loaded: LoadedPolicy, keys: Keys) -> Engines:
        # The limits' windows live in the store under each limit's name, so a reload does not
        # hand agents a fresh allowance.
        limits = RateLimits(loaded.policy)
        return cls(
            loaded=loaded,
            version=policy_version(loaded),
            access=AccessPolicy(loaded.policy),
            limits=limits,
            words=PhraseScanner.from_policy(loaded),
            masker=Masker(loaded.policy, keys.pseudonym),
            watermarker=Watermarker(loaded.policy, keys.watermark),
        )


def policy_version(loaded: LoadedPolicy) -> str:
    digest = hashlib.sha256()
    for path in loaded.files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


class PolicyHolder:
    """The engines in force. `reload()` validates the file first and swaps only a good policy."""

    def __init__(self, path: Path, keys: Keys, loaded: LoadedPolicy | None = None) -> None:
        self.path = path
        self.keys = keys
        self._lock = threading.Lock()
        self._engines = Engines.build(loaded or load_policy(path), keys)

    @property
    def engines(self) -> Engines:
        return self._engines

    def reload(self) -> tuple[bool, str]:
        """(changed, message). On a broken file the last good policy stays in force and the
        message lists the problems with their locations."""
        with self._lock:
            try:
                loaded = load_policy(self.path)
            except PolicyError as err:
                log.error(
                    "policy reload refused, keeping version %s:\n%s", self._engines.version, err
                )
                return (
                    False,
                    f"policy reload refused; {self._engines.version} stays in force:\n{err}",
                )
            version = policy_version(loaded)
            if version == self._engines.version:
                return False, f"policy unchanged (version {version})"
            self._engines = Engines.build(loaded, self.keys)
            log.info("policy version %s in force", version)
            return True, f"policy version {version} in force"

    def files_changed_since(self, mtimes: dict[Path, float]) -> bool:
        """Whether any policy file changed since `mtimes` (which is updated)."""
        changed = False
        for path in {*self._engines.loaded.files, self.path.resolve()}:
            try:
                mtime = path.stat().st_mtime
            except OSError:
                mtime = -1.0
            if mtimes.get(path) != mtime:
                changed = changed or path in mtimes
                mtimes[path] = mtime
        return changed
