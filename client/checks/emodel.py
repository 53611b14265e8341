"""The ITU-T G.107 E-model: a call's transmission rating R from the line's delay and packet
loss, and the estimated MOS (conversational quality) from R. Pure: numbers in, numbers out."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

FRAME_MS = 20.0
"""A G.711 voice frame: the sender waits this long to fill a packet before it can send it."""
JITTER_BUFFER_SPANS = 2.0
"""An adaptive jitter buffer holds about two jitter spans of speech to play it out smoothly."""
G711_PLC_BPL = 25.1
"""G.711 with packet-loss concealment, random loss (ITU-T G.113 Appendix I)."""


@dataclass(frozen=True, slots=True)
class EModelInputs:
    """The G.107 parameters, at G.107's default values: with all of them a handset call on a
    clean, delay-free line rates R = 93.2."""

    slr: float = 8.0
    """Send loudness rating, dB."""
    rlr: float = 2.0
    """Receive loudness rating, dB."""
    stmr: float = 15.0
    """Sidetone masking rating, dB."""
    lstr: float = 18.0
    """Listener sidetone rating, dB."""
    ds: float = 3.0
    """D-value of the telephone, send side."""
    dr: float = 3.0
    """D-value of the telephone, receive side."""
    telr: float = 65.0
    """Talker echo loudness rating, dB."""
    wepl: float = 110.0
    """Weighted echo path loss, dB."""
    t: float = 0.0
    """Mean one-way delay of the echo path, ms."""
    tr: float = 0.0
    """Round-trip delay in a 4-wire loop, ms."""
    ta: float = 0.0
    """Absolute delay in echo-free connections, ms."""
    qdu: float = 1.0
    """Number of quantisation distortion units."""
    ie: float = 0.0
    """Equipment impairment factor of the codec (G.711: 0)."""
    bpl: float = 1.0
    """Packet-loss robustness factor of the codec."""
    ppl: float = 0.0
    """Random packet-loss probability, percent."""
    burst_r: float = 1.0
    """Burst ratio: 1 for random loss, above 1 when losses come in bursts."""
    nc: float = -70.0
    """Circuit noise referred to the 0 dBr point, dBm0p."""
    nfor: float = -64.0
    """Noise floor at the receive side, dBmp."""
    ps: float = 35.0
    """Room noise at the send side, dB(A)."""
    pr: float = 35.0
    """Room noise at the receive side, dB(A)."""
    a: float = 0.0
    """Advantage factor (0 for a wired line)."""


def _db_sum(*levels: float) -> float:
    return 10 * math.log10(sum(10 ** (level / 10) for level in levels))


def r_factor(p: EModelInputs) -> float:
    """G.107's transmission rating R = Ro - Is - Id - Ie,eff + A."""
    olr = p.slr + p.rlr
    # basic signal-to-noise ratio Ro: circuit noise, room noise at both ends, noise floor
    nos = p.ps - p.slr - p.ds - 100 + 0.004 * (p.ps - olr - p.ds - 14) ** 2
    pre = p.pr + 10 * math.log10(1 + 10 ** ((10 - p.lstr) / 10))
    nor = p.rlr - 121 + pre + 0.008 * (pre - 35) ** 2
    nfo = p.nfor + p.rlr
    no = _db_sum(p.nc, nos, nor, nfo)
    ro = 15 - 1.5 * (p.slr + no)

    # simultaneous impairments Is: loudness, sidetone, quantisation
    xolr = olr + 0.2 * (64 + no - p.rlr)
    iolr = 20 * ((1 + (xolr / 8) ** 8) ** (1 / 8) - xolr / 8)
    stmro = -10 * math.log10(10 ** (-p.stmr / 10) + math.exp(-p.t / 4) * 10 ** (-p.telr / 10))
    ist = (
        12 * (1 + ((stmro - 13) / 6) ** 8) ** (1 / 8)
        - 28 * (1 + ((stmro + 1) / 19.4) ** 35) ** (1 / 35)
        - 13 * (1 + ((stmro - 3) / 33) ** 13) ** (1 / 13)
        + 29
    )
    q = 37 - 15 * math.log10(p.qdu)
    g = 1.07 + 0.258 * q + 0.0602 * q**2
    y = (ro - 100) / 15 + 46 / 8.4 - g / 9
    z = 46 / 30 - g / 40
    iq = 15 * math.log10(1 + 10**y + 10**z)
    is_ = iolr + ist + iq

    # delay impairments Id: talker echo, listener echo, too-long absolute delay
    terv = p.telr - 40 * math.log10((1 + p.t / 10) / (1 + p.t / 150)) + 6 * math.exp(-0.3 * p.t**2)
    if p.stmr < 9:
        terv += ist / 2  # sidetone masks talker echo less on such telephones
    roe = -1.5 * (no - p.rlr)
    re = 80 + 2.5 * (terv - 14)
    idte = ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-p.t))
    if p.stmr > 20:
        idte = math.sqrt(idte**2 + ist**2)  # a quiet sidetone no longer masks the echo
    rle = 10.5 * (p.wepl + 7) * (p.tr + 1) ** -0.25
    idle = (ro - rle) / 2 + math.sqrt((ro - rle) ** 2 / 4 + 169)
    if p.ta <= 100:
        idd = 0.0
    else:
        x = math.log10(p.ta / 100) / math.log10(2)
        idd = 25 * ((1 + x**6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)
    id_ = idte + idle + idd

    # equipment impairment with packet loss
    ie_eff = p.ie + (95 - p.ie) * p.ppl / (p.ppl / p.burst_r + p.bpl)
    # float(): typeshed types a float raised to a float power as Any
    return float(ro - is_ - id_ - ie_eff + p.a)


def mos_from_r(r: float) -> float:
    """G.107 Annex B: the estimated mean opinion score (1 to 4.5) for a rating R."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


def one_way_delay_ms(rtt_ms: float, jitter_ms: float) -> float:
    """Mouth-to-ear delay of a G.711 call on this line: half the round trip, the frame the
    sender fills, and the jitter buffer the receiver keeps."""
    return rtt_ms / 2 + FRAME_MS + JITTER_BUFFER_SPANS * jitter_ms


def voice_inputs(
    rtt_ms: float, jitter_ms: float, loss_percent: float, burst_r: float = 1.0
) -> EModelInputs:
    """G.107's inputs for a G.711 call with packet-loss concealment over this line, all else
    at the defaults."""
    delay = one_way_delay_ms(rtt_ms, jitter_ms)
    return replace(
        EModelInputs(),
        t=delay,
        tr=2 * delay,
        ta=delay,
        ie=0.0,
        bpl=G711_PLC_BPL,
        ppl=loss_percent,
        burst_r=max(1.0, burst_r),
    )


def voice_mos(rtt_ms: float, jitter_ms: float, loss_percent: float, burst_r: float = 1.0) -> float:
    """The estimated MOS of a G.711 call over a line with this round trip, jitter and loss."""
    return mos_from_r(r_factor(voice_inputs(rtt_ms, jitter_ms, loss_percent, burst_r)))
