"""The audio-devices check: a microphone and headphones (or a speaker) are there for calls.
Only the devices' names are read, from PortAudio's list; nothing is opened or recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .context import CheckContext
from .hints import joined, not_measured
from .result import CheckResult, Hint, Status, judge

NAME = "audio_devices"
MOST_NAMES = 32
"""Names reported per direction: enough for any PC, bounded for the posture report."""

NO_INPUT = Hint(zh="未找到麦克风：请插上耳机", en="No microphone found: plug in your headset")
NO_OUTPUT = Hint(
    zh="未找到耳机或扬声器：请插上耳机",
    en="No headphones or speaker found: plug in your headset",
)


@dataclass(frozen=True, slots=True)
class AudioDeviceFacts:
    inputs: tuple[str, ...] | None
    """Names of the devices that can record; None when the sound system could not be asked."""
    outputs: tuple[str, ...] | None
    """Names of the devices that can play."""
    problem: Hint | None = None


def sort_devices(devices: Sequence[Mapping[str, Any]]) -> AudioDeviceFacts:
    """Inputs and outputs from PortAudio's device list (a device may be both), each name once."""
    inputs = [str(d["name"]) for d in devices if int(d.get("max_input_channels", 0)) > 0]
    outputs = [str(d["name"]) for d in devices if int(d.get("max_output_channels", 0)) > 0]
    return AudioDeviceFacts(tuple(dict.fromkeys(inputs)), tuple(dict.fromkeys(outputs)))


def measure() -> AudioDeviceFacts:
    try:
        import sounddevice
    except Exception as err:
        # As in noise.portaudio(): OSError without libportaudio, sounddevice's PortAudioError
        # when PortAudio cannot start.
        return AudioDeviceFacts(
            None,
            None,
            Hint(
                zh=f"无法使用声音系统（{err}）：请重新安装 homeagent，仍不行请联系技术支持",
                en=f"The sound system cannot be used ({err}): reinstall homeagent, and call "
                "support if it stays so",
            ),
        )
    return sort_devices(list(sounddevice.query_devices()))


def judge_audio_devices(facts: AudioDeviceFacts, limits: Mapping[str, Any]) -> CheckResult:
    """Passes when there is a microphone (if `require_input`) and something to hear calls on
    (if `require_output`); both are required unless the limits say otherwise."""
    level = str(limits.get("level", "required"))
    measured: dict[str, Any] = {
        "input": None if facts.inputs is None else bool(facts.inputs),
        "output": None if facts.outputs is None else bool(facts.outputs),
    }
    if facts.inputs is not None and facts.outputs is not None:
        measured["input_devices"] = list(facts.inputs[:MOST_NAMES])
        measured["output_devices"] = list(facts.outputs[:MOST_NAMES])
        measured["count"] = len(set(facts.inputs) | set(facts.outputs))
    problems: list[Hint] = []
    wanted = (
        (limits.get("require_input", True), facts.inputs, NO_INPUT, "麦克风", "The microphone"),
        (
            limits.get("require_output", True),
            facts.outputs,
            NO_OUTPUT,
            "耳机或扬声器",
            "Headphones or speaker",
        ),
    )
    for required, names, missing, zh, en in wanted:
        if not required:
            continue
        if names is None:
            problems.append(facts.problem or not_measured(zh, en))
        elif not names:
            problems.append(missing)
    status = judge(level, not problems)
    hint = joined(list(dict.fromkeys(problems))) if status in (Status.WARN, Status.FAIL) else None
    return CheckResult(NAME, status, measured, dict(limits), hint)


def run(limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult:
    return judge_audio_devices(measure(), limits)
