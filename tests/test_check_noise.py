"""The noise and audio-devices checks' pure parts: judging under every level, agreeing with the
gateway's judge on the report the client sends, choosing the microphone and its calibration,
and loading no audio library before a check runs."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeagent.client.checks.audio_devices import (
    AudioDeviceFacts,
    judge_audio_devices,
    sort_devices,
)
from homeagent.client.checks.noise import (
    NO_MICROPHONE,
    NoiseFacts,
    RecordingError,
    calibration_for,
    choose_input,
    judge_noise,
)
from homeagent.client.checks.readout import figures
from homeagent.client.checks.result import Hint, Status
from homeagent.client.checks.sound_level import LevelFacts
from homeagent.proxy.core import posture_check
from homeagent.proxy.core.policy.posture import AudioDevicesCheck, NoiseCheck
from homeagent.proxy.core.posture_report import parse_report

LIMITS: dict[str, Any] = {
    "max_dba": 50,
    "seconds": 5,
    "calibration": {"offset_db": 120, "uncertainty_db": 6},
}


def level(dbfs_a: float, dead: bool = False, clipped: float = 0.0) -> LevelFacts:
    return LevelFacts(dbfs_a, min(0.0, dbfs_a + 10), clipped, dead, 5.0)


@pytest.mark.parametrize(
    ("facts", "level_name", "status"),
    [
        (NoiseFacts(level(-75.0), "Headset"), "required", Status.PASS),  # 45 dB(A)
        (NoiseFacts(level(-70.0), "Headset"), "required", Status.PASS),  # 50: the limit holds
        (NoiseFacts(level(-62.0), "Headset"), "required", Status.FAIL),  # 58 dB(A)
        (NoiseFacts(level(-62.0), "Headset"), "warn", Status.WARN),
        (NoiseFacts(level(-62.0), "Headset"), "off", Status.SKIP),
        (NoiseFacts(level(-200.0, dead=True), "Headset"), "required", Status.FAIL),
        (NoiseFacts(level(-200.0, dead=True), "Headset"), "warn", Status.WARN),
        (NoiseFacts(level(-80.0, clipped=2.0), "Headset"), "required", Status.FAIL),
        (NoiseFacts(level(-80.0, clipped=0.05), "Headset"), "required", Status.PASS),
        (NoiseFacts(None, None, NO_MICROPHONE), "required", Status.FAIL),
        (NoiseFacts(None, None), "warn", Status.WARN),
    ],
)
def test_noise_judge(facts: NoiseFacts, level_name: str, status: Status) -> None:
    result = judge_noise(facts, {"level": level_name, **LIMITS})
    assert result.status is status
    assert (result.hint is not None) == (status in (Status.WARN, Status.FAIL))


def test_the_noise_hint_says_the_level_the_limit_and_what_to_do() -> None:
    hint = judge_noise(NoiseFacts(level(-62.0), "Headset"), LIMITS).hint
    assert hint == Hint(
        zh="背景噪声 58 dB(A)，上限 50：请换到更安静的房间或关上窗户",
        en="Background noise 58 dB(A), limit 50: move to a quieter room or close the window",
    )


def test_a_dead_microphone_has_no_db_a_and_says_so_in_both_languages() -> None:
    result = judge_noise(NoiseFacts(level(-200.0, dead=True), "USB Mic"), LIMITS)
    assert result.measured["dba"] is None
    assert result.measured["dead_mic"] is True
    assert result.hint is not None
    assert result.hint.zh == "麦克风没有收到声音：请检查是否插好、是否静音"
    assert result.hint.en.startswith("The microphone picks up no sound")


def test_without_a_microphone_the_hint_says_plug_in_the_headset() -> None:
    result = judge_noise(NoiseFacts(None, None, NO_MICROPHONE), LIMITS)
    assert result.hint == NO_MICROPHONE
    assert result.measured == {"input_device": None}


# The gateway judges the report the client sends; both must reach the same verdict.
device_names = st.sampled_from(
    ["Jabra Evolve2 40 Mono", "jabra evolve2 65", "Poly Blackwire 3220", "default", "USB Mic"]
)
headset_tables = st.dictionaries(
    st.sampled_from(["Jabra Evolve2", "Jabra Evolve2 40", "Blackwire", "Poly"]),
    st.fixed_dictionaries(
        {"offset_db": st.floats(80, 140).map(lambda x: round(x, 1)), "uncertainty_db": st.just(3.0)}
    ),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(
    dbfs_a=st.floats(-140, 0).map(lambda x: round(x, 2)),
    dead=st.booleans(),
    clipped=st.sampled_from([0.0, 0.05, 0.5, 30.0]),
    device=device_names,
    headsets=headset_tables,
    offset=st.floats(90, 130).map(lambda x: round(x, 1)),
    max_dba=st.sampled_from([40.0, 50.0, 55.5]),
)
def test_the_client_and_the_gateway_agree(
    dbfs_a: float,
    dead: bool,
    clipped: float,
    device: str,
    headsets: dict[str, dict[str, float]],
    offset: float,
    max_dba: float,
) -> None:
    limits = {
        "level": "required",
        "max_dba": max_dba,
        "calibration": {"offset_db": offset, "uncertainty_db": 6.0},
        "headsets": headsets,
    }
    client = judge_noise(NoiseFacts(level(dbfs_a, dead, clipped), device), limits)
    report = parse_report(
        json.dumps({"version": 1, "checks": {"noise": client.to_report()}}).encode()
    )
    assert report.checks.noise is not None
    measured, _, shortfalls = posture_check.judge_noise(
        report.checks.noise.measurements, NoiseCheck.model_validate(limits)
    )
    assert (client.status is Status.PASS) == (not shortfalls)
    assert client.measured["calibration"] == measured["calibration"]
    if not dead:  # the report carries no negative dB(A): the client's stops at 0
        assert client.measured["dba"] == max(0.0, measured["dba"])


@pytest.mark.parametrize(
    ("device", "model", "offset"),
    [
        ("Jabra Evolve2 40 Mono", "Jabra Evolve2 40", 101.0),  # the longest name that fits
        ("JABRA EVOLVE2 65", "Jabra Evolve2", 100.0),
        ("Poly Blackwire 3220", "default", 120.0),
        (None, "default", 120.0),
    ],
)
def test_calibration_per_headset_model(device: str | None, model: str, offset: float) -> None:
    limits = {
        **LIMITS,
        "headsets": {
            "Jabra Evolve2": {"offset_db": 100, "uncertainty_db": 3},
            "Jabra Evolve2 40": {"offset_db": 101, "uncertainty_db": 2},
        },
    }
    assert calibration_for(limits, device)[:2] == (model, offset)
    check = NoiseCheck.model_validate(limits)
    gateway_model, gateway = posture_check.headset_calibration(check, device)
    assert (gateway_model, gateway.offset_db) == (model, offset)


def test_calibration_defaults_are_the_gateways() -> None:
    default = NoiseCheck().calibration
    assert calibration_for({}, "x") == ("default", default.offset_db, default.uncertainty_db)


DEVICES: list[dict[str, Any]] = [
    {"name": "HDMI 0", "max_input_channels": 0, "max_output_channels": 2},
    {"name": "Jabra Evolve2 40 Mono", "max_input_channels": 1, "max_output_channels": 2},
    {"name": "Jabra", "max_input_channels": 1, "max_output_channels": 0},
    {"name": "Webcam C920 Mic", "max_input_channels": 2, "max_output_channels": 0},
]


@pytest.mark.parametrize(
    ("wanted", "default", "index"),
    [
        ("jabra", None, 2),  # a whole name wins over a longer one that contains it
        ("evolve2", None, 1),
        ("C920", 1, 3),
        (None, 3, 3),  # the system's default input
        (None, 0, 1),  # a default that cannot record: the first that can
        (None, None, 1),
    ],
)
def test_choosing_the_microphone(wanted: str | None, default: int | None, index: int) -> None:
    assert choose_input(DEVICES, wanted, default) == index


def test_a_microphone_that_is_not_there_names_the_ones_that_are() -> None:
    with pytest.raises(RecordingError) as raised:
        choose_input(DEVICES, "Plantronics", None)
    assert raised.value.hint.en == (
        'Microphone "Plantronics" not found (there are: Jabra Evolve2 40 Mono, Jabra, '
        "Webcam C920 Mic): plug it in or choose another"
    )
    with pytest.raises(RecordingError) as raised:
        choose_input(DEVICES[:1], None, 0)
    assert raised.value.hint == NO_MICROPHONE


# --- audio devices -----------------------------------------------------------------------------


def test_devices_sorted_into_inputs_and_outputs() -> None:
    facts = sort_devices(DEVICES)
    assert facts.inputs == ("Jabra Evolve2 40 Mono", "Jabra", "Webcam C920 Mic")
    assert facts.outputs == ("HDMI 0", "Jabra Evolve2 40 Mono")


@pytest.mark.parametrize(
    ("inputs", "outputs", "limits", "status"),
    [
        (("Mic",), ("Phones",), {}, Status.PASS),
        ((), ("Phones",), {}, Status.FAIL),
        (("Mic",), (), {}, Status.FAIL),
        (("Mic",), (), {"level": "warn"}, Status.WARN),
        (("Mic",), (), {"require_output": False}, Status.PASS),
        ((), (), {"require_input": False, "require_output": False}, Status.PASS),
        (None, None, {}, Status.FAIL),  # not measured: cannot pass
        ((), (), {"level": "off"}, Status.SKIP),
    ],
)
def test_audio_devices_judge(
    inputs: tuple[str, ...] | None,
    outputs: tuple[str, ...] | None,
    limits: dict[str, Any],
    status: Status,
) -> None:
    result = judge_audio_devices(AudioDeviceFacts(inputs, outputs), limits)
    assert result.status is status


@settings(max_examples=60, deadline=None)
@given(
    inputs=st.sampled_from([None, (), ("Mic",)]),
    outputs=st.sampled_from([None, (), ("Phones",)]),
    require_input=st.booleans(),
    require_output=st.booleans(),
)
def test_audio_devices_agree_with_the_gateway(
    inputs: tuple[str, ...] | None,
    outputs: tuple[str, ...] | None,
    require_input: bool,
    require_output: bool,
) -> None:
    limits = {"require_input": require_input, "require_output": require_output}
    client = judge_audio_devices(AudioDeviceFacts(inputs, outputs), limits)
    report = parse_report(
        json.dumps({"version": 1, "checks": {"audio_devices": client.to_report()}}).encode()
    )
    assert report.checks.audio_devices is not None
    _, _, shortfalls = posture_check.judge_audio_devices(
        report.checks.audio_devices.measurements, AudioDevicesCheck.model_validate(limits)
    )
    assert (client.status is Status.PASS) == (not shortfalls)


def test_the_missing_parts_are_named_in_both_languages() -> None:
    result = judge_audio_devices(AudioDeviceFacts((), ()), {})
    assert result.hint == Hint(
        zh="未找到麦克风：请插上耳机；未找到耳机或扬声器：请插上耳机",
        en="No microphone found: plug in your headset; No headphones or speaker found: plug in "
        "your headset",
    )


def test_loading_the_checks_loads_no_audio_or_numeric_library() -> None:
    modules = "homeagent.client.checks.noise, homeagent.client.checks.audio_devices"
    code = f"import sys, {modules}; print(' '.join(sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(run.stdout.split())
    assert "homeagent.client.checks.sound_level" in loaded
    assert not loaded & {"numpy", "sounddevice", "_sounddevice", "scipy", "textual"}


@pytest.mark.parametrize(
    ("facts", "shown"),
    [
        (NoiseFacts(level(-62.0), "Headset"), "58 dB(A) ±6 · -62 dBFS(A)"),
        (NoiseFacts(level(-200.0, dead=True), "Headset"), "-200 dBFS(A) · no sound"),
        (
            NoiseFacts(level(-80.0, clipped=3.0), "Headset"),
            "40 dB(A) ±6 · -80 dBFS(A) · overloaded",
        ),
    ],
)
def test_the_table_shows_the_estimate_with_its_uncertainty(facts: NoiseFacts, shown: str) -> None:
    assert figures(judge_noise(facts, LIMITS), "en") == shown
