"""The noise check: a few seconds of the room through the agent's microphone while they stay
silent, reported as an A-weighted level (dBFS(A), and dB(A) through the policy's calibration).
No audio is kept: blocks are reduced to levels as they arrive and dropped."""

from __future__ import annotations

import math
import queue
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .context import CheckContext, Progress, ProgressCallback
from .hints import joined, listed, not_measured, number
from .result import CheckResult, Hint, Status, judge
from .sound_level import LevelFacts, LevelMeter

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

NAME = "noise"
RATE = 48000.0
"""Hz; devices that refuse it are recorded at their own rate (the weighting follows the rate)."""
MIN_RATE = 32000.0
"""Below this, 10 kHz (the top of the weighting's tolerance table) is past Nyquist."""
CHUNK_SECONDS = 0.125
"""How often the microphone hands over samples, and so how often the live level moves."""
START_GRACE_SECONDS = 5.0
"""How long a microphone may take to start before the recording counts as stalled."""

DEFAULT_CALIBRATION = {"offset_db": 120.0, "uncertainty_db": 6.0}
"""The gateway's defaults (proxy/core/policy/posture.py `Calibration`) when limits give none."""


class RecordingError(Exception):
    """No recording could be made; the hint says why and what to do."""

    def __init__(self, hint: Hint) -> None:
        super().__init__(hint.en)
        self.hint = hint


NO_MICROPHONE = Hint(zh="未找到麦克风：请插上耳机", en="No microphone found: plug in your headset")
DEAD_MICROPHONE = Hint(
    zh="麦克风没有收到声音：请检查是否插好、是否静音",
    en="The microphone picks up no sound: check that it is plugged in and not muted",
)
CLIPPING = Hint(
    zh="麦克风输入过载：请调低输入音量后重新测量",
    en="The microphone is overloaded: turn its input volume down and measure again",
)


def stay_silent(seconds: float) -> Hint:
    return Hint(
        zh=f"请保持安静 {number(seconds)} 秒：正在测量房间的背景噪声",
        en=f"Please stay silent for {number(seconds)} seconds: measuring the room's noise",
    )


# --- choosing the microphone and its calibration (pure) ---------------------------------------


def choose_input(
    devices: Sequence[Mapping[str, Any]], wanted: str | None, default: int | None
) -> int:
    """The index of the microphone to record: the one named `wanted` (its whole name, else the
    first whose name contains it, either case), or the system's default input, or the first
    input there is. RecordingError when there is none."""
    inputs = [i for i, d in enumerate(devices) if int(d.get("max_input_channels", 0)) > 0]
    if wanted is not None:
        key = wanted.casefold()
        exact = [i for i in inputs if str(devices[i]["name"]).casefold() == key]
        partial = [i for i in inputs if key in str(devices[i]["name"]).casefold()]
        if exact or partial:
            return (exact or partial)[0]
        found = listed([str(devices[i]["name"]) for i in inputs])
        raise RecordingError(
            Hint(
                zh=f"未找到麦克风“{wanted}”（可用：{found or '无'}）：请插上它或另选一个",
                en=f'Microphone "{wanted}" not found (there are: {found or "none"}): plug it in '
                "or choose another",
            )
        )
    if default is not None and default in inputs:
        return default
    if inputs:
        return inputs[0]
    raise RecordingError(NO_MICROPHONE)


def calibration_for(
    limits: Mapping[str, Any], input_device: str | None
) -> tuple[str, float, float]:
    """(model, offset_db, uncertainty_db) for this microphone: the longest headset model named
    in the device's name (either case), else the policy's default, as the gateway picks it."""
    headsets: Mapping[str, Mapping[str, Any]] = limits.get("headsets") or {}
    chosen: tuple[str, Mapping[str, Any]] = ("default", limits.get("calibration") or {})
    if input_device:
        device = input_device.casefold()
        named = [model for model in headsets if model.casefold() in device]
        if named:
            model = max(named, key=len)
            chosen = (model, headsets[model])
    model, fields = chosen
    offset = float(fields.get("offset_db", DEFAULT_CALIBRATION["offset_db"]))
    uncertainty = float(fields.get("uncertainty_db", DEFAULT_CALIBRATION["uncertainty_db"]))
    return model, offset, uncertainty


# --- judging (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoiseFacts:
    level: LevelFacts | None
    """None when nothing could be recorded (`problem` says why)."""
    input_device: str | None
    problem: Hint | None = None


