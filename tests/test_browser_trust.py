"""`homeagent trust` against real NSS databases with Debian's certutil: nothing changes without
the agent's yes; a yes trusts the enrolled CA in Chromium's database (made if missing) and each
Firefox profile's; a re-enrolled gateway's new CA replaces the old one; --remove takes it away.
That Chromium then loads pages signed by it is tests/test_forward_browser.py's proof."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homeagent.client.browser_trust import BrowserStore, browser_stores, trusts
from homeagent.client.state import save_enrolment

from .control_fixtures import make_ca
from .forward_fixtures import enrolment_for

HOMEAGENT = Path(sys.executable).parent / "homeagent"

pytestmark = pytest.mark.skipif(shutil.which("certutil") is None, reason="certutil missing")


def enrolled(tmp_path: Path, ca_pem: bytes) -> dict[str, str]:
    """The environment of an agent whose PC enrolled with a gateway of CA `ca_pem`."""
    client = tmp_path / "client"
    client.mkdir(mode=0o700, exist_ok=True)
    ca_file = client / "gateway-ca.pem"
    ca_file.write_bytes(ca_pem)
    save_enrolment(enrolment_for("127.0.0.1:1", ca_file), client)
    user_home = tmp_path / "user"
    user_home.mkdir(exist_ok=True)
    env = {**os.environ, "HOMEAGENT_HOME": str(client), "HOME": str(user_home)}
    env.pop("LC_ALL", None)
    return env


def homeagent(
    env: dict[str, str], *args: str, answer: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOMEAGENT), *args],
        input=answer,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def firefox_profile(user_home: Path) -> Path:
    profile = user_home / ".mozilla" / "firefox" / "abcd1234.default-release"
    profile.mkdir(parents=True)
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{profile}", "--empty-password"], check=True, timeout=30
    )
    return profile


def test_nothing_changes_without_a_yes_and_a_yes_trusts_every_browser(tmp_path: Path) -> None:
    ca_pem = make_ca()[0]
    env = enrolled(tmp_path, ca_pem)
    user_home = Path(env["HOME"])
    profile = firefox_profile(user_home)

    checked = homeagent(env, "--lang", "en", "trust", "--check")
    assert checked.returncode == 1
    assert "No browser trusts the company gateway yet" in checked.stderr

    refused = homeagent(env, "--lang", "zh", "trust", answer="n\n")
    assert refused.returncode == 1
    assert "SHA-256" in refused.stderr and "未做任何更改" in refused.stderr
    assert not (user_home / ".pki" / "nssdb" / "cert9.db").exists()

    agreed = homeagent(env, "--lang", "en", "trust", answer="y\n")
    assert agreed.returncode == 0, agreed.stderr
    assert "Trusted: Chromium / Chrome" in agreed.stdout
    assert "Trusted: Firefox (abcd1234.default-release)" in agreed.stdout
    stores = browser_stores(user_home)
    assert [s.path for s in stores] == [user_home / ".pki" / "nssdb", profile]
    assert all(trusts(store, ca_pem.decode()) for store in stores)
    assert homeagent(env, "trust", "--check").returncode == 0

    removed = homeagent(env, "--lang", "en", "trust", "--remove")
    assert removed.returncode == 0
    assert removed.stdout.count("Removed:") == 2
    assert not any(trusts(store, ca_pem.decode()) for store in stores)


def test_a_new_gateway_ca_replaces_the_old_one(tmp_path: Path) -> None:
    old, new = make_ca()[0], make_ca()[0]
    env = enrolled(tmp_path, old)
    assert homeagent(env, "trust", "--yes").returncode == 0
    chromium = BrowserStore("Chromium / Chrome", Path(env["HOME"]) / ".pki" / "nssdb")
    assert trusts(chromium, old.decode())

    env = enrolled(tmp_path, new)  # the PC enrolled again, with a gateway whose CA changed
    assert not trusts(chromium, new.decode())
    assert homeagent(env, "trust", "--check").returncode == 1
    assert homeagent(env, "trust", "--yes").returncode == 0
    assert trusts(chromium, new.decode())
    assert not trusts(chromium, old.decode())
    listing = subprocess.run(
        ["certutil", "-L", "-d", f"sql:{chromium.path}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert listing.count("homeagent gateway CA") == 1


def test_trust_needs_an_enrolled_pc(tmp_path: Path) -> None:
    env = {**os.environ, "HOMEAGENT_HOME": str(tmp_path / "nobody"), "HOME": str(tmp_path)}
    done = homeagent(env, "--lang", "en", "trust", "--yes")
    assert done.returncode == 1
    assert "Not enrolled" in done.stderr
