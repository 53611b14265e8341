"""Re-checks during a shift against the real control API on loopback: the real cpu check run
under a policy this PC cannot meet (512 logical cores) moves a ready agent to not ready
(`posture.cpu`), only queues it while busy, waits in the queue when the report cannot be sent,
and a later passing re-check only tells the agent they may go ready."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest

from homeagent.client.checks.context import Progress
from homeagent.client.session.errors import GatewayUnreachableError, NotClockedInError
from homeagent.client.session.recheck import Effect
from homeagent.client.session.service import ShiftService
from homeagent.client.session.status_model import AgentStatus, NextStatus
from homeagent.client.state import load_enrolment, save_enrolment

from .control_fixtures import Gateway
from .recheck_fixtures import gateway_fixture, home_fixture, policy_file_fixture  # noqa: F401
from .session_fixtures import cpu_only_policy, enrolled_service, passing_results


def require_cores(gateway: Gateway, policy_file: Path, min_cores: int) -> None:
    cpu_only_policy(policy_file, min_cores)
    gateway.policy.reload()


def ready_agent(gateway: Gateway, home: Path) -> ShiftService:
    service = enrolled_service(gateway, home)
    assert service.send_posture(passing_results()).passed
    service.clock_in(gateway.notice_version)
    service.set_status("ready")
    return service


def gateway_status(gateway: Gateway) -> tuple[str, str | None]:
    current = gateway.store.current_status("A1023")
    assert current is not None
    return current.status.value, current.reason


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_failing_recheck_moves_a_ready_agent_to_not_ready_then_a_pass_lets_them_back(
    gateway: Gateway, home: Path, policy_file: Path
) -> None:
    service = ready_agent(gateway, home)
    require_cores(gateway, policy_file, 512)
    seen: list[Progress] = []
    outcome = service.recheck(progress=seen.append)
    assert [r.name for r in outcome.results if r.status.value != "skip"] == ["cpu"]
    assert {p.check for p in seen} == {"cpu"}  # the checks that are off do not run
    assert any(p.phase == "load" for p in seen)  # live figures from the real check
    assert outcome.verdict is not None and outcome.verdict.failing == ["cpu"]
    assert outcome.problem is None and outcome.follow_up is not None
    assert outcome.follow_up.consequence.effect is Effect.NOT_READY_NOW
    snapshot = outcome.follow_up.snapshot
    assert (snapshot.status, snapshot.reason, snapshot.pending) == (
        AgentStatus.NOT_READY,
        "posture.cpu",
        [],
    )
    assert gateway_status(gateway) == ("not_ready", "posture.cpu")
    assert "posture.cpu" in outcome.message.en and "未就绪" in outcome.message.zh
    # a failing report is looked at again sooner than the regular half hour
    next_at = service.next_recheck_at()
    assert next_at is not None and next_at <= gateway.clock().timestamp() + 300 + 5

    # the gateway refuses ready while the report fails; the refusal is kept with its hint
    refused = service.set_status("ready")
    assert refused.delivery is not None and [r.change.status for r in refused.delivery.refused] == [
        AgentStatus.READY
    ]
    assert gateway_status(gateway) == ("not_ready", "posture.cpu")

    require_cores(gateway, policy_file, 1)
    fixed = service.recheck()
    assert fixed.verdict is not None and fixed.verdict.passed
    assert fixed.follow_up is not None
    assert fixed.follow_up.consequence.effect is Effect.MAY_GO_READY
    assert gateway_status(gateway) == ("not_ready", "posture.cpu")  # never set ready for them
    assert "go ready" in fixed.message.en
    assert service.set_status("ready").status is AgentStatus.READY
    assert gateway_status(gateway) == ("ready", None)


def test_a_failing_recheck_in_a_contact_only_becomes_the_next_status(
    gateway: Gateway, home: Path, policy_file: Path
) -> None:
    service = ready_agent(gateway, home)
    service.set_status("busy")
    require_cores(gateway, policy_file, 512)
    outcome = service.recheck()
    assert outcome.follow_up is not None
    assert outcome.follow_up.consequence.effect is Effect.NOT_READY_NEXT
    assert gateway_status(gateway) == ("busy", None)  # the contact goes on
    assert service.status().next == NextStatus(AgentStatus.NOT_READY, "posture.cpu")
    assert "finish this contact" in outcome.message.en
    # a token for the contact is still renewed while the report fails
    assert service.renew_if_due(margin=10**6) is not None
    ended = service.set_status("ready")  # the contact ends
    assert (ended.status, ended.reason, ended.next) == (AgentStatus.NOT_READY, "posture.cpu", None)
    assert gateway_status(gateway) == ("not_ready", "posture.cpu")


def test_a_report_that_cannot_be_sent_is_judged_here_and_the_change_waits(
    gateway: Gateway, home: Path, policy_file: Path
) -> None:
    service = ready_agent(gateway, home)
    require_cores(gateway, policy_file, 512)
    enrolment = load_enrolment(home)
    assert enrolment is not None
    dead = dataclasses.replace(enrolment, control_url=f"https://127.0.0.1:{unused_port()}")

    def lose_the_line(progress: Progress) -> None:
        # the line drops while the checks run (after the limits were fetched)
        save_enrolment(dead, home)

    outcome = service.recheck(progress=lose_the_line)
    assert isinstance(outcome.problem, GatewayUnreachableError)
    assert outcome.verdict is None and outcome.follow_up is not None
    assert outcome.follow_up.judged_here
    assert "this PC judged them" in outcome.message.en and "由本机判断" in outcome.message.zh
    assert outcome.follow_up.consequence.effect is Effect.NOT_READY_NOW
    assert [(p.status, p.reason) for p in outcome.follow_up.snapshot.pending] == [
        (AgentStatus.NOT_READY, "posture.cpu")
    ]
    assert gateway_status(gateway) == ("ready", None)
    # tried again soon, not in half an hour
    assert outcome.next_at is not None
    assert outcome.next_at <= gateway.clock().timestamp() + 30 + 5

    # nothing reachable at all: nothing runs, the next try backs off
    again = service.recheck()
    assert again.results == [] and again.follow_up is None
    assert isinstance(again.problem, GatewayUnreachableError)
    assert "tried again" in again.message.en and "重试" in again.message.zh

    save_enrolment(enrolment, home)  # the line is back
    assert service.deliver().pending == []
    assert gateway_status(gateway) == ("not_ready", "posture.cpu")


def test_recheck_needs_a_shift(gateway: Gateway, home: Path) -> None:
    service = enrolled_service(gateway, home)
    assert service.next_recheck_at() is None
    with pytest.raises(NotClockedInError):
        service.recheck()
