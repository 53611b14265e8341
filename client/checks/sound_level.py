"""A-weighted sound level of a microphone's samples (IEC 61672), measured block by block so no
audio is kept: only levels, peak figures and counts survive a block. Pure numpy; no devices."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.float32] | npt.NDArray[np.float64]

# IEC 61672-1:2013 (E.1): the A-weighting's pole frequencies in Hz.
_F1, _F2, _F3, _F4 = 20.598997, 107.65265, 737.86223, 12194.217


def _raw_power_gain(f2: float) -> float:
    """|A(f)|² before normalisation, from f² (the standard's E.6 without its A1000)."""
    return (_F4**4 * f2**4) / (
        (f2 + _F1**2) ** 2 * (f2 + _F2**2) * (f2 + _F3**2) * (f2 + _F4**2) ** 2
    )


_NORMALISE = 1.0 / _raw_power_gain(1000.0**2)
"""Makes A(1 kHz) exactly 0 dB (the standard's A1000 = -2.000 dB, to more places)."""

BLOCK_SECONDS = 0.25
"""The analysis block: 4 Hz bins, fine enough that a Hann window's main lobe spreads a 50 Hz
tone over weights within 0.1 dB of its own (0.1 s blocks would be 0.3 dB off there)."""
SILENCE_DBFS = -200.0
"""The level given for digital silence (log of zero): the floor of the posture report's range."""
DEAD_SPAN = 1.5 / 32768
"""Peak-to-peak span at or below one step of a 16-bit converter: no microphone is that quiet,
so the input is digital silence or a constant (muted, unplugged, or a broken driver)."""
CLIP_LEVEL = 0.999
"""A sample this close to full scale was (almost surely) cut off by the converter."""
CLIPPING_PERCENT = 0.1
"""More than this share of clipped samples makes the level meaningless: it reads too low."""


def a_weighting_db(frequency_hz: float) -> float:
    """The A-weighting in dB at a frequency (IEC 61672-1 analytic form; 0 Hz gives -inf)."""
    if frequency_hz == 0.0:
        return -math.inf
    return 10.0 * math.log10(_raw_power_gain(frequency_hz**2) * _NORMALISE)


def a_weighting_power(frequencies_hz: Samples) -> Samples:
    """The A-weighting as a power gain (linear, |A|²) at each frequency: what a bin's power is
    multiplied by. Weighting in the frequency domain follows the standard's curve exactly up to
    Nyquist, where a bilinear IIR filter at 48 kHz falls 1.2 dB short at 10 kHz."""
    import numpy as np

    f2 = np.asarray(frequencies_hz, dtype=np.float64) ** 2
    gain2 = (_F4**4 * f2**4) / (
        (f2 + _F1**2) ** 2 * (f2 + _F2**2) * (f2 + _F3**2) * (f2 + _F4**2) ** 2
    )
    result: Samples = gain2 * _NORMALISE
    return result


def dbfs(mean_square: float) -> float:
    """dB relative to amplitude 1.0, as sox's "RMS lev dB": a full-scale sine reads -3.01."""
    if mean_square <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 10.0 * math.log10(mean_square))


class _Weighting:
    """Hann window and A-weights for one block length and rate, computed once."""

    def __init__(self, size: int, rate: float) -> None:
        import numpy as np

        self.size = size
        self.window = np.hanning(size + 1)[:size]  # periodic Hann: even overlap of halves
        weights = a_weighting_power(np.fft.rfftfreq(size, 1.0 / rate))
        # One-sided spectrum: every bin but DC and Nyquist stands for two (Parseval).
        weights[1 : (size + 1) // 2] *= 2.0
        # Mean square of the unwindowed signal = sum |X_k|^2 / (N * sum w^2).
        self.weights = weights / (size * float(np.sum(self.window**2)))

    def mean_square(self, block: Samples) -> float:
        """The A-weighted mean square of one block of `size` samples."""
        import numpy as np

        spectrum = np.fft.rfft(block * self.window)
        return float(np.sum((spectrum.real**2 + spectrum.imag**2) * self.weights))


def a_weighted_dbfs(samples: Samples, rate: float) -> float:
    """The A-weighted level of a whole signal, in dBFS (the meter, fed at once)."""
    meter = LevelMeter(rate)
    meter.feed(samples)
    return meter.facts().dbfs_a


@dataclass(frozen=True, slots=True)
class LevelFacts:
    """What a recording measured: nothing in it can bring the audio back."""

    dbfs_a: float
    """A-weighted level over the recording, dB relative to amplitude 1.0."""
    peak_dbfs: float
    clipped_percent: float
    dead: bool
    """Digital silence or a constant: the microphone is dead, muted or unplugged."""
    seconds: float

    @property
    def clipping(self) -> bool:
        return self.clipped_percent > CLIPPING_PERCENT


class LevelMeter:
    """The A-weighted level of a stream fed chunk by chunk: Hann blocks of BLOCK_SECONDS, half
    overlapping, each weighted in the frequency domain; only running sums are kept."""

    def __init__(self, rate: float, block_seconds: float = BLOCK_SECONDS) -> None:
        import numpy as np

        self.rate = rate
        size = max(16, round(rate * block_seconds))
        size += size % 2
        self._weighting = _Weighting(size, rate)
        self._hop = size // 2
        self._pending = np.zeros(0, dtype=np.float64)
        """Samples not yet analysed: always fewer than one block."""
        self._power_sum = 0.0
        self._blocks = 0
        self._samples = 0
        self._clipped = 0
        self._low = math.inf
        self._high = -math.inf
        self._peak = 0.0
        self._last_block: float | None = None

    def feed(self, chunk: Samples) -> float | None:
        """Takes a chunk of mono samples (float, full scale ±1); gives the level in dBFS(A) of
        the latest complete block, for a live meter (None before the first block)."""
        import numpy as np

        values = np.asarray(chunk, dtype=np.float64).reshape(-1)
        if values.size:
            self._samples += values.size
            self._clipped += int(np.count_nonzero(np.abs(values) >= CLIP_LEVEL))
            self._low = min(self._low, float(values.min()))
            self._high = max(self._high, float(values.max()))
            self._peak = max(self._peak, float(np.abs(values).max()))
        pending = np.concatenate((self._pending, values))
        size, start = self._weighting.size, 0
        while start + size <= pending.size:
            power = self._weighting.mean_square(pending[start : start + size])
            self._power_sum += power
            self._blocks += 1
            self._last_block = power
            start += self._hop
        self._pending = pending[start:].copy()
        return None if self._last_block is None else dbfs(self._last_block)

    def facts(self) -> LevelFacts:
        """The figures so far. A recording shorter than one block is weighted as one block of
        its own length (coarser bins, but a level rather than none)."""
        power_sum, blocks = self._power_sum, self._blocks
        if blocks == 0 and self._pending.size >= 16:
            short = _Weighting(self._pending.size, self.rate)
            power_sum, blocks = short.mean_square(self._pending), 1
        mean_square = power_sum / blocks if blocks else 0.0
        span = self._high - self._low if self._samples else 0.0
        return LevelFacts(
            dbfs_a=round(dbfs(mean_square), 2),
            peak_dbfs=round(dbfs(self._peak**2), 2),
            clipped_percent=round(100.0 * self._clipped / self._samples, 3)
            if self._samples
            else 0.0,
            dead=span <= DEAD_SPAN,
            seconds=round(self._samples / self.rate, 3),
        )
