"""`homeagent-proxy watermark` and `trace`, end to end, as the officer runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

POLICY = Path(__file__).parent.parent / "policies" / "examples" / "acme.yaml"
PROSE = "The customer asked about a refund for order 4471. Please call back before ten. " * 8


def cli(*args: str, stdin: bytes = b"", data_dir: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "homeagent.proxy.cli", *args],
        input=stdin,
        capture_output=True,
        env={"HOMEAGENT_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        check=False,
    )


@pytest.mark.parametrize("fmt", ["text", "html", "json"])
def test_watermark_then_trace_finds_the_agent(tmp_path: Path, fmt: str) -> None:
    body = {
        "text": PROSE,
        "html": f"<html><body><p>{PROSE}</p></body></html>",
        "json": json.dumps({"id": "T-1", "note": PROSE}),
    }[fmt]
    marked = cli(
        "watermark", "--policy", str(POLICY), "--agent", "A1023", "--format", fmt,
        "--reference", "ABCDEFGH", "--time", "2025-05-01T09:30:00+08:00",
        stdin=body.encode(), data_dir=tmp_path,
    )  # fmt: skip
    assert marked.returncode == 0, marked.stderr
    assert b"reference ABCDEFGH" in marked.stderr
    assert (tmp_path / "keys" / "watermark.key").stat().st_mode & 0o777 == 0o600
    leaked = tmp_path / "leak.txt"
    leaked.write_bytes(marked.stdout)
    traced = cli("trace", str(leaked), "--policy", str(POLICY), data_dir=tmp_path)
    assert traced.returncode == 0, traced.stderr
    results = json.loads(traced.stdout)
    assert len(results) == 1
    assert results[0]["agent"] == "A1023"
    assert results[0]["issued_at"] == "2025-05-01T01:30:00Z"
    assert results[0]["reference"] == "ABCDEFGH"
    assert results[0]["verified"] is True
    assert results[0]["count"] >= 2


def test_trace_with_another_key_reports_unverified_and_exits_1(tmp_path: Path) -> None:
    marked = cli(
        "watermark", "--policy", str(POLICY), "--agent", "A1023",
        stdin=PROSE.encode(), data_dir=tmp_path,
    )  # fmt: skip
    other = tmp_path / "other"
    other.mkdir()
    cli("watermark", "--policy", str(POLICY), "--agent", "X", stdin=b"a b", data_dir=other)
    traced = cli(
        "trace", "-", "--key-file", str(other / "keys" / "watermark.key"),
        stdin=marked.stdout, data_dir=tmp_path,
    )  # fmt: skip
    assert traced.returncode == 1
    [result] = json.loads(traced.stdout)
    assert result["agent"] == "A1023"
    assert result["verified"] is False


def test_trace_of_unmarked_text_prints_an_empty_list_and_exits_1(tmp_path: Path) -> None:
    cli("watermark", "--policy", str(POLICY), "--agent", "A1", stdin=b"a b", data_dir=tmp_path)
    traced = cli("trace", "--policy", str(POLICY), stdin=b"nothing here", data_dir=tmp_path)
    assert traced.returncode == 1
    assert json.loads(traced.stdout) == []


def test_trace_reads_other_encodings(tmp_path: Path) -> None:
    marked = cli(
        "watermark", "--policy", str(POLICY), "--agent", "A1023",
        stdin="客户来电，要求退款。请尽快回电处理。".encode(), data_dir=tmp_path,
    )  # fmt: skip
    leaked = tmp_path / "leak.txt"
    leaked.write_bytes(marked.stdout.decode().encode("utf-16"))
    args = ("trace", str(leaked), "--policy", str(POLICY))
    assert cli(*args, "--encoding", "utf-16", data_dir=tmp_path).returncode == 0
    assert cli(*args, data_dir=tmp_path).returncode == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("trace", "-"), b"give --policy FILE"),
        (("trace", "/nonexistent", "--policy", str(POLICY)), b"No such file"),
        (("trace", "-", "--key-file", "/nonexistent.key"), b"no watermark key at"),
        (("trace", "-", "--policy", "/nonexistent.yaml"), b"file not found"),
    ],
)
def test_trace_errors_exit_2(tmp_path: Path, args: tuple[str, ...], message: bytes) -> None:
    cli("watermark", "--policy", str(POLICY), "--agent", "A1", stdin=b"a b", data_dir=tmp_path)
    result = cli(*args, data_dir=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def test_trace_refuses_an_exposed_key(tmp_path: Path) -> None:
    cli("watermark", "--policy", str(POLICY), "--agent", "A1", stdin=b"a b", data_dir=tmp_path)
    (tmp_path / "keys" / "watermark.key").chmod(0o644)
    result = cli("trace", "--policy", str(POLICY), data_dir=tmp_path)
    assert result.returncode == 2
    assert b"chmod 600" in result.stderr


@pytest.mark.parametrize(
    ("extra", "stdin", "message"),
    [
        (("--format", "json"), b'{"note": "broken', b"JSON body does not parse"),
        ((), b"a b", b"agent ID"),
        (("--reference", "bad"), b"a b", b"reference"),
        (("--time", "2025-05-01T09:30:00"), b"a b", b"UTC offset"),
    ],
)
def test_watermark_errors_exit_1(
    tmp_path: Path, extra: tuple[str, ...], stdin: bytes, message: bytes
) -> None:
    agent = "A 1" if not extra else "A1"
    result = cli(
        "watermark", "--policy", str(POLICY), "--agent", agent, *extra,
        stdin=stdin, data_dir=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stdout == b""
