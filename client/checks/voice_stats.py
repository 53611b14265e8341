"""Round trip, jitter and loss of a voice-like packet stream, from when each packet was sent and
when its echo came back. Pure: the timestamps come from the probe (voice_probe.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class VoiceStats:
    sent: int
    received: int
    rtt_ms: float | None
    """Mean round-trip time of the packets that came back; None when none did."""
    jitter_ms: float | None
    """Mean absolute delay variation: |RTT(j) - RTT(i)| of each packet j and the one that
    arrived before it, averaged. It is the value RFC 3550's running interarrival jitter
    (J += (|D| - J) / 16) settles at, without that estimate's start from zero. It is of the
    round trip, the only delay an echo shows. None with fewer than two packets back."""
    loss_percent: float
    """Packets sent whose echo did not come back in time, percent of those sent."""
    burst_r: float
    """G.107's burst ratio of the losses (1: random; above 1: in bursts)."""


def burst_ratio(lost: Sequence[bool]) -> float:
    """1 / (p + q) of the two-state loss model, p = P(lost | previous arrived) and q =
    P(arrived | previous lost), in send order. At least 1: losses more spread out than random
    are rated as random (the conservative side); 1 when there is nothing to estimate from."""
    arrived_then = lost_then = arrived_to_lost = lost_to_arrived = 0
    for before, after in pairwise(lost):
        if before:
            lost_then += 1
            lost_to_arrived += not after
        else:
            arrived_then += 1
            arrived_to_lost += after
    if arrived_then == 0 or not any(lost):
        return 1.0
    p = arrived_to_lost / arrived_then
    q = lost_to_arrived / lost_then if lost_then else 1.0
    return max(1.0, 1.0 / (p + q)) if p + q > 0 else 1.0


def voice_stats(sent_at: Sequence[float], echoed_at: Mapping[int, float]) -> VoiceStats:
    """`sent_at[seq]`: when packet `seq` left, in seconds; `echoed_at[seq]`: when its echo
    arrived (packets never echoed are absent)."""
    sent = len(sent_at)
    back = sorted((t, seq) for seq, t in echoed_at.items() if 0 <= seq < sent)
    rtts = [(t - sent_at[seq]) * 1000 for t, seq in back]
    rtt = sum(rtts) / len(rtts) if rtts else None
    variations = [abs(b - a) for a, b in pairwise(rtts)]
    jitter = sum(variations) / len(variations) if variations else None
    loss = 100.0 * (sent - len(back)) / sent if sent else 100.0
    lost = [seq not in echoed_at for seq in range(sent)]
    return VoiceStats(sent, len(back), rtt, jitter, loss, burst_ratio(lost))
