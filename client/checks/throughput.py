"""Throughput in Mbit/s from byte counts taken during a transfer. Pure. The first moments of a
transfer say little about the line (TCP's slow start, a shaper's burst allowance, socket
buffers filling), so they are left out of the figure, as speed tests do."""

from __future__ import annotations

from collections.abc import Sequence

WARMUP_SECONDS = 0.5
"""At most this much of the start is left out..."""
WARMUP_SHARE = 0.25
"""...and at most this share of the whole transfer."""
MIN_WINDOW_SECONDS = 0.2
"""A window shorter than this is too coarse to measure; then the whole transfer counts."""

Sample = tuple[float, int]
"""(seconds since the transfer started, bytes moved so far)."""


def mbps(byte_count: float, seconds: float) -> float:
    return byte_count * 8 / 1e6 / seconds if seconds > 0 else 0.0


def transfer_rate_mbps(samples: Sequence[Sample]) -> float | None:
    """Mbit/s over the transfer after its warm-up; None without a sample past the start.
    Samples must be in time order, bytes never decreasing."""
    if not samples:
        return None
    end_t, end_bytes = samples[-1]
    if end_t <= 0:
        return None
    warmup = min(WARMUP_SECONDS, WARMUP_SHARE * end_t)
    start_t, start_bytes = 0.0, 0
    for t, count in samples:
        if t >= warmup:
            start_t, start_bytes = t, count
            break
    if end_t - start_t < MIN_WINDOW_SECONDS:
        start_t, start_bytes = 0.0, 0
    return mbps(end_bytes - start_bytes, end_t - start_t)


def recent_rate_mbps(samples: Sequence[Sample], window: float = 1.0) -> float | None:
    """Mbit/s over about the last `window` seconds: the live figure while a transfer runs."""
    if len(samples) < 2:
        return None
    end_t, end_bytes = samples[-1]
    start_t, start_bytes = samples[0]
    for t, count in reversed(samples):
        if end_t - t >= window:
            start_t, start_bytes = t, count
            break
    if end_t <= start_t:
        return None
    return mbps(end_bytes - start_bytes, end_t - start_t)
