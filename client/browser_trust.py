"""Making the agent's browsers trust the gateway's CA, which signs the business pages the gateway
inspects. Browsers on Linux keep their trust in NSS databases: Chromium and Chrome read
~/.pki/nssdb, each Firefox profile has its own. `certutil` (Debian: libnss3-tools) edits them."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .checks.result import Hint

NICKNAME = "homeagent gateway CA"
"""How the CA is named in each database: what `trusts`, `install` and `remove` look for."""
TRUST_FLAGS = "C,,"
"""Trusted to issue server certificates (web sites), and for nothing else (not e-mail, not code)."""
CERTUTIL_TIMEOUT_S = 30

NO_CERTUTIL = Hint(
    zh="此电脑缺少 certutil 工具（Debian/Ubuntu 软件包 libnss3-tools）：请安装后重试，"
    "或请技术支持帮忙",
    en="This PC lacks the certutil tool (Debian/Ubuntu package libnss3-tools): install it and "
    "try again, or ask support",
)


class TrustError(Exception):
    """A browser's certificate store could not be read or changed; `hint` says what to do."""

    def __init__(self, hint: Hint) -> None:
        super().__init__(hint.en)
        self.hint = hint


@dataclass(frozen=True, slots=True)
class BrowserStore:
    """One NSS database and the browser that reads it."""

    browser: str
    """`Chromium / Chrome`, or `Firefox (PROFILE)`."""
    path: Path

    @property
    def exists(self) -> bool:
        return (self.path / "cert9.db").exists()


@dataclass(frozen=True, slots=True)
class BrowserTrust:
    """The enrolled gateway's CA and the agent's browsers: what `homeagent trust` and the TUI
    ask and do (every call runs certutil: worker threads only)."""

    ca_file: Path
    home: Path
    """The agent's home folder, where the browsers keep their databases."""

    @property
    def ca_pem(self) -> str:
        return self.ca_file.read_text("ascii")

    def stores(self) -> list[BrowserStore]:
        return browser_stores(self.home)

    def trusted_in(self) -> list[BrowserStore]:
        ca_pem = self.ca_pem
        return [store for store in self.stores() if trusts(store, ca_pem)]

    def trust_all(self) -> list[BrowserStore]:
        """Trust the CA in every store (Chromium's made if missing); the stores changed."""
        ca_pem, stores = self.ca_pem, self.stores()
        for store in stores:
            install(store, ca_pem, self.ca_file)
        return stores


def agent_home() -> Path:
    """Where the agent's browsers keep their settings: $HOME."""
    return Path(os.environ.get("HOME") or Path.home())


def browser_stores(home: Path) -> list[BrowserStore]:
    """Chromium's shared database (made on install if missing: Chromium creates it on first
    start anyway) and every Firefox profile's that exists."""
    stores = [BrowserStore("Chromium / Chrome", home / ".pki" / "nssdb")]
    for root in (home / ".mozilla" / "firefox", home / "snap/firefox/common/.mozilla/firefox"):
        for cert_db in sorted(root.glob("*/cert9.db")):
            stores.append(BrowserStore(f"Firefox ({cert_db.parent.name})", cert_db.parent))
    return stores


def trusts(store: BrowserStore, ca_pem: str) -> bool:
    """Whether the store holds this very CA under our name, trusted for web sites."""
    if not store.exists:
        return False
    listed = _certutil("-L", "-d", _db(store), "-n", NICKNAME, "-a", check=False)
    if listed.returncode != 0:
        return False  # not there (certutil says so with an error)
    if _der(ca_pem) not in {_der(pem) for pem in _pems(listed.stdout)}:
        return False  # an older CA under our name: the gateway's was replaced since
    return TRUST_FLAGS.split(",")[0] in _trust_of(store)


def install(store: BrowserStore, ca_pem: str, ca_file: Path) -> None:
    """Trust the CA in the store for web sites (making the store if it is missing); an older CA
    under our name (the gateway's CA was replaced) is removed first."""
    if not store.exists:
        store.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        _certutil("-N", "-d", _db(store), "--empty-password")
    elif trusts(store, ca_pem):
        return
    remove(store)
    _certutil("-A", "-d", _db(store), "-t", TRUST_FLAGS, "-n", NICKNAME, "-i", str(ca_file))


def remove(store: BrowserStore) -> bool:
    """Remove every certificate under our name; whether there was one."""
    removed = False
    for _ in range(8):  # bounded: one per older CA a store may still hold
        if (
            not store.exists
            or _certutil("-D", "-d", _db(store), "-n", NICKNAME, check=False).returncode
        ):
            return removed
        removed = True
    return removed


def _trust_of(store: BrowserStore) -> str:
    """The trust flags (`C,,`) the store's listing shows for our name."""
    listing = _certutil("-L", "-d", _db(store)).stdout
    for line in listing.splitlines():
        name, _, flags = line.rstrip().rpartition(" ")
        if name.strip() == NICKNAME:
            return flags
    return ""


def _db(store: BrowserStore) -> str:
    return f"sql:{store.path}"


def _certutil(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("certutil")
    if tool is None:
        raise TrustError(NO_CERTUTIL)
    done = subprocess.run(  # noqa: S603  (our own arguments, no shell)
        [tool, *args], capture_output=True, text=True, timeout=CERTUTIL_TIMEOUT_S, check=False
    )
    if check and done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise TrustError(
            Hint(
                zh=f"无法修改浏览器的证书库（certutil：{why[0]}）：请关闭浏览器后重试，"
                "仍不行请联系技术支持",
                en=f"Could not change the browser's certificate store (certutil: {why[0]}): "
                "close the browser and try again, and call support if it stays so",
            )
        )
    return done


def _pems(text: str) -> list[str]:
    blocks, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line.startswith("-----END CERTIFICATE-----"):
            blocks.append("\n".join(current))
            current = []
    return blocks


def _der(pem: str) -> bytes:
    body = [
        line.strip()
        for line in pem.strip().splitlines()
        if line.strip() and not line.startswith("-----")
    ]
    return base64.b64decode("".join(body))
