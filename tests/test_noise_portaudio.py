"""The noise and headset checks through real PortAudio: ALSA file devices fed with sox-made
tones and noise at known levels, and a PulseAudio null sink clocked in real time for the live
level meter. References are sox's own `stats`, never the check's arithmetic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .audio_rig import (
    SOX_A_WEIGHTING,
    AudioRig,
    PulseServer,
    audio_rig,
    pulse,
    sox_raw,
    sox_rms_db,
    sox_wav,
)

__all__ = ["audio_rig", "pulse"]  # fixtures, imported for pytest

SECONDS = 2.0
LIMITS: dict[str, Any] = {
    "level": "required",
    "max_dba": 50,
    "seconds": SECONDS,
    "calibration": {"offset_db": 120, "uncertainty_db": 6},
}


def signal(rig: AudioRig, name: str, *synth: str, effects: tuple[str, ...] = ()) -> Path:
    """A raw signal longer than any recording, so the file device never runs dry."""
    return sox_raw(rig.home / f"{name}.raw", SECONDS + 6, *synth, effects=effects)


def test_portaudio_lists_the_rigs_devices(audio_rig: AudioRig) -> None:
    audio_rig.file_device("tonemic", signal(audio_rig, "tone", "sine", "1000"))
    listing = subprocess.run(
        [sys.executable, "-c", "import sounddevice; print(sounddevice.query_devices())"],
        env=audio_rig.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "tonemic, ALSA" in listing.stdout


@pytest.mark.parametrize(
    ("frequency", "volume", "weighting"),
    [("1000", "0.1", 0.0), ("1000", "0.003", 0.0), ("100", "0.5", -19.1)],
    ids=["1kHz-20dB", "1kHz-50dB", "100Hz"],
)
def test_a_tone_reads_soxs_level_plus_the_weighting(
    audio_rig: AudioRig, frequency: str, volume: str, weighting: float
) -> None:
    raw = signal(audio_rig, "tone", "sine", frequency, effects=("vol", volume))
    audio_rig.file_device("tonemic", raw)
    run = audio_rig.run_check("noise", LIMITS, "tonemic")
    measured = run.result["measured"]
    assert measured["dbfs_a"] == pytest.approx(sox_rms_db(raw) + weighting, abs=0.5)
    assert measured["dba"] == round(measured["dbfs_a"] + 120, 1)
    assert measured["uncertainty_db"] == 6
    assert measured["input_device"] == "tonemic"
    assert measured["dead_mic"] is False
    assert measured["clipping"] is False
    assert measured["seconds"] == pytest.approx(SECONDS)


def test_pink_noise_reads_sox_a_weighted_level(audio_rig: AudioRig) -> None:
    # nothing above 5 kHz, where sox's one-pole filters stop following the standard
    raw = signal(audio_rig, "pink", "pinknoise", effects=("sinc", "-5000", "vol", "0.2"))
    audio_rig.file_device("pinkmic", raw)
    reference = sox_rms_db(raw, *SOX_A_WEIGHTING)
    run = audio_rig.run_check("noise", LIMITS, "pinkmic")
    assert run.result["measured"]["dbfs_a"] == pytest.approx(reference, abs=0.5)
    # -30 dBFS(A) or so is 90 dB(A) through the default calibration: far over 50
    assert run.result["status"] == "fail"
    dba = run.result["measured"]["dba"]
    assert run.result["hint"] == (
        f"Background noise {dba:g} dB(A), limit 50: move to a quieter room or close the window"
    )


def test_a_quiet_room_passes(audio_rig: AudioRig) -> None:
    raw = signal(audio_rig, "quiet", "pinknoise", effects=("vol", "0.0003"))
    audio_rig.file_device("quietmic", raw)
    run = audio_rig.run_check("noise", LIMITS, "quietmic")
    assert run.result["status"] == "pass", run.result
    assert run.result["measured"]["dba"] <= 50
    assert run.result["hint"] is None


def test_progress_asks_for_silence_and_carries_the_live_level(audio_rig: AudioRig) -> None:
    raw = signal(audio_rig, "tone", "sine", "1000", effects=("vol", "0.1"))
    audio_rig.file_device("tonemic", raw)
    run = audio_rig.run_check("noise", LIMITS, "tonemic")
    first, *rest = run.progress
    assert first["message"] == "Please stay silent for 2 seconds: measuring the room's noise"
    assert first["phase"] == "recording"
    levels = [p["value"] for p in rest]
    assert len(levels) >= 4 * SECONDS  # several a second of recording
    assert all(v == pytest.approx(-23.0, abs=0.5) for v in levels)
    fractions = [p["fraction"] for p in rest]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


@pytest.mark.parametrize("level", ["required", "warn"])
def test_digital_silence_is_a_dead_microphone(audio_rig: AudioRig, level: str) -> None:
    raw = signal(audio_rig, "silence", "sine", "1000", effects=("vol", "0"))
    audio_rig.file_device("mutedmic", raw)
    run = audio_rig.run_check("noise", {**LIMITS, "level": level}, "mutedmic")
    assert run.result["status"] == ("fail" if level == "required" else "warn")
    assert run.result["measured"]["dead_mic"] is True
    assert run.result["measured"]["dba"] is None
    assert run.result["hint"] == (
        "The microphone picks up no sound: check that it is plugged in and not muted"
    )


def test_clipping_is_reported(audio_rig: AudioRig) -> None:
    raw = signal(audio_rig, "loud", "square", "440", effects=("vol", "1.0"))
    audio_rig.file_device("loudmic", raw)
    run = audio_rig.run_check("noise", LIMITS, "loudmic")
    measured = run.result["measured"]
    assert measured["clipping"] is True
    assert measured["clipped_percent"] > 50
    assert "The microphone is overloaded: turn its input volume down" in run.result["hint"]


def test_a_headset_models_calibration_is_used(audio_rig: AudioRig) -> None:
    raw = signal(audio_rig, "tone", "sine", "1000", effects=("vol", "0.001"))
    audio_rig.file_device("Jabra Evolve2 40 Mono", raw)
    limits = {**LIMITS, "headsets": {"Jabra Evolve2": {"offset_db": 100, "uncertainty_db": 3}}}
    run = audio_rig.run_check("noise", limits, "evolve2 40")
    measured = run.result["measured"]
    assert measured["input_device"] == "Jabra Evolve2 40 Mono"
    assert measured["calibration"] == "Jabra Evolve2"
    assert measured["uncertainty_db"] == 3
    assert measured["dba"] == pytest.approx(sox_rms_db(raw) + 100, abs=0.5)
    assert run.result["status"] == "pass"  # -60 dBFS(A) + 100 = 40 dB(A)


def test_the_default_microphone_when_none_is_chosen(audio_rig: AudioRig) -> None:
    raw = signal(audio_rig, "tone", "sine", "1000", effects=("vol", "0.1"))
    audio_rig.file_device("tonemic", raw)
    audio_rig.add_config('pcm.!default { type plug; slave.pcm "tonemic" }\n')
    run = audio_rig.run_check("noise", LIMITS)
    assert run.result["measured"]["input_device"] == "default"
    assert run.result["measured"]["dbfs_a"] == pytest.approx(sox_rms_db(raw), abs=0.5)


def test_a_microphone_that_is_not_there(audio_rig: AudioRig) -> None:
    audio_rig.file_device("tonemic", signal(audio_rig, "tone", "sine", "1000"))
    run = audio_rig.run_check("noise", LIMITS, "Plantronics")
    assert run.result["status"] == "fail"
    assert run.result["hint"].startswith('Microphone "Plantronics" not found (there are: ')
    assert "tonemic" in run.result["hint"]


def test_no_microphone_at_all(audio_rig: AudioRig) -> None:
    run = audio_rig.run_check("noise", LIMITS)
    assert run.result["status"] == "fail"
    assert run.result["hint"] == "No microphone found: plug in your headset"


# --- audio devices ------------------------------------------------------------------------------


def test_a_headset_with_microphone_and_earpiece_passes(audio_rig: AudioRig) -> None:
    audio_rig.file_device("headset", signal(audio_rig, "tone", "sine", "1000"))
    run = audio_rig.run_check("audio_devices", {"require_input": True, "require_output": True})
    measured = run.result["measured"]
    assert run.result["status"] == "pass"
    assert measured["input"] is True and measured["output"] is True
    assert measured["input_devices"] == measured["output_devices"] == ["headset"]
    assert measured["count"] == 1


def test_a_microphone_alone_lacks_headphones(audio_rig: AudioRig) -> None:
    audio_rig.file_device("miconly", signal(audio_rig, "tone", "sine", "1000"), playback=False)
    limits = {"level": "required", "require_input": True, "require_output": True}
    run = audio_rig.run_check("audio_devices", limits)
    assert run.result["status"] == "fail"
    assert run.result["measured"]["input_devices"] == ["miconly"]
    assert run.result["measured"]["output_devices"] == []
    assert run.result["hint"] == "No headphones or speaker found: plug in your headset"
    relaxed = audio_rig.run_check("audio_devices", {**limits, "require_output": False})
    assert relaxed.result["status"] == "pass"


def test_no_sound_devices_at_all(audio_rig: AudioRig) -> None:
    run = audio_rig.run_check("audio_devices", {"level": "required"})
    assert run.result["status"] == "fail"
    assert run.result["measured"]["input"] is False
    assert run.result["measured"]["output"] is False
    assert run.result["hint"] == (
        "No microphone found: plug in your headset; "
        "No headphones or speaker found: plug in your headset"
    )


# --- the command line ---------------------------------------------------------------------------


def test_homeagent_check_json_through_portaudio(audio_rig: AudioRig) -> None:
    raw = signal(audio_rig, "pink", "pinknoise", effects=("vol", "0.01"))
    audio_rig.file_device("pinkmic", raw)
    run = audio_rig.homeagent(
        "check", "--only", "noise,audio_devices", "--json", "--input-device", "pinkmic"
    )
    document = json.loads(run.stdout)
    noise, devices = document["checks"]
    assert run.returncode == 1  # about 70 dB(A) under the bundled limit of 50
    assert noise["name"] == "noise" and noise["status"] == "fail"
    assert noise["hint"].startswith("Background noise ")
    assert devices["name"] == "audio_devices" and devices["status"] == "pass"
    assert "pinkmic" in devices["measured"]["input_devices"]


# --- real-time pacing: PulseAudio ---------------------------------------------------------------


def test_the_live_level_moves_over_the_recording(audio_rig: AudioRig, pulse: PulseServer) -> None:
    raw = sox_raw(audio_rig.home / "tone.raw", SECONDS + 10, "sine", "1000", effects=("vol", "0.1"))
    monitor = audio_rig.pulse_monitor("sinkmonitor", pulse.server, pulse.monitor)
    player = pulse.play(sox_wav(raw, audio_rig.home / "tone.wav"))
    try:
        run = audio_rig.run_check("noise", LIMITS, monitor)
    finally:
        player.kill()
        player.wait(timeout=10)
    measured = run.result["measured"]
    assert measured["dbfs_a"] == pytest.approx(sox_rms_db(raw), abs=0.5)
    live = [p for p in run.progress if p["value"] is not None]
    times = [p["at"] for p in live]
    # several a second, and spread over the recording rather than all at its end
    assert len(live) >= 4 * SECONDS
    assert times[-1] - times[0] >= 0.5 * SECONDS


@pytest.mark.parametrize("check", ["noise", "audio_devices"])
def test_a_broken_sound_configuration_is_a_hint_not_a_crash(
    audio_rig: AudioRig, check: str
) -> None:
    audio_rig.add_config("pcm.broken { type \n")  # PortAudio cannot even start on this
    run = audio_rig.run_check(check, LIMITS)
    assert run.result["status"] == "fail"
    assert run.result["hint"].startswith("The sound system cannot be used (")
