"""`homeagent-proxy scan`: the officer's view of the forbidden-word check, run as a program."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ACME = Path(__file__).parents[1] / "policies" / "examples" / "acme.yaml"
CHAT_URL = "https://chat.acme.test/messages/1"


def scan(body: bytes, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homeagent.proxy.cli", "scan", *args],
        input=body.decode("latin-1"),
        capture_output=True,
        text=True,
        encoding="latin-1",
        check=False,
    )


def scan_acme(body: bytes, *extra: str) -> subprocess.CompletedProcess[str]:
    return scan(body, "--policy", str(ACME), "--role", "chat", "--url", CHAT_URL, *extra)


def test_blocked_body_prints_the_match() -> None:
    done = scan_acme("好的 加\u200b我微信".encode())
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.encode("latin-1"))
    assert out["blocked"] is True
    assert out["matches"] == [
        {
            "rule": "chat-off-platform",
            "phrase": "加我微信",
            "start": 3,
            "end": 8,
            "matched_text": "加\u200b我微信",
            "field": "body",
            "mode": "enforce",
        }
    ]


def test_clean_body_exits_zero_and_is_not_blocked() -> None:
    done = scan_acme(b'{"text": "refund policy"}', "--content-type", "application/json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "blocked": False,
        "matches": [],
        "text": "refund policy\ntext",
    }


def test_other_role_is_not_scoped() -> None:
    done = scan("加我微信".encode(), "--policy", str(ACME), "--role", "inbound", "--url", CHAT_URL)
    assert json.loads(done.stdout)["blocked"] is False


@pytest.mark.parametrize(
    ("body", "args", "message"),
    [
        (b"\xff", (), "cannot read the body"),
        (b"{", ("--content-type", "application/json"), "not valid JSON"),
        (b"x", ("--url", "https://u@chat.acme.test/messages/1"), "ambiguous URL"),
        (b"x", ("--role", "chta"), "did you mean 'chat'"),
    ],
)
def test_errors_exit_one(body: bytes, args: tuple[str, ...], message: str) -> None:
    done = scan_acme(body, *args)
    assert done.returncode == 1
    assert message in done.stderr
    assert done.stdout == ""


def test_bad_policy_names_file_line_and_column(tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text(
        "include: [" + json.dumps(str(ACME)) + "]\n"
        "forbidden_words:\n"
        "  - name: extra\n"
        "    mdoe: report\n"
        "    words: [x]\n",
        encoding="utf-8",
    )
    done = scan(b"x", "--policy", str(policy), "--role", "chat", "--url", CHAT_URL)
    assert done.returncode == 1
    assert done.stderr.startswith(f"{policy}:4:5: ")
    assert "unknown key 'mdoe' (did you mean 'mode'?)" in done.stderr


def test_lone_surrogates_print_as_replacement_characters() -> None:
    done = scan_acme(
        b'{"m": "\\u52a0\\ud800\\u6211\\u5fae\\u4fe1"}', "--content-type", "application/json"
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.encode("latin-1"))
    assert out["blocked"] is True
    assert out["matches"][0]["matched_text"] == "加\ufffd我微信"
