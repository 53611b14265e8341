"""The noise check's level meter: CPU per second of 48 kHz audio fed as the microphone hands it
over (0.125 s chunks; goal: under 1% of one core, so a modest PC records without stutter), and
memory held while metering 10 s and 60 s (goal: the same, since no audio is kept)."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from homeagent.client.checks.sound_level import LevelMeter

RATE = 48000
CHUNK = RATE // 8


def cpu_per_audio_second(seconds: int) -> float:
    rng = np.random.default_rng(5)
    chunks = [rng.normal(0, 0.05, CHUNK).astype(np.float32) for _ in range(seconds * 8)]
    meter = LevelMeter(RATE)
    started = time.process_time()
    for chunk in chunks:
        meter.feed(chunk)
    meter.facts()
    return (time.process_time() - started) / seconds


def peak_memory(seconds: int) -> int:
    rng = np.random.default_rng(6)
    chunk = rng.normal(0, 0.05, CHUNK).astype(np.float32)
    tracemalloc.start()
    meter = LevelMeter(RATE)
    for _ in range(seconds * 8):
        meter.feed(chunk)  # as from the microphone: each chunk dropped once metered
    meter.facts()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    cpu_per_audio_second(2)  # warm-up: numpy's FFT plans
    cost = min(cpu_per_audio_second(30) for _ in range(3))
    print(
        f"level meter: {cost * 1000:.2f} ms CPU per second of audio ({cost * 100:.2f}% of a core)"
    )
    for seconds in (10, 60):
        print(f"memory while metering {seconds:>2} s: {peak_memory(seconds) / 1024:.0f} KiB peak")


if __name__ == "__main__":
    main()