def judge_noise(facts: NoiseFacts, limits: Mapping[str, Any]) -> CheckResult:
    """Passes when the microphone works (not silent or constant, not clipping) and dB(A) is at
    most `max_dba`. dB(A) = dBFS(A) + the calibration's offset, rounded as the gateway does."""
    level = str(limits.get("level", "required"))
    measured: dict[str, Any] = {"input_device": facts.input_device}
    problems: list[Hint] = []
    if facts.level is None:
        problems.append(facts.problem or not_measured("背景噪声", "Background noise"))
    else:
        sound = facts.level
        model, offset, uncertainty = calibration_for(limits, facts.input_device)
        # Digital silence has no level in dB(A); any other level is at least 0 as reported.
        dba = None if sound.dead else max(0.0, round(sound.dbfs_a + offset, 1))
        measured.update(
            dbfs_a=max(-200.0, min(0.0, sound.dbfs_a)),
            dba=dba,
            uncertainty_db=uncertainty,
            calibration=model,
            dead_mic=sound.dead,
            clipping=sound.clipping,
            clipped_percent=sound.clipped_percent,
            peak_dbfs=sound.peak_dbfs,
            seconds=sound.seconds,
        )
        max_dba = limits.get("max_dba")
        if sound.dead:
            problems.append(DEAD_MICROPHONE)
        else:
            if sound.clipping:
                problems.append(CLIPPING)
            if dba is not None and max_dba is not None and dba > max_dba:
                value, limit = number(dba), number(max_dba)
                problems.append(
                    Hint(
                        zh=f"背景噪声 {value} dB(A)，上限 {limit}：请换到更安静的房间或关上窗户",
                        en=f"Background noise {value} dB(A), limit {limit}: move to a quieter "
                        "room or close the window",
                    )
                )
    status = judge(level, not problems)
    hint = joined(problems) if status in (Status.WARN, Status.FAIL) else None
    return CheckResult(NAME, status, measured, dict(limits), hint)


# --- recording (PortAudio) ---------------------------------------------------------------------


def portaudio() -> Any:
    """The sounddevice module, or RecordingError when PortAudio is missing from this PC."""
    try:
        import sounddevice
    except Exception as err:
        # A missing libportaudio is OSError; a broken sound configuration fails PortAudio's
        # start inside the import as sounddevice's PortAudioError, which cannot be named
        # before its module has loaded.
        raise RecordingError(
            Hint(
                zh=f"无法使用声音系统（{err}）：请重新安装 homeagent，仍不行请联系技术支持",
                en=f"The sound system cannot be used ({err}): reinstall homeagent, and call "
                "support if it stays so",
            )
        ) from err
    return sounddevice


def _rate_for(sd: Any, device: int) -> float:
    try:
        sd.check_input_settings(device=device, channels=1, dtype="float32", samplerate=RATE)
        return RATE
    except sd.PortAudioError:
        own = float(sd.query_devices(device)["default_samplerate"])
        return own if own >= MIN_RATE else RATE


def record_level(
    sd: Any, device: int, seconds: float, on_level: Callable[[float | None, float], None]
) -> LevelFacts:
    """Records `seconds` of mono float32 from `device`, feeding a LevelMeter as blocks arrive
    and calling `on_level(live dBFS(A), fraction done)` for each; only levels survive."""
    rate = _rate_for(sd, device)
    total = round(seconds * rate)
    chunks: queue.SimpleQueue[npt.NDArray[np.float32]] = queue.SimpleQueue()
    delivered = 0

    def callback(indata: Any, frames: int, _time: Any, _status: Any) -> None:
        # PortAudio's thread: hand over a copy and stop once the recording is complete.
        nonlocal delivered
        take = min(frames, total - delivered)
        if take > 0:
            chunks.put(indata[:take, 0].copy())
            delivered += take
        if delivered >= total:
            raise sd.CallbackStop

    meter = LevelMeter(rate)
    received = 0
    deadline = time.monotonic() + seconds + START_GRACE_SECONDS
    try:
        with sd.InputStream(
            device=device,
            channels=1,
            samplerate=rate,
            dtype="float32",
            blocksize=round(rate * CHUNK_SECONDS),
            callback=callback,
        ):
            while received < total:  # each pass takes a non-empty chunk, or ends by deadline
                try:
                    chunk = chunks.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise RecordingError(
                        Hint(
                            zh="麦克风没有送来声音数据：请重新插好耳机后再检查",
                            en="The microphone stopped sending sound: plug the headset in "
                            "again and check again",
                        )
                    ) from None
                received += len(chunk)
                on_level(meter.feed(chunk), received / total)
    except sd.PortAudioError as err:
        raise RecordingError(
            Hint(
                zh=f"无法打开麦克风（{err}）：请关闭正在使用它的程序后重新检查",
                en=f"The microphone could not be opened ({err}): close programs using it "
                "and check again",
            )
        ) from err
    return meter.facts()


def measure(wanted: str | None, seconds: float, progress: ProgressCallback) -> NoiseFacts:
    """Records the room through the chosen microphone, with a live level as it goes."""
    device_name: str | None = None
    try:
        sd = portaudio()
        devices = list(sd.query_devices())
        default = sd.default.device[0]
        index = choose_input(
            devices, wanted, default if default is not None and default >= 0 else None
        )
        device_name = str(devices[index]["name"])
        progress(Progress(NAME, fraction=0.0, phase="recording", message=stay_silent(seconds)))

        def on_level(value: float | None, fraction: float) -> None:
            if value is not None and math.isfinite(value):
                progress(
                    Progress(NAME, fraction=fraction, phase="recording", value=round(value, 1))
                )

        level = record_level(sd, index, seconds, on_level)
    except RecordingError as err:
        return NoiseFacts(None, device_name, err.hint)
    return NoiseFacts(level, device_name)


def run(limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult:
    seconds = float(limits.get("seconds", 5.0))
    return judge_noise(measure(ctx.input_device, seconds, ctx.progress), limits)
