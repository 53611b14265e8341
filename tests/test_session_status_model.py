"""The client's pure status model: the gateway's allowed changes, reasons, the next status
queued during a contact, the timers."""

from __future__ import annotations

import pytest

from homeagent.client.session.status_model import (
    ALLOWED,
    NEEDS_REASON,
    TAKES_REASON,
    AgentStatus,
    Change,
    NextStatus,
    Shift,
    StatusRefusedError,
    clock,
    parse_status,
)
from homeagent.proxy.core import agent_status as gateway

S = AgentStatus
T0 = 1_800_000_000.0


def on_shift(status: AgentStatus = S.READY, reason: str | None = None) -> Shift:
    return Shift(status, reason, T0, T0 - 3600)


def test_the_allowed_changes_are_the_gateways() -> None:
    assert {k.value: {v.value for v in vs} for k, vs in ALLOWED.items()} == {
        k.value: {v.value for v in vs} for k, vs in gateway.ALLOWED.items()
    }
    assert {s.value for s in NEEDS_REASON} == {s.value for s in gateway.NEEDS_REASON}
    assert {s.value for s in TAKES_REASON} == {s.value for s in gateway.TAKES_REASON}


def test_clock_in_starts_not_ready_and_clock_out_ends_offline() -> None:
    shift = Shift().clock_in(T0)
    assert (shift.status, shift.reason, shift.since, shift.shift_start) == (
        S.NOT_READY,
        "clock_in",
        T0,
        T0,
    )
    ended = shift.clock_out(T0 + 60)
    assert (ended.status, ended.clocked_in) == (S.OFFLINE, False)


def test_not_clocked_in_nothing_can_be_changed() -> None:
    with pytest.raises(StatusRefusedError, match="not clocked in"):
        Shift().request(S.READY, None, T0)


@pytest.mark.parametrize(
    ("current", "target", "reason"),
    [
        (S.READY, S.BUSY, None),
        (S.READY, S.NOT_READY, "meeting"),
        (S.NOT_READY, S.NOT_READY, "training"),
        (S.BREAK, S.READY, None),
        (S.AFTER_CALL_WORK, S.BREAK, None),
        (S.READY, S.BREAK, "lunch"),
    ],
)
def test_an_allowed_change_is_made_at_once(
    current: AgentStatus, target: AgentStatus, reason: str | None
) -> None:
    shift, changes = on_shift(current).request(target, reason, T0 + 5)
    assert changes == [Change(target, reason, T0 + 5)]
    assert (shift.status, shift.reason, shift.since) == (target, reason, T0 + 5)


@pytest.mark.parametrize(
    ("current", "target", "reason", "why"),
    [
        (S.NOT_READY, S.BUSY, None, "cannot go from not ready to busy"),
        (S.AFTER_CALL_WORK, S.BUSY, None, "cannot go from after-call work to busy"),
        (S.READY, S.NOT_READY, None, "needs a reason"),
        (S.READY, S.BUSY, "x", "takes no reason"),
        (S.READY, S.BREAK, "Lunch Time", "must be a code"),
        (S.READY, S.OFFLINE, None, "clock out"),
    ],
)
def test_a_change_not_allowed_is_refused_with_a_hint(
    current: AgentStatus, target: AgentStatus, reason: str | None, why: str
) -> None:
    with pytest.raises(StatusRefusedError, match=why) as refused:
        on_shift(current).request(target, reason, T0)
    assert refused.value.hint.zh


def test_while_busy_a_break_waits_for_the_end_of_the_contact() -> None:
    busy = on_shift(S.BUSY)
    shift, changes = busy.request(S.BREAK, "lunch", T0 + 10)
    assert changes == [] and shift.status is S.BUSY and shift.since == T0
    assert shift.next == NextStatus(S.BREAK, "lunch")
    # the agent changes their mind: the later choice replaces it
    shift, _ = shift.request(S.NOT_READY, "meeting", T0 + 20)
    assert shift.next == NextStatus(S.NOT_READY, "meeting")
    # not ready can follow busy straight away: it replaces the ready that ends the contact
    shift, changes = shift.request(S.READY, None, T0 + 30)
    assert changes == [Change(S.NOT_READY, "meeting", T0 + 30)]
    assert shift.next is None


def test_a_break_after_a_contact_ended_straight_to_ready_follows_it() -> None:
    shift, _ = on_shift(S.BUSY).request(S.BREAK, None, T0)
    shift, changes = shift.request(S.READY, None, T0 + 30)
    # the gateway does not allow busy -> break: ready, then the break, at the same moment
    assert changes == [Change(S.READY, None, T0 + 30), Change(S.BREAK, None, T0 + 30)]
    assert (shift.status, shift.next) == (S.BREAK, None)


def test_the_next_status_survives_after_call_work_and_replaces_its_ready() -> None:
    shift, _ = on_shift(S.BUSY).request(S.BREAK, "lunch", T0)
    shift, changes = shift.request(S.AFTER_CALL_WORK, None, T0 + 30)
    assert changes == [Change(S.AFTER_CALL_WORK, None, T0 + 30)]
    assert shift.next == NextStatus(S.BREAK, "lunch")
    shift, changes = shift.request(S.READY, None, T0 + 90)
    assert changes == [Change(S.BREAK, "lunch", T0 + 90)]
    assert shift.next is None


def test_an_explicit_choice_after_wrap_up_overrides_the_next_status() -> None:
    shift, _ = on_shift(S.BUSY).request(S.BREAK, "lunch", T0)
    shift, _ = shift.request(S.AFTER_CALL_WORK, None, T0 + 30)
    shift, changes = shift.request(S.NOT_READY, "coaching", T0 + 60)
    assert changes == [Change(S.NOT_READY, "coaching", T0 + 60)]
    assert shift.next is None
    assert on_shift(S.BUSY).request(S.BREAK, None, T0)[0].cancel_next().next is None


def test_timers_count_the_status_and_the_shift() -> None:
    shift = on_shift(S.READY)
    assert shift.seconds_in_status(T0 + 65) == 65
    assert shift.shift_seconds(T0 + 65) == 3665
    assert shift.seconds_in_status(T0 - 10) == 0  # a clock set back shows no negative time
    assert Shift().shift_seconds(T0) == 0
    assert (clock(65), clock(3665), clock(0)) == ("1:05", "1:01:05", "0:00")


def test_the_shift_round_trips_through_json() -> None:
    shift, _ = on_shift(S.BUSY).request(S.BREAK, "lunch", T0)
    assert Shift.from_json(shift.to_json()) == shift
    assert Shift.from_json(Shift().to_json()) == Shift()


@pytest.mark.parametrize(("text", "status"), [("ready", S.READY), ("not-ready", S.NOT_READY)])
def test_status_names_are_read_leniently(text: str, status: AgentStatus) -> None:
    assert parse_status(text) is status


@pytest.mark.parametrize("text", ["offline", "lunch", ""])
def test_unknown_or_offline_status_names_are_refused(text: str) -> None:
    with pytest.raises(StatusRefusedError, match="choose"):
        parse_status(text)
