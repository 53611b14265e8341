"""Key files: made 0600 in 0700 folders on first use, reused, refused when exposed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from homeagent.proxy.data_dir import default_data_dir
from homeagent.proxy.keys import KeyFileError, load_or_create_key, watermark_key_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_makes_a_private_key_and_folders(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys" / "watermark.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["watermark.key"]


def test_the_key_is_reused(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    assert load_or_create_key(path) == load_or_create_key(path)
    assert load_or_create_key(tmp_path / "other.key") != load_or_create_key(path)


def test_an_umask_that_cuts_owner_bits_does_not_matter(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        load_or_create_key(tmp_path / "a" / "k.key")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a") == 0o700
    assert mode(tmp_path / "a" / "k.key") == 0o600


@pytest.mark.parametrize("exposed", [0o640, 0o604, 0o644, 0o660])
def test_a_key_others_can_read_is_refused(tmp_path: Path, exposed: int) -> None:
    path = tmp_path / "k.key"
    load_or_create_key(path)
    path.chmod(exposed)
    with pytest.raises(KeyFileError, match=r"read by group or others .*chmod 600"):
        load_or_create_key(path)


def test_a_key_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="holds 5 bytes, expected 32"):
        load_or_create_key(path)


def test_a_folder_is_not_a_key(tmp_path: Path) -> None:
    (tmp_path / "k.key").mkdir(mode=0o700)
    with pytest.raises((KeyFileError, IsADirectoryError)):
        load_or_create_key(tmp_path / "k.key")


def test_data_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEAGENT_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path
    monkeypatch.delenv("HOMEAGENT_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "homeagent-proxy"


def test_watermark_key_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEAGENT_DATA_DIR", str(tmp_path / "data"))
    policy = tmp_path / "policies" / "acme.yaml"
    assert watermark_key_path(policy, None) == tmp_path / "data" / "keys" / "watermark.key"
    assert watermark_key_path(policy, "secrets/wm.key") == tmp_path / "policies/secrets/wm.key"
    assert watermark_key_path(policy, "/etc/wm.key") == Path("/etc/wm.key")
