"""The client's session against the real control API on loopback: enrolment and its trust,
signed requests, settings, posture, clock-in and out, status with the next status, the sealed
queue and its idempotent redelivery."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from homeagent.client.commands.shift_output import describe
from homeagent.client.pinned_tls import pinned_context
from homeagent.client.session.control_client import ControlClient
from homeagent.client.session.device_key import load_device_key
from homeagent.client.session.errors import (
    ApiRefusedError,
    GatewayUnreachableError,
    NotClockedInError,
    SessionError,
)
from homeagent.client.session.first_contact import ca_fingerprint
from homeagent.client.session.service import ShiftService
from homeagent.client.session.signing import authorization_header
from homeagent.client.session.status_model import AgentStatus, StatusRefusedError
from homeagent.client.state import load_enrolment, save_enrolment
from homeagent.proxy.core.device_auth import parse_authorization, verify_request

from .control_fixtures import Gateway
from .session_fixtures import (
    enrolled_service,
    new_code,
    on_shift,
    passing_results,
    wall_gateway,
)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    with wall_gateway(tmp_path) as gw:
        yield gw


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "client"
    path.mkdir(mode=0o700)
    return path


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def history(gateway: Gateway, agent: str = "A1023") -> list[tuple[str, str | None]]:
    return [(e.status.value, e.reason) for e in gateway.store.status_history(agent)]


def test_enrol_with_the_ca_file_stores_a_private_key_the_ca_and_the_gateway(
    gateway: Gateway, home: Path
) -> None:
    service = ShiftService(home, "en")
    outcome = service.enrol(new_code(gateway), gateway.server.url, ca_pem=gateway.ca_pem.decode())
    assert (outcome.agent, outcome.role) == ("A1023", "inbound")
    assert stat.S_IMODE(outcome.key_file.stat().st_mode) == 0o600
    assert outcome.ca_file.read_bytes() == gateway.ca_pem
    assert stat.S_IMODE(outcome.ca_file.stat().st_mode) == 0o600
    enrolment = load_enrolment(home)
    assert enrolment is not None and enrolment.control_url == gateway.server.url
    assert enrolment.proxy == "127.0.0.1:8443"
    devices = gateway.store.agent_devices("A1023")
    assert [d.fingerprint for d in devices] == [service.device_fingerprint()] == [outcome.device]


def test_trust_on_first_use_shows_the_gateways_ca_fingerprint(gateway: Gateway, home: Path) -> None:
    service = ShiftService(home, "en")
    pem, fingerprint = service.offered_ca(gateway.server.url)
    assert fingerprint == ca_fingerprint(gateway.ca_pem)
    assert pem.encode().strip() == gateway.ca_pem.strip()
    code = new_code(gateway)
    with pytest.raises(SessionError) as refused:
        service.enrol(code, gateway.server.url, expected_fingerprint="AB:CD")
    assert refused.value.code == "ca_fingerprint_mismatch"
    assert load_enrolment(home) is None
    # the code was not sent: it still works, with the right fingerprint
    outcome = service.enrol(code, gateway.server.url, expected_fingerprint=fingerprint.lower())
    assert outcome.ca_fingerprint == fingerprint


def test_a_used_code_is_refused_in_the_agents_language(gateway: Gateway, home: Path) -> None:
    code = new_code(gateway)
    ShiftService(home, "en").enrol(code, gateway.server.url, ca_pem=gateway.ca_pem.decode())
    other = home.parent / "other"
    other.mkdir()
    with pytest.raises(ApiRefusedError) as refused:
        ShiftService(other, "zh").enrol(code, gateway.server.url, ca_pem=gateway.ca_pem.decode())
    assert refused.value.code == "code_used"
    assert "登记码已被使用" in refused.value.hint("zh")
    assert "already used" in refused.value.hint("en")


def test_enrolling_again_with_a_new_code_makes_the_old_key_refused(
    gateway: Gateway, home: Path
) -> None:
    service = enrolled_service(gateway, home)
    old_key = load_device_key(home)
    service.enrol(new_code(gateway), gateway.server.url, ca_pem=gateway.ca_pem.decode())
    assert service.settings().agent == "A1023"
    old = ControlClient(gateway.server.url, home / "gateway-ca.pem", "A1023", old_key)
    with old, pytest.raises(ApiRefusedError) as refused:
        old.call("GET", "/v1/settings")
    assert refused.value.code == "device_revoked"
    assert "enrol it again" in refused.value.hint("en")


def test_the_clients_signature_verifies_with_the_gateways_check(home: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from homeagent.client.session.device_key import public_bytes

    key = Ed25519PrivateKey.generate()
    body = b'{"status":"ready"}'
    header = authorization_header(key, "A1023", "post", "/v1/status?x=1", body, 1764748800)
    signed = parse_authorization(header)
    assert (signed.agent, signed.ts) == ("A1023", 1764748800)
    verify_request(signed, public_bytes(key), "POST", "/v1/status?x=1", body)
    with pytest.raises(ValueError, match="does not verify"):
        verify_request(signed, public_bytes(key), "POST", "/v1/status?x=1", body + b" ")


def test_settings_give_the_roles_thresholds_and_the_notice(gateway: Gateway, home: Path) -> None:
    settings = enrolled_service(gateway, home).settings()
    policy = gateway.policy().policy
    assert settings.posture == policy.posture.for_role("inbound").model_dump(mode="json")
    assert settings.notice.version == gateway.notice_version
    assert settings.notice("zh") == policy.notice.zh
    assert settings.max_age == policy.posture.max_age


def test_posture_is_sent_signed_and_judged_by_the_gateway(gateway: Gateway, home: Path) -> None:
    service = enrolled_service(gateway, home)
    assert service.send_posture(passing_results()).passed
    verdict = service.send_posture(passing_results(memory={"total_gb": 4}))
    assert not verdict.passed
    assert verdict.failing == ["memory"]
    assert gateway.store.latest_posture("A1023") is not None


def test_clock_in_needs_a_posture_report_and_the_current_notice(
    gateway: Gateway, home: Path
) -> None:
    service = enrolled_service(gateway, home)
    with pytest.raises(ApiRefusedError) as missing:
        service.clock_in(gateway.notice_version)
    assert missing.value.code == "posture_missing"
    service.send_posture(passing_results(noise={"dbfs_a": -20}))
    with pytest.raises(ApiRefusedError) as failed:
        service.clock_in(gateway.notice_version)
    assert failed.value.code == "posture_failed"
    service.send_posture(passing_results())
    with pytest.raises(ApiRefusedError) as outdated:
        service.clock_in("0-old")
    assert outdated.value.code == "notice_outdated"
    assert service.session is None
    session = service.clock_in(gateway.notice_version)
    assert session.expires_at > time.time()
    assert gateway.store.open_session("A1023") is not None


def test_clock_in_starts_not_ready_and_clock_out_ends_the_shift(
    gateway: Gateway, home: Path
) -> None:
    service = on_shift(gateway, home)
    snapshot = service.status()
    assert snapshot.clocked_in and snapshot.status is AgentStatus.NOT_READY
    assert snapshot.pending == []
    assert gateway.store.current_status("A1023").status.value == "not_ready"  # type: ignore[union-attr]  # None fails the test
    outcome = service.clock_out()
    assert outcome.ended_at is not None and outcome.undelivered == 0
    assert service.session is None and not service.status().clocked_in
    assert gateway.store.open_session("A1023") is None
    with pytest.raises(NotClockedInError):
        service.set_status("ready")


def test_status_changes_and_the_next_status_reach_the_gateway(gateway: Gateway, home: Path) -> None:
    service = on_shift(gateway, home)
    service.set_status("ready")
    service.set_status("busy")
    # a break asked for during a contact waits for its end
    snapshot = service.set_status("break", "lunch")
    assert snapshot.status is AgentStatus.BUSY
    assert snapshot.next is not None and snapshot.next.status is AgentStatus.BREAK
    assert gateway.store.current_status("A1023").status.value == "busy"  # type: ignore[union-attr]  # None fails the test
    snapshot = service.set_status("after_call_work")
    assert snapshot.next is not None
    snapshot = service.set_status("ready")  # wrap-up done: the break instead of ready
    assert (snapshot.status, snapshot.reason, snapshot.next) == (AgentStatus.BREAK, "lunch", None)
    with pytest.raises(StatusRefusedError):
        service.set_status("not_ready")  # no reason
    assert history(gateway) == [
        ("not_ready", "clock_in"),
        ("ready", None),
        ("busy", None),
        ("after_call_work", None),
        ("break", "lunch"),
    ]


def test_a_pc_clock_far_off_is_told_plainly(gateway: Gateway, home: Path) -> None:
    enrolled_service(gateway, home)
    skewed = ShiftService(home, "en", clock=lambda: time.time() + 1000)
    with pytest.raises(ApiRefusedError) as refused:
        skewed.settings()
    assert refused.value.code == "clocks_apart"
    assert "turn on automatic time" in refused.value.hint("en")
    assert "Set time automatically" in refused.value.hint("en")
    assert "自动设置时间" in refused.value.hint("zh")


def test_the_queue_is_sealed_and_redelivery_records_each_change_once(
    gateway: Gateway, home: Path, tmp_path: Path
) -> None:
    service = on_shift(gateway, home)
    sealed = home / "shift.sealed"
    # the gateway out of reach: the enrolment points at a port nobody listens on
    enrolment = load_enrolment(home)
    assert enrolment is not None
    offline = enrolment.control_url.replace(f":{gateway.server.port}", f":{unused_port()}")
    (home / "gateway.json").write_text(
        (home / "gateway.json").read_text().replace(enrolment.control_url, offline)
    )
    snapshot = service.set_status("break", "lunch")
    assert [p.status for p in snapshot.pending] == [AgentStatus.BREAK]
    data = sealed.read_bytes()
    for plaintext in (b"break", b"lunch", b"not_ready", b"clock_in", b"A1023"):
        assert plaintext not in data
    # as if the PC crashed after the gateway stored the change, before the queue was saved
    backup = tmp_path / "before-delivery"
    shutil.copy(sealed, backup)
    (home / "gateway.json").write_text(
        (home / "gateway.json").read_text().replace(offline, enrolment.control_url)
    )
    assert service.flush_pending().delivered == 1
    shutil.copy(backup, sealed)
    again = service.flush_pending()
    assert (again.delivered, again.remaining, again.refused) == (1, 0, [])
    assert history(gateway) == [("not_ready", "clock_in"), ("break", "lunch")]


def test_an_unreachable_gateway_keeps_changes_pending(home: Path, tmp_path: Path) -> None:
    with wall_gateway(tmp_path) as gateway:
        service = on_shift(gateway, home)
    snapshot = service.set_status("ready")
    assert snapshot.status is AgentStatus.READY
    assert [p.status for p in snapshot.pending] == [AgentStatus.READY]
    result = service.flush_pending()
    assert isinstance(result.problem, GatewayUnreachableError)
    assert result.remaining == 1
    assert "check your internet connection" in result.problem.hint("en")
    assert "请检查网络连接" in result.problem.hint("zh")
    # the gateway is gone (connection refused): said in the agent's language, not httpx's
    assert "（连接失败）" in result.problem.hint("zh")
    assert "(connection failed)" in result.problem.hint("en")


def test_heartbeat_and_activity(gateway: Gateway, home: Path) -> None:
    service = on_shift(gateway, home)
    answer = service.heartbeat()
    assert answer["session"] == gateway.store.open_session("A1023").id  # type: ignore[union-attr]  # None fails the test
    assert service.activity(limit=5) == []


def test_renewal_gives_a_new_token_only_when_due(gateway: Gateway, home: Path) -> None:
    service = on_shift(gateway, home)
    first = service.session
    assert first is not None
    assert service.renew_if_due() == first  # fifteen minutes left: nothing to do
    renewed = service.renew_if_due(margin=10**6)
    assert renewed is not None and renewed.token != first.token
    assert service.session == renewed


def test_two_renewals_in_one_second_are_both_taken(gateway: Gateway, home: Path) -> None:
    """The gateway takes a token-minting request once; the client's nonce keeps two real ones
    in the same second (this clock stands still) from being signed alike."""
    service = on_shift(gateway, home)
    first = service.renew()
    second = service.renew()
    assert first.token != second.token and service.session == second
    service.clock_in(gateway.notice_version)  # and clocking in again, in that same second
    assert service.session is not None and service.session.token != second.token


def test_when_the_gateway_ends_the_shift_this_pc_clocks_out_too(
    gateway: Gateway, home: Path
) -> None:
    on_shift(gateway, home)
    gateway.clock.advance(minutes=61)  # the posture report (60 min) has expired
    later = ShiftService(home, "en", clock=lambda: gateway.clock().timestamp())
    with pytest.raises(ApiRefusedError) as ended:
        later.heartbeat()
    assert ended.value.code == "posture_expired"
    assert "clock in again" in ended.value.hint("en")
    assert later.session is None and not later.status().clocked_in


def test_an_unreadable_shift_file_is_kept_aside_not_trusted(gateway: Gateway, home: Path) -> None:
    service = on_shift(gateway, home)
    sealed = home / "shift.sealed"
    data = sealed.read_bytes()
    sealed.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    snapshot = service.status()
    assert snapshot.status is AgentStatus.OFFLINE and snapshot.pending == []
    kept = list(home.glob("shift.sealed.unreadable-*"))
    assert [p.read_bytes() for p in kept] == [data[:-1] + bytes([data[-1] ^ 1])]
    # the agent is told, and keeps being told (not just by the first look) until a new shift
    for look in (snapshot, service.status()):
        hint = look.set_aside_hint()
        assert hint is not None and kept[0].name in hint("en") and "check your status" in hint("en")
        assert "请核对您的状态" in hint("zh")
    assert kept[0].name in describe(service.status(), "en")
    assert service.send_posture(passing_results()).passed
    service.clock_in(gateway.notice_version)
    assert service.status().set_aside_hint() is None


CHANGES_EACH = 40
CHANGER = """
import sys
from pathlib import Path
from homeagent.client.session.service import ShiftService
service = ShiftService(Path(sys.argv[1]))
for i in range({count}):
    service.set_status("not_ready", f"{{sys.argv[2]}}-{{i}}")
