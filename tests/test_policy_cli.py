"""`homeagent-proxy policy check | schema | test | explain`, as an officer runs them."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homeagent.proxy.cli import main

POLICIES = Path(__file__).resolve().parent.parent / "policies"
ACME = str(POLICIES / "examples" / "acme.yaml")


def test_check_accepts_the_bundled_policies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(POLICIES / "default.yaml"), ACME]) == 0
    out = capsys.readouterr().out
    assert "acme.yaml: ok" in out and "roles: inbound, chat, supervisor" in out


def test_check_refuses_a_broken_file_with_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "version: 1\nnotice: {zh: a, en: b}\nroles:\n  inbound:\n    alow: []\n", encoding="utf-8"
    )
    assert main(["policy", "check", ACME, str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:5:5: roles.inbound.alow: unknown key 'alow' (did you mean 'allow'?)" in err


def test_schema_is_json_schema_that_knows_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["properties"]) >= {
        "posture",
        "roles",
        "masking",
        "watermark",
        "forbidden_words",
        "limits",
        "notice",
    }
    assert schema["additionalProperties"] is False


def test_explain_one_request(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "policy",
            "explain",
            "--policy",
            ACME,
            "--role",
            "chat",
            "POST",
            "https://chat.acme.test/messages/9",
        ]
    )
    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["decision"] == "allow"
    assert answer["rule"] == "chat.chat-messages"


def test_explain_many_requests_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = "GET https://crm.acme.test/customers/1\n\n# a comment\nDELETE https://crm.acme.test/customers/1\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    assert main(["policy", "explain", "--policy", ACME, "--role", "inbound"]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["decision"], a["rule"]) for a in answers] == [
        ("allow", "inbound.crm-customers"),
        ("deny", "default-deny"),
    ]


def test_explain_refuses_an_unknown_role(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "policy",
                "explain",
                "--policy",
                ACME,
                "--role",
                "inbond",
                "GET",
                "https://kb.acme.test/",
            ]
        )
        == 1
    )
    assert "unknown role 'inbond' (did you mean 'inbound'?)" in capsys.readouterr().err


def test_policy_test_passes_on_the_bundled_cases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", str(POLICIES)]) == 0
    out = capsys.readouterr().out
    assert "acme_test.yaml: " in out and "cases passed; coverage" in out


def test_policy_test_reports_a_wrong_expectation_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(POLICIES, tmp_path / "policies")
    cases = tmp_path / "policies" / "examples" / "acme_test.yaml"
    cases.write_text(
        "policy: acme.yaml\ncases:\n"
        "  - {name: ok, role: inbound, request: GET https://kb.acme.test/,\n"
        "     expect: {decision: allow}}\n"
        "  - name: wrong\n    role: inbound\n    request: DELETE https://kb.acme.test/\n"
        "    expect: {decision: allow}\n",
        encoding="utf-8",
    )
    assert main(["policy", "test", str(cases)]) == 1
    out = capsys.readouterr().out
    assert f"{cases}:5:5: FAIL wrong: expected allow, got deny by rule 'default-deny'" in out
    assert "1/2 cases passed; coverage 1/17 rules (6%)" in out


def test_the_console_script_is_installed() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "homeagent-proxy"), "policy", "check", ACME],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
