"""The network check's pure parts: the G.107 E-model against its known points, round trip,
jitter and loss from timestamps, throughput from byte counts, and the judging, which must agree
with the gateway's on every level."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeagent.client.checks.emodel import (
    G711_PLC_BPL,
    EModelInputs,
    mos_from_r,
    one_way_delay_ms,
    r_factor,
    voice_inputs,
    voice_mos,
)
from homeagent.client.checks.network import (
    NetworkFacts,
    estimated_mos,
    judge_network,
    mos_band,
    part_seconds,
)
from homeagent.client.checks.result import Hint, Status
from homeagent.client.checks.throughput import recent_rate_mbps, transfer_rate_mbps
from homeagent.client.checks.voice_stats import burst_ratio, voice_stats
from homeagent.proxy.core.policy.posture import PostureChecks
from homeagent.proxy.core.posture_check import evaluate_report

# --- the E-model ------------------------------------------------------------------------------


def test_the_default_connection_rates_93_2_and_mos_4_41() -> None:
    # G.107: with every parameter at its default, R = 93.2 (computed here from Ro, Is, Id).
    r = r_factor(EModelInputs())
    assert r == pytest.approx(93.2, abs=0.05)
    assert mos_from_r(r) == pytest.approx(4.41, abs=0.005)


@pytest.mark.parametrize(
    ("r", "mos"),
    # G.107 Annex B / G.109's category boundaries: R 90, 80, 70, 60, 50
    [(90, 4.34), (80, 4.03), (70, 3.60), (60, 3.10), (50, 2.58)],
)
def test_r_to_mos_at_g109_category_boundaries(r: float, mos: float) -> None:
    assert mos_from_r(r) == pytest.approx(mos, abs=0.01)


@pytest.mark.parametrize(("r", "mos"), [(-5, 1.0), (0, 1.0), (100, 4.5), (120, 4.5)])
def test_mos_is_held_between_1_and_4_5(r: float, mos: float) -> None:
    assert mos_from_r(r) == mos


@pytest.mark.parametrize("delay", [0, 50, 100, 150, 177, 200, 250, 300, 400])
def test_delay_impairment_follows_the_known_g711_curve(delay: float) -> None:
    # Cole and Rosenbluth's fit of G.107 for G.711 (R = 94.2 - 0.024 d - 0.11 (d - 177.3)
    # for d > 177.3): an independent check of Idte, Idle and Idd together. Their fit starts
    # from 94.2 where today's defaults give 93.2.
    p = replace(EModelInputs(), t=delay, tr=2 * delay, ta=delay)
    fitted = 94.2 - 0.024 * delay - 0.11 * max(0.0, delay - 177.3) - 1.0
    assert r_factor(p) == pytest.approx(fitted, abs=3.5)


def test_more_delay_never_rates_better() -> None:
    ratings = [r_factor(replace(EModelInputs(), t=d, tr=2 * d, ta=d)) for d in range(0, 600, 10)]
    assert all(a >= b for a, b in itertools.pairwise(ratings))
    assert ratings[0] - ratings[-1] > 40


@pytest.mark.parametrize(("loss", "ie_eff"), [(1, 3.64), (2, 7.01), (5, 15.78), (10, 27.07)])
def test_packet_loss_costs_g711_with_concealment_its_ie_eff(loss: float, ie_eff: float) -> None:
    # Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl), G.711 with PLC: Ie 0, Bpl 25.1
    clean = r_factor(replace(EModelInputs(), bpl=G711_PLC_BPL))
    lossy = r_factor(replace(EModelInputs(), bpl=G711_PLC_BPL, ppl=loss))
    assert clean - lossy == pytest.approx(ie_eff, abs=0.01)


def test_losses_in_bursts_hurt_more_than_random_ones() -> None:
    assert voice_mos(40, 5, 3, burst_r=3) < voice_mos(40, 5, 3, burst_r=1)


def test_a_call_counts_frame_and_jitter_buffer_in_its_delay() -> None:
    assert one_way_delay_ms(100, 10) == 50 + 20 + 20
    p = voice_inputs(100, 10, 0)
    assert (p.t, p.ta, p.tr, p.bpl, p.ie) == (90, 90, 180, G711_PLC_BPL, 0)


def test_a_good_home_line_is_excellent_and_a_bad_one_is_poor() -> None:
    assert mos_band(voice_mos(20, 2, 0)).en == "excellent"
    assert mos_band(voice_mos(300, 40, 8)).en == "poor"
    assert voice_mos(300, 40, 8) < 3.1 < 4.2 < voice_mos(20, 2, 0)


@pytest.mark.parametrize(
    ("mos", "band"), [(4.41, "excellent"), (4.2, "good"), (3.7, "good"), (3.69, "fair"),
                      (3.1, "fair"), (3.09, "poor"), (1.0, "poor")],
)  # fmt: skip
def test_mos_bands(mos: float, band: str) -> None:
    assert mos_band(mos).en == band


def test_no_voice_back_is_the_lowest_mos_and_unknowns_are_none() -> None:
    assert estimated_mos(None, None, 100.0, 1.0) == 1.0
    assert estimated_mos(None, None, 20.0, 1.0) is None
    assert estimated_mos(40.0, None, 0.0, 1.0) == round(voice_mos(40, 0, 0), 2)


# --- round trip, jitter, loss from timestamps -------------------------------------------------


def _stream(rtts_ms: list[float | None]) -> tuple[list[float], dict[int, float]]:
    """A 20 ms stream whose packet i comes back after rtts_ms[i] (None: never)."""
    sent = [i * 0.02 for i in range(len(rtts_ms))]
    echoed = {i: sent[i] + rtt / 1000 for i, rtt in enumerate(rtts_ms) if rtt is not None}
    return sent, echoed


def test_a_steady_line_has_its_round_trip_and_no_jitter_or_loss() -> None:
    stats = voice_stats(*_stream([30.0] * 150))
    assert (stats.sent, stats.received) == (150, 150)
    assert stats.rtt_ms == pytest.approx(30)
    assert stats.jitter_ms == pytest.approx(0, abs=1e-9)
    assert (stats.loss_percent, stats.burst_r) == (0, 1)


def test_jitter_is_the_mean_change_of_round_trip_between_packets() -> None:
    stats = voice_stats(*_stream([30.0, 40.0] * 50))
    assert stats.rtt_ms == pytest.approx(35)
    assert stats.jitter_ms == pytest.approx(10)


def test_jitter_agrees_with_rfc3550s_running_estimate_on_a_long_stream() -> None:
    rng = random.Random(3550)
    rtts: list[float | None] = [60 + rng.uniform(-15, 15) for _ in range(5000)]
    stats = voice_stats(*_stream(rtts))
    running = 0.0
    for a, b in itertools.pairwise(rtts):
        assert a is not None and b is not None
        running += (abs(b - a) - running) / 16
    # the running estimate wanders around the mean variation
    assert stats.jitter_ms == pytest.approx(running, rel=0.25)
    assert stats.jitter_ms == pytest.approx(10.0, rel=0.05)  # E|U1 - U2| for U(-15, 15)


def test_echoes_are_taken_in_the_order_they_arrived() -> None:
    # packet 1 overtakes packet 0: round trips in arrival order are 25, 50, 25 ms (in
    # sequence order 50, 25, 25 would give a jitter of 12.5)
    sent, echoed = [0.0, 0.02, 0.04], {0: 0.050, 1: 0.045, 2: 0.065}
    stats = voice_stats(sent, echoed)
    assert stats.rtt_ms == pytest.approx((50 + 25 + 25) / 3)
    assert stats.jitter_ms == pytest.approx((25 + 25) / 2)


def test_every_twentieth_packet_lost_is_five_percent_random_loss() -> None:
    stats = voice_stats(*_stream([None if i % 20 == 19 else 30.0 for i in range(200)]))
    assert stats.loss_percent == pytest.approx(5.0)
    assert stats.burst_r == 1.0  # spread out evenly: rated as random, not better


def test_nothing_back_is_all_lost_and_unmeasured() -> None:
    stats = voice_stats(*_stream([None] * 50))
    assert (stats.received, stats.rtt_ms, stats.jitter_ms, stats.loss_percent) == (
        0,
        None,
        None,
        100,
    )


def test_echoes_of_packets_never_sent_are_ignored() -> None:
    stats = voice_stats([0.0, 0.02], {0: 0.03, 1: 0.05, 7: 0.06, -1: 0.01})
    assert (stats.received, stats.loss_percent) == (2, 0)


def test_burst_ratio_of_losses_in_runs() -> None:
    # runs of 5 lost in every 50: p = 1/45, q = 1/5 -> BurstR = 1 / (0.0222 + 0.2) = 4.5
    lost = ([False] * 45 + [True] * 5) * 20
    assert burst_ratio(lost) == pytest.approx(1 / (19 / 900 + 19 / 99 + 1e-12), rel=0.05)
    assert burst_ratio(lost) > 4
    rng = random.Random(107)
    assert burst_ratio([rng.random() < 0.05 for _ in range(20000)]) == pytest.approx(1, abs=0.1)
    assert burst_ratio([]) == burst_ratio([False] * 10) == burst_ratio([True] * 10) == 1


# --- throughput from byte counts ---------------------------------------------------------------


def test_a_steady_transfer_is_its_rate() -> None:
    # 10 Mbit/s = 1.25 MB/s, sampled every 50 ms for 3 s
    samples = [(t / 20, int(1_250_000 * t / 20)) for t in range(61)]
    assert transfer_rate_mbps(samples) == pytest.approx(10, rel=0.01)


def test_the_warm_up_is_left_out() -> None:
    # a shaper's burst allowance lets the first 0.3 s through at 100 Mbit/s, then 10
    samples = [(t / 100, int(12_500_000 * t / 100)) for t in range(31)]
    base_t, base_bytes = samples[-1]
    samples += [(base_t + t / 100, base_bytes + int(1_250_000 * t / 100)) for t in range(1, 271)]
    assert transfer_rate_mbps(samples) == pytest.approx(10, rel=0.01)
    whole = samples[-1][1] * 8 / 1e6 / samples[-1][0]
    assert whole > 18  # what a naive total / time would have said


def test_short_or_sparse_transfers_count_whole() -> None:
    # a slow line: two reads in 3 s; the warm-up would leave too little, so all counts
    assert transfer_rate_mbps([(0.1, 100_000), (3.0, 375_000)]) == pytest.approx(1.0)
    assert transfer_rate_mbps([]) is None
    assert transfer_rate_mbps([(0.0, 0)]) is None


def test_the_live_rate_is_of_the_last_second() -> None:
    samples = [(t / 10, 125_000 * t) for t in range(11)]  # 10 Mbit/s for 1 s
    samples += [(1 + t / 10, 1_250_000 + 62_500 * t) for t in range(1, 21)]  # then 5 Mbit/s
    assert recent_rate_mbps(samples) == pytest.approx(5, rel=0.01)
    assert recent_rate_mbps(samples[:1]) is None


# --- judging -----------------------------------------------------------------------------------

LIMITS: dict[str, Any] = {
    "level": "required",
    "max_rtt_ms": 150,
    "max_jitter_ms": 30,
    "max_loss_percent": 1,
    "min_mos": 3.6,
    "min_download_mbps": 8,
    "min_upload_mbps": 4,
    "test_seconds": 3,
}
GOOD = NetworkFacts(
    rtt_ms=24.5, jitter_ms=2.1, loss_percent=0.0, download_mbps=48.2, upload_mbps=11.7, mos=4.39
)


def test_a_good_line_passes_with_its_figures_named_as_the_gateway_reads_them() -> None:
    result = judge_network(GOOD, LIMITS)
    assert (result.status, result.hint) == (Status.PASS, None)
    assert result.measured == {
        "rtt_ms": 24.5,
        "jitter_ms": 2.1,
        "loss_percent": 0.0,
        "download_mbps": 48.2,
        "upload_mbps": 11.7,
        "mos": 4.39,
    }
    assert result.limits == LIMITS


def test_a_slow_upload_says_the_figure_the_limit_and_what_to_do() -> None:
    result = judge_network(replace(GOOD, upload_mbps=2.1), LIMITS)
    assert result.status is Status.FAIL and result.hint is not None
    assert result.hint.en == (
        "Upload 2.1 Mbit/s, limit 4: close other uploads (cloud backup, video) or use a cable "
        "instead of Wi-Fi"
    )
    assert "上传 2.1 Mbit/s" in result.hint.zh and "4" in result.hint.zh


@pytest.mark.parametrize(
    ("change", "en", "zh"),
    [
        (
            {"rtt_ms": 180.0},
            "Delay to the company 180 ms, limit 150 ms",
            "延迟 180 ms，上限 150 ms",
        ),
        ({"jitter_ms": 41.5}, "Jitter 41.5 ms, limit 30 ms", "抖动 41.5 ms，上限 30 ms"),
        ({"loss_percent": 4.67}, "Packet loss 4.67%, limit 1%", "丢包率 4.67%，上限 1%"),
        ({"mos": 3.2}, "Expected call quality MOS 3.2 (fair), at least 3.6", "MOS 3.2（中）"),
        ({"download_mbps": 6.5}, "Download 6.5 Mbit/s, limit 8", "下载 6.5 Mbit/s"),
    ],
)
def test_each_figure_out_of_its_limit_fails_with_a_plain_hint(
    change: dict[str, Any], en: str, zh: str
) -> None:
    result = judge_network(replace(GOOD, **change), LIMITS)
    assert result.status is Status.FAIL and result.hint is not None
    assert en in result.hint.en
    assert zh in result.hint.zh
    assert "cable" in result.hint.en and "网线" in result.hint.zh


def test_figures_on_their_limits_pass() -> None:
    edge = NetworkFacts(150.0, 30.0, 1.0, 8.0, 4.0, 3.6)
    assert judge_network(edge, LIMITS).status is Status.PASS


@pytest.mark.parametrize(("level", "status"), [("warn", Status.WARN), ("off", Status.SKIP)])
def test_the_level_decides_what_a_shortfall_means(level: str, status: Status) -> None:
    result = judge_network(replace(GOOD, loss_percent=3.0), {**LIMITS, "level": level})
    assert result.status is status
    assert (result.hint is not None) == (status is Status.WARN)


def test_an_unreachable_gateway_fails_and_says_why() -> None:
    why = Hint(zh="下载测试无法连接公司网关", en="The download test could not reach the gateway")
    facts = replace(GOOD, download_mbps=None, unreachable=(why,))
    result = judge_network(facts, LIMITS)
    assert result.status is Status.FAIL and result.hint is not None
    assert result.hint.en == why.en  # not also "could not be measured" for the same figure


def test_a_figure_missing_without_a_reason_is_not_measured() -> None:
    result = judge_network(replace(GOOD, jitter_ms=None), LIMITS)
    assert result.status is Status.FAIL and result.hint is not None
    assert "jitter could not be measured" in result.hint.en


@pytest.mark.parametrize(
    ("wanted", "seconds"),
    [
        (5, 5.0),
        (0.1, 1.0),
        (600, 10.0),
        ("5s", 5.0),
        ("2.5", 2.5),
        ("5m", 3.0),
        (True, 3.0),
        (None, 3.0),
    ],
)
def test_each_part_runs_a_bounded_time(wanted: Any, seconds: float) -> None:
    limits = {} if wanted is None else {"test_seconds": wanted}
    assert part_seconds(limits) == seconds


# --- the gateway reads the same figures the same way -------------------------------------------

CASES = [
    GOOD,
    replace(GOOD, rtt_ms=150.1),
    replace(GOOD, jitter_ms=30.5),
    replace(GOOD, loss_percent=1.01),
    replace(GOOD, mos=3.59),
    replace(GOOD, download_mbps=7.99),
    replace(GOOD, upload_mbps=3.99),
    NetworkFacts(150.0, 30.0, 1.0, 8.0, 4.0, 3.6),
    NetworkFacts(None, None, 100.0, 9.0, 5.0, 1.0),
    replace(GOOD, upload_mbps=None),
]


def gateway_outcome(facts: NetworkFacts, limits: dict[str, Any]) -> str:
    report = {"version": 1, "checks": {"network": judge_network(facts, limits).to_report()}}
    policy: dict[str, Any] = {name: {"level": "off"} for name in PostureChecks.model_fields}
    policy["network"] = limits
    verdict = evaluate_report(json.dumps(report).encode(), PostureChecks.model_validate(policy))
    return verdict.result("network").outcome.value


@pytest.mark.parametrize("level", ["required", "warn", "off"])
@pytest.mark.parametrize("facts", CASES)
def test_every_verdict_is_the_gateways(facts: NetworkFacts, level: str) -> None:
    limits = {**LIMITS, "level": level}
    assert gateway_outcome(facts, limits) == judge_network(facts, limits).status.value


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0.1, 2000)), min_size=1, max_size=300))
def test_stream_figures_stay_within_what_was_seen(rtts: list[float | None]) -> None:
    stats = voice_stats(*_stream(rtts))
    back = [r for r in rtts if r is not None]
    assert stats.received == len(back) and stats.sent == len(rtts)
    assert stats.loss_percent == pytest.approx(100 * (len(rtts) - len(back)) / len(rtts))
    assert stats.burst_r >= 1
    if back:
        assert stats.rtt_ms is not None
        assert min(back) - 1e-6 <= stats.rtt_ms <= max(back) + 1e-6
    if len(back) >= 2:
        assert stats.jitter_ms is not None
        assert 0 <= stats.jitter_ms <= max(back) - min(back) + 1e-6
