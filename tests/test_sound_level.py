"""The A-weighted level, pure: IEC 61672's table, sox's dBFS convention, white noise against the
weighting integrated apart, dead microphones, clipping, and the meter fed in any chunks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeagent.client.checks.sound_level import (
    SILENCE_DBFS,
    LevelMeter,
    a_weighted_dbfs,
    a_weighting_db,
    dbfs,
)

RATE = 48000

# IEC 61672-1:2013 table 3: A-weighting at the exact one-third-octave frequencies
# 1000 * 10^(n/10) Hz, n = -13 (50 Hz) … 10 (10 kHz); nominal values, 0.1 dB.
IEC_61672_A = dict(
    zip(
        range(-13, 11),
        [
            *(-30.2, -26.2, -22.5, -19.1, -16.1, -13.4, -10.9, -8.6, -6.6, -4.8, -3.2, -1.9),
            *(-0.8, 0.0, 0.6, 1.0, 1.2, 1.3, 1.2, 1.0, 0.5, -0.1, -1.1, -2.5),
        ],
        strict=True,
    )
)


def sine(
    frequency: float, amplitude: float, seconds: float = 2.0, phase: float = 0.0
) -> np.ndarray:
    t = np.arange(round(RATE * seconds)) / RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t + phase)).astype(np.float32)


@pytest.mark.parametrize(("n", "expected"), sorted(IEC_61672_A.items()))
def test_the_weighting_curve_is_the_standards(n: int, expected: float) -> None:
    assert a_weighting_db(1000 * 10 ** (n / 10)) == pytest.approx(expected, abs=0.06)


@pytest.mark.parametrize(("n", "expected"), sorted(IEC_61672_A.items()))
def test_a_tone_reads_its_level_plus_the_weighting_within_half_a_db(
    n: int, expected: float
) -> None:
    frequency = 1000 * 10 ** (n / 10)
    # amplitude 0.5: -9.03 dBFS unweighted; a phase that does not line up with the blocks
    level = a_weighted_dbfs(sine(frequency, 0.5, phase=0.7), RATE)
    assert level == pytest.approx(dbfs(0.125) + expected, abs=0.5)


def test_a_full_scale_sine_reads_minus_3_01_as_sox_does() -> None:
    assert dbfs(0.5) == pytest.approx(-3.0103, abs=1e-4)
    assert a_weighted_dbfs(sine(1000, 1.0), RATE) == pytest.approx(-3.01, abs=0.02)


@pytest.mark.parametrize("rate", [44100, 48000])
def test_white_noise_against_the_weighting_integrated_apart(rate: int) -> None:
    # A flat spectrum's weighted power is its variance times the curve's mean over 0..Nyquist,
    # integrated here from the scalar formula on a fine grid, apart from the meter's FFT.
    sigma = 0.05
    noise = np.random.default_rng(7).normal(0.0, sigma, rate * 4)
    grid = np.linspace(1.0, rate / 2, 200_000)
    mean_gain = float(np.mean([10 ** (a_weighting_db(f) / 10) for f in grid]))
    expected = 10 * math.log10(sigma**2 * mean_gain)
    assert a_weighted_dbfs(noise, rate) == pytest.approx(expected, abs=0.2)


def test_low_frequencies_count_for_little_as_the_ear_hears_them() -> None:
    hum = a_weighted_dbfs(sine(50, 0.5), RATE)
    voice = a_weighted_dbfs(sine(1000, 0.5), RATE)
    assert voice - hum == pytest.approx(30.2, abs=0.5)


@pytest.mark.parametrize(
    "samples",
    [
        np.zeros(RATE, dtype=np.float32),  # digital silence
        np.full(RATE, 0.25, dtype=np.float32),  # a constant: a broken driver
        np.tile(np.array([0, 1 / 32768], dtype=np.float32), RATE // 2),  # one 16-bit step
    ],
    ids=["silence", "constant", "one-lsb"],
)
def test_silence_or_a_constant_is_a_dead_microphone(samples: np.ndarray) -> None:
    meter = LevelMeter(RATE)
    meter.feed(samples)
    facts = meter.facts()
    assert facts.dead
    assert not facts.clipping


def test_silence_reads_the_floor() -> None:
    assert a_weighted_dbfs(np.zeros(RATE), RATE) == SILENCE_DBFS


def test_a_very_quiet_room_is_not_a_dead_microphone() -> None:
    # -90 dBFS of noise: a quiet room through a low-gain 16-bit microphone
    meter = LevelMeter(RATE)
    meter.feed(np.random.default_rng(1).normal(0.0, 10 ** (-90 / 20), RATE))
    facts = meter.facts()
    assert not facts.dead
    assert facts.dbfs_a < -85


def test_clipping_is_counted() -> None:
    meter = LevelMeter(RATE)
    meter.feed(np.clip(sine(440, 1.5), -1.0, 1.0))
    clipped = meter.facts()
    meter = LevelMeter(RATE)
    meter.feed(sine(440, 0.5))
    clean = meter.facts()
    assert clipped.clipping and clipped.clipped_percent > 20
    assert not clean.clipping and clean.clipped_percent == 0
    assert clean.peak_dbfs == pytest.approx(-6.02, abs=0.01)


def test_the_live_level_comes_after_the_first_block() -> None:
    meter = LevelMeter(RATE)
    assert meter.feed(sine(1000, 0.5, seconds=0.1)) is None
    live = meter.feed(sine(1000, 0.5, seconds=0.3))
    assert live is not None
    assert live == pytest.approx(-9.03, abs=0.3)


def test_a_recording_shorter_than_a_block_still_has_a_level() -> None:
    meter = LevelMeter(RATE)
    meter.feed(sine(1000, 0.5, seconds=0.2))
    assert meter.facts().dbfs_a == pytest.approx(-9.03, abs=0.1)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 9000), min_size=1, max_size=40))
def test_chunking_does_not_change_the_figures(cuts: list[int]) -> None:
    signal = np.random.default_rng(3).normal(0.0, 0.1, RATE).astype(np.float32)
    whole = LevelMeter(RATE)
    whole.feed(signal)
    pieces = LevelMeter(RATE)
    edges = np.cumsum(cuts)
    for part in np.split(signal, edges[edges < signal.size]):
        pieces.feed(part)
    assert pieces.facts() == whole.facts()