"""


def test_two_programs_changing_status_at_once_lose_nothing(home: Path, tmp_path: Path) -> None:
    with wall_gateway(tmp_path) as gateway:
        on_shift(gateway, home)
    # the gateway is gone: every change of both programs (say the TUI and a command) queues
    script = CHANGER.format(count=CHANGES_EACH)
    children = [
        subprocess.Popen([sys.executable, "-c", script, str(home), name]) for name in ("tui", "cli")
    ]
    for child in children:
        assert child.wait(120) == 0
    pending = ShiftService(home).status().pending
    reasons = [p.reason for p in pending]
    assert len(reasons) == 2 * CHANGES_EACH
    for name in ("tui", "cli"):
        assert [r for r in reasons if r and r.startswith(name)] == [
            f"{name}-{i}" for i in range(CHANGES_EACH)
        ]


def test_only_the_pinned_ca_is_trusted(gateway: Gateway, home: Path) -> None:
    from .control_fixtures import make_ca

    service = enrolled_service(gateway, home)
    other_ca, _ = make_ca()
    (home / "gateway-ca.pem").write_bytes(other_ca)  # as if another CA had been pinned
    with pytest.raises(GatewayUnreachableError) as refused:
        service.settings()
    assert refused.value.detail == "the gateway's certificate is not the enrolled one"
    assert refused.value.code == "untrusted"
    assert "tell your security officer" in refused.value.hint.en
    assert "信息安全负责人" in refused.value.hint.zh
    # nothing from the system's store sits beside it
    assert len(pinned_context(home / "gateway-ca.pem").get_ca_certs()) == 1


def on_shift_with_a_break_queued(gateway: Gateway, home: Path) -> ShiftService:
    """A1023 on shift, with "break (lunch)" waiting on this PC: the gateway was out of reach."""
    service = on_shift(gateway, home)
    enrolment = load_enrolment(home)
    assert enrolment is not None
    away = enrolment.control_url.replace(f":{gateway.server.port}", f":{unused_port()}")
    save_enrolment(dataclasses.replace(enrolment, control_url=away), home)
    service.set_status("break", "lunch")
    return service


def test_enrolling_again_carries_over_changes_not_yet_delivered(
    gateway: Gateway, home: Path
) -> None:
    service = on_shift_with_a_break_queued(gateway, home)
    # enrolling again (a new code) while that change waits: it is not dropped with the old key
    service.enrol(new_code(gateway), gateway.server.url, ca_pem=gateway.ca_pem.decode())
    carried = service.status().pending
    assert [(p.status, p.reason) for p in carried] == [(AgentStatus.BREAK, "lunch")]
    # the new key takes it to the gateway (re-enrolling revokes the device, not the shift)
    result = service.flush_pending()
    assert (result.delivered, result.refused) == (1, [])
    assert history(gateway)[-1] == ("break", "lunch")


def test_enrolling_as_another_agent_never_sends_the_previous_agents_changes(
    gateway: Gateway, home: Path
) -> None:
    service = on_shift_with_a_break_queued(gateway, home)
    # the PC is handed to another agent while A1023's change still waits
    service.enrol(new_code(gateway, "A2001"), gateway.server.url, ca_pem=gateway.ca_pem.decode())
    status = service.status()
    assert status.pending == []
    assert [(r.change.status, r.change.reason) for r in status.refused] == [
        (AgentStatus.BREAK, "lunch")
    ]
    assert "previous agent" in status.refused[0].hint.en
    assert service.flush_pending().delivered == 0
    assert ("break", "lunch") not in history(gateway, "A2001")


def test_a_pinned_context_never_falls_back_to_the_system_store() -> None:
    with pytest.raises(ValueError, match="exactly one of ca_file and ca_pem"):
        pinned_context()
