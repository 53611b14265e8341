"""The re-check's pure decisions: when the next one is due, and what a result means for the
agent's status (now, after the contact, held, or only told)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeagent.client.session.recheck import (
    AFTER_FAIL_S,
    RETRY_MAX_S,
    RUN_ALLOWANCE_S,
    Consequence,
    Effect,
    RecheckState,
    decide,
    due_now,
    next_due,
    regular_gap,
    retry_gap,
)
from homeagent.client.session.status_model import AgentStatus, Change, NextStatus, Shift

S = AgentStatus
T0 = 1_800_000_000.0


def on_shift(
    status: AgentStatus = S.READY, reason: str | None = None, following: NextStatus | None = None
) -> Shift:
    return Shift(status, reason, T0, T0 - 3600, following)


# --- when ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "max_age", "gap"),
    [
        (1800, 3600, 1800),  # the default policy: every 30 minutes
        (3600, 3600, 2880),  # interval = max_age: leave a fifth of it
        (3000, 3600, 2880),
        (600, 400, 280),  # a short max_age: still the run allowance (2 min) before it
        (600, 200, 100),  # shorter still: half of it
        (5, 3600, 60),  # a typo'd interval does not run the checks back to back
        (5, 60, 30),
    ],
)
def test_regular_gap(interval: float, max_age: float, gap: float) -> None:
    assert regular_gap(interval, max_age) == gap


@given(
    interval=st.floats(min_value=1, max_value=86_400),
    max_age=st.floats(min_value=10, max_value=86_400),
)
def test_a_passing_agent_is_rechecked_well_before_the_report_ages_out(
    interval: float, max_age: float
) -> None:
    gap = regular_gap(interval, max_age)
    assert 0 < gap <= interval or gap <= 60
    assert max_age - gap >= min(RUN_ALLOWANCE_S, max_age / 2) - 1e-9


def test_next_due_after_a_pass_a_fail_and_no_report() -> None:
    fetched = RecheckState().settings_fetched(1800, 3600)
    assert next_due(fetched) is None  # no report known: at once
    assert due_now(fetched, T0)
    passed = fetched.reported(T0, T0 + 3600, passed=True)
    assert next_due(passed) == T0 + 1800
    assert not due_now(passed, T0 + 1799) and due_now(passed, T0 + 1800)
    failed = fetched.reported(T0, T0 + 3600, passed=False)
    assert next_due(failed) == T0 + AFTER_FAIL_S


def test_without_settings_the_reports_own_lifetime_gives_the_schedule() -> None:
    state = RecheckState(reported_at=T0, expires_at=T0 + 3600, passed=True)
    assert next_due(state) == T0 + regular_gap(1800, 3600)


def test_an_unreachable_gateway_is_retried_sooner_backing_off_to_a_bound() -> None:
    assert [retry_gap(n) for n in range(1, 8)] == [30, 60, 120, 240, 300, 300, 300]
    state = RecheckState().settings_fetched(1800, 3600).reported(T0, T0 + 3600, passed=True)
    at = T0 + 1800
    for tries in range(1, 6):
        state = state.unreachable(at)
        assert state.unreachable_tries == tries
        due = next_due(state)
        assert due is not None and at < due <= at + RETRY_MAX_S
        at = due
    # reaching it again resets the back-off and the schedule follows the new report
    state = state.reported(at, at + 3600, passed=True)
    assert state.unreachable_tries == 0 and next_due(state) == at + 1800


def test_state_round_trips_through_json() -> None:
    state = RecheckState(1800, 3600, T0, T0 + 3600, False, 2, T0 + 60)
    assert RecheckState.from_json(state.to_json()) == state
    assert RecheckState.from_json({}) == RecheckState()


# --- what it means -------------------------------------------------------------------------


def test_failing_while_ready_moves_to_not_ready_at_once_with_the_first_failing_check() -> None:
    shift = on_shift(S.READY)
    consequence = decide(shift, ["cpu", "noise"], ["memory"])
    assert consequence == Consequence(
        Effect.NOT_READY_NOW, "posture.cpu", ("cpu", "noise"), ("memory",)
    )
    after, changes = consequence.apply(shift, T0 + 5)
    assert (after.status, after.reason, after.since) == (S.NOT_READY, "posture.cpu", T0 + 5)
    assert changes == [Change(S.NOT_READY, "posture.cpu", T0 + 5)]


@pytest.mark.parametrize("status", [S.BUSY, S.AFTER_CALL_WORK])
def test_failing_in_a_contact_only_becomes_the_next_status(status: AgentStatus) -> None:
    shift = on_shift(status, following=NextStatus(S.BREAK, "lunch"))
    consequence = decide(shift, ["noise"])
    assert consequence.effect is Effect.NOT_READY_NEXT
    after, changes = consequence.apply(shift, T0 + 5)
    assert changes == []
    assert (after.status, after.since) == (status, T0)  # the contact goes on
    assert after.next == NextStatus(S.NOT_READY, "posture.noise")
    # the contact ends: the agent asks for ready and gets the posture not-ready instead
    ended, sent = after.request(S.READY, None, T0 + 60)
    assert (ended.status, ended.reason, ended.next) == (S.NOT_READY, "posture.noise", None)
    assert [c.status for c in sent][-1] is S.NOT_READY


def test_warnings_alone_change_no_status() -> None:
    for shift in (on_shift(S.READY), on_shift(S.BUSY), on_shift(S.BREAK, "lunch")):
        consequence = decide(shift, [], ["noise"])
        assert consequence.effect is Effect.WARN
        assert consequence.apply(shift, T0 + 1) == (shift, [])
    assert decide(on_shift(S.READY), []).effect is Effect.NONE


@pytest.mark.parametrize(
    ("status", "reason"),
    [(S.BREAK, "lunch"), (S.NOT_READY, "meeting"), (S.NOT_READY, "clock_in")],
)
def test_failing_while_taking_no_contacts_holds_the_status(
    status: AgentStatus, reason: str
) -> None:
    shift = on_shift(status, reason)
    consequence = decide(shift, ["memory"])
    assert (consequence.effect, consequence.reason) == (Effect.HELD, "posture.memory")
    assert consequence.apply(shift, T0 + 1) == (shift, [])


def test_a_posture_reason_follows_the_first_failing_check() -> None:
    held = on_shift(S.NOT_READY, "posture.memory")
    assert decide(held, ["memory"]).effect is Effect.HELD
    moved = decide(held, ["cpu", "memory"])
    assert moved.effect is Effect.NOT_READY_NOW
    after, changes = moved.apply(held, T0 + 1)
    assert after.reason == "posture.cpu" and changes == [Change(S.NOT_READY, "posture.cpu", T0 + 1)]


def test_a_pass_after_a_fail_tells_the_agent_but_never_sets_ready() -> None:
    held = on_shift(S.NOT_READY, "posture.cpu")
    consequence = decide(held, [])
    assert consequence.effect is Effect.MAY_GO_READY
    assert consequence.apply(held, T0 + 1) == (held, [])
    assert "go ready" in consequence.message(S.NOT_READY).en
    assert "恢复就绪" in consequence.message(S.NOT_READY).zh


def test_a_pass_in_the_contact_drops_the_posture_next_status_only() -> None:
    queued = on_shift(S.BUSY, following=NextStatus(S.NOT_READY, "posture.cpu"))
    consequence = decide(queued, [])
    assert consequence.effect is Effect.NEXT_DROPPED
    assert consequence.apply(queued, T0 + 1)[0].next is None
    own = on_shift(S.BUSY, following=NextStatus(S.NOT_READY, "meeting"))
    assert decide(own, []).effect is Effect.NONE
    assert decide(own, []).apply(own, T0 + 1)[0].next == NextStatus(S.NOT_READY, "meeting")


def test_each_effect_says_something_different_in_both_languages() -> None:
    cases = {
        Effect.NOT_READY_NOW: decide(on_shift(S.READY), ["cpu"]),
        Effect.NOT_READY_NEXT: decide(on_shift(S.BUSY), ["cpu"]),
        Effect.HELD: decide(on_shift(S.BREAK), ["cpu"]),
        Effect.WARN: decide(on_shift(S.READY), [], ["noise"]),
    }
    seen_en, seen_zh = set(), set()
    for effect, consequence in cases.items():
        assert consequence.effect is effect
        said = consequence.message(S.BREAK)
        assert said.en not in seen_en and said.zh not in seen_zh
        seen_en.add(said.en)
        seen_zh.add(said.zh)
    failing = cases[Effect.NOT_READY_NOW].message(S.NOT_READY)
    assert "CPU" in failing.en and "处理器" in failing.zh and "posture.cpu" in failing.en
    held = cases[Effect.HELD].message(S.BREAK)
    assert "break" in held.en and "休息" in held.zh
    warned = cases[Effect.WARN].message(S.READY)
    assert "Background noise" in warned.en and "背景噪声" in warned.zh
