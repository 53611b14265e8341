"""`homeagent-proxy mask` end to end, and the key file it keeps."""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from homeagent.proxy.cli import main
from homeagent.proxy.keys import KeyFileError, load_or_create_key

ACME = str(Path(__file__).resolve().parent.parent / "policies" / "examples" / "acme.yaml")


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def run_mask(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: bytes, *args: str) -> int:
    monkeypatch.setenv("HOMEAGENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    return main(["mask", "--policy", ACME, *args])


def test_mask_json_with_explain(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    body = json.dumps({"name": "张三丰", "phone": "13800138000"}, ensure_ascii=False).encode()
    code = run_mask(
        monkeypatch, tmp_path, body, "--agent", "A1023", "--role", "inbound", "--explain"
    )
    out, err = capsysbinary.readouterr()
    assert code == 0
    assert json.loads(out) == {"name": "张**", "phone": "138****8000"}
    explain = err.decode()
    assert "agent A1023, role inbound, format json: 2 value(s) masked" in explain
    assert (
        "customer-name (person_name) at $..name" in explain and "cn_mobile at $..phone" in explain
    )
    key = tmp_path / "data" / "keys" / "pseudonym.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("fmt", "body", "expected"),
    [
        ("text", b"tel 13800138000", b"tel 138****8000"),
        ("html", b"<p>13800138000</p>", b"<p>138****8000</p>"),
        ("form", b"tel=13800138000", b"tel=138****8000"),
        ("jsonl", b'{"t": 13800138000}\n', b'{"t":"138****8000"}\n'),
        ("auto", b'{"t": "13800138000"}', b'{"t":"138****8000"}'),
    ],
)
def test_mask_formats(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    fmt: str,
    body: bytes,
    expected: bytes,
) -> None:
    assert run_mask(monkeypatch, tmp_path, body, "--format", fmt) == 0
    assert capsysbinary.readouterr().out == expected


def test_mask_gzip_body_with_charset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    body = gzip.compress("张先生 13800138000".encode("gbk"))
    args = ("--content-encoding", "gzip", "--content-type", "text/plain; charset=gbk")
    assert run_mask(monkeypatch, tmp_path, body, *args) == 0
    assert gzip.decompress(capsysbinary.readouterr().out).decode("gbk") == "张先生 138****8000"


@pytest.mark.parametrize(
    ("args", "body", "message"),
    [
        (
            ("--content-encoding", "gzip"),
            b"not gzip",
            "cannot mask this body .*gzip body is corrupt",
        ),
        (("--format", "json"), b"{oops", "not valid JSON"),
        (("--role", "inbond"), b"x", "no role 'inbond' \\(did you mean 'inbound'\\?\\)"),
    ],
)
def test_mask_errors_write_nothing_and_exit_1(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    args: tuple[str, ...],
    body: bytes,
    message: str,
) -> None:
    assert run_mask(monkeypatch, tmp_path, body, *args) == 1
    out, err = capsysbinary.readouterr()
    assert out == b""
    assert __import__("re").search(message, err.decode())


def test_mask_as_a_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "HOMEAGENT_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "homeagent.proxy.cli", "mask", "--policy", ACME, "--format", "text"],
        input="邮箱 zhang@example.com".encode(),
        capture_output=True,
        env=env,
        check=True,
    )
    assert done.stdout.decode() == "邮箱 z***@example.com"


def test_key_is_made_once_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.key"
    first = load_or_create_key(path)
    assert len(first) == 32 and load_or_create_key(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(load_or_create_key(tmp_path / "other.key", size=16)) == 16


@pytest.mark.parametrize(
    ("mode", "content", "message"),
    [(0o644, b"x" * 32, "can be read by group or others"), (0o600, b"short", "holds 5 bytes")],
)
def test_untrustworthy_key_files_are_refused(
    tmp_path: Path, mode: int, content: bytes, message: str
) -> None:
    path = tmp_path / "k.key"
    path.write_bytes(content)
    path.chmod(mode)
    with pytest.raises(KeyFileError, match=message):
        load_or_create_key(path)
