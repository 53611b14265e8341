"""The client's files: written whole with private permissions, read back as written; the check
registry skips what policy turns off and keeps the checklist order."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from homeagent.client.checks.context import CheckContext
from homeagent.client.checks.registry import CHECK_NAMES, run_check, run_checks
from homeagent.client.checks.result import Status
from homeagent.client.state import (
    Enrolment,
    Session,
    clear_session,
    client_home,
    load_enrolment,
    load_session,
    save_enrolment,
    save_session,
)


def test_enrolment_and_session_round_trip_with_private_files(tmp_path: Path) -> None:
    enrolment = Enrolment("A1023", "inbound", "https://127.0.0.1:8443", "127.0.0.1:8080", "ca.pem")
    save_enrolment(enrolment, tmp_path)
    save_session(Session("tok", 1_800_000_000.0), tmp_path)
    assert load_enrolment(tmp_path) == enrolment
    assert load_session(tmp_path) == Session("tok", 1_800_000_000.0)
    for name in ("gateway.json", "session.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary file left"
    clear_session(tmp_path)
    assert load_session(tmp_path) is None
    (tmp_path / "fresh").mkdir()
    assert load_enrolment(tmp_path / "fresh") is None


def test_client_home_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEAGENT_HOME", str(tmp_path / "home"))
    home = client_home()
    assert home == tmp_path / "home"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_a_check_policy_turns_off_is_skipped_unrun() -> None:
    result = run_check("noise", {"level": "off", "max_dba": 50}, CheckContext())
    assert result.status is Status.SKIP
    assert result.limits == {"level": "off", "max_dba": 50}


def test_checks_run_in_checklist_order_and_unknown_names_are_refused() -> None:
    off = {name: {"level": "off"} for name in CHECK_NAMES}
    results = run_checks(off, CheckContext(), only=["processes", "cpu"])
    assert [r.name for r in results] == ["cpu", "processes"]
    with pytest.raises(KeyError):
        run_check("webcam", {"level": "required"}, CheckContext())
