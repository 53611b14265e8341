"""The audio rig the noise and headset checks are tested on, through real PortAudio: sox makes
signals at known levels; an ALSA `file` device (in a temporary HOME's .asoundrc) plays a raw
file into a capture; a user-mode PulseAudio with a null sink gives a real-time clocked one.

PortAudio reads ALSA's configuration once per process, so checks run in a child process
(tests/audio_probe.py) with the rig's environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

RATE = 48000
SOX_RAW = ["-r", str(RATE), "-c", "1", "-e", "floating-point", "-b", "32", "-t", "raw"]
"""Raw mono float32 at 48 kHz: what the rig's ALSA devices hand PortAudio."""
ROOT = Path(__file__).resolve().parent.parent

# IEC 61672-1's A-weighting as sox's own filters: two poles at 20.6 Hz, one each at 107.7 and
# 737.9 Hz, two at 12.2 kHz, +2.0 dB. sox's one-pole low-pass reads 1.1 dB high at 10 kHz, so
# references are only taken of signals with nothing above 5 kHz, where it is within 0.15 dB.
SOX_A_WEIGHTING = [
    *("highpass", "-1", "20.598997", "highpass", "-1", "20.598997"),
    *("highpass", "-1", "107.65265", "highpass", "-1", "737.86223"),
    *("lowpass", "-1", "12194.217", "lowpass", "-1", "12194.217"),
    *("gain", "1.9997"),
]


def need(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (scripts/setup installs them)")


def sox_raw(path: Path, seconds: float, *synth: str, effects: tuple[str, ...] = ()) -> Path:
    """A raw signal made by sox, e.g. `sox_raw(p, 8, "sine", "1000", effects=("vol", "0.5"))`."""
    command = ["sox", "-n", *SOX_RAW, str(path), "synth", str(seconds), *synth, *effects]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return path


def sox_wav(raw: Path, wav: Path) -> Path:
    """The same samples as a WAV file (what paplay plays)."""
    subprocess.run(
        ["sox", *SOX_RAW, str(raw), str(wav)], check=True, capture_output=True, timeout=60
    )
    return wav


def sox_rms_db(raw: Path, *effects: str) -> float:
    """sox's own "RMS lev dB" of a raw signal, after `effects`: the reference levels."""
    run = subprocess.run(
        ["sox", *SOX_RAW, str(raw), "-n", *effects, "stats"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"^RMS lev dB\s+(-?[\d.]+|-inf)", run.stderr, re.MULTILINE)
    assert found, run.stderr
    return float(found.group(1))


@dataclass
class ProbeRun:
    """One check run in a child process, as audio_probe reports it."""

    result: dict[str, Any]
    progress: list[dict[str, Any]]
    """Each progress call: `at` (seconds since the check started), fraction, phase, value,
    message (English)."""
    stderr: str


@dataclass
class AudioRig:
    """A HOME with an .asoundrc of the rig's ALSA devices; checks run under its environment."""

    home: Path
    devices: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "HOME": str(self.home), "HOMEAGENT_HOME": str(self.home / "ha")}
        # Only the rig's sound servers: none of a desktop session's.
        for name in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "ALSA_CONFIG_PATH", "XDG_RUNTIME_DIR"):
            env.pop(name, None)
        env["XDG_RUNTIME_DIR"] = str(self.home / "run")
        return {**env, **self.extra_env}

    def add_config(self, text: str) -> None:
        """Appends ALSA configuration to the rig's .asoundrc."""
        with (self.home / ".asoundrc").open("a", encoding="utf-8") as config:
            config.write(text)

    def file_device(self, name: str, infile: Path, playback: bool = True) -> str:
        """A capture device that reads `infile` (raw mono float32 at 48 kHz) through ALSA's file
        plugin; without `playback` it records only (an input-only device). The file and plug
        stages are defined inline, so PortAudio lists only the device itself."""
        device = f"""{{
    type plug
    slave {{
      pcm {{ type file; slave.pcm "null"; file "/dev/null"; infile "{infile}"; format "raw" }}
      format FLOAT_LE
      rate {RATE}
      channels 1
    }}
  }}"""
        if playback:
            self.add_config(f'pcm."{name}" {device}\n')
        else:
            # asym with no playback side: PortAudio lists the device with no output channels
            self.add_config(f'pcm."{name}" {{\n  type asym\n  capture.pcm {device}\n}}\n')
        self.devices.append(name)
        return name

    def pulse_monitor(self, name: str, server: str, source: str) -> str:
        """A capture device on a PulseAudio source through ALSA's pulse plugin."""
        self.add_config(f'pcm."{name}" {{ type pulse; server "{server}"; device "{source}" }}\n')
        self.devices.append(name)
        return name

    def run_check(
        self, check: str, limits: Mapping[str, Any], input_device: str | None = None
    ) -> ProbeRun:
        """The check through the registry, in a child process that sees only this rig."""
        command = [sys.executable, "-m", "tests.audio_probe", check, json.dumps(limits)]
        if input_device is not None:
            command.append(input_device)
        run = subprocess.run(
            command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=90, check=False
        )
        assert run.returncode == 0, run.stderr
        document = json.loads(run.stdout)
        return ProbeRun(document["result"], document["progress"], run.stderr)

    def homeagent(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The `homeagent` command under this rig, in English."""
        env = {**self.env, "LANG": "en_US.UTF-8"}
        env.pop("LC_ALL", None)
        return subprocess.run(
            [str(Path(sys.executable).parent / "homeagent"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )


@pytest.fixture
def audio_rig(tmp_path: Path) -> AudioRig:
    need("sox")
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    (home / "run").chmod(0o700)
    (home / ".asoundrc").write_text("# homeagent test rig\n", "utf-8")
    return AudioRig(home)


@dataclass
class PulseServer:
    """A user-mode PulseAudio the rig started, with one null sink clocked in real time."""

    process: subprocess.Popen[bytes]
    env: dict[str, str]
    server: str
    sink: str

    @property
    def monitor(self) -> str:
        return f"{self.sink}.monitor"

    def pactl(self, *args: str) -> str:
        run = subprocess.run(
            ["pactl", "--server", self.server, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return run.stdout if run.returncode == 0 else ""

    def play(self, wav: Path) -> subprocess.Popen[bytes]:
        """Plays `wav` into the null sink; returns once the sink is running (bounded wait)."""
        player = subprocess.Popen(
            ["paplay", "--server", self.server, f"--device={self.sink}", str(wav)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for(lambda: self.sink_state() == "RUNNING", 10.0):
            player.kill()
            raise AssertionError(f"the null sink did not start playing: {self.sink_state()}")
        return player

    def sink_state(self) -> str:
        for line in self.pactl("list", "short", "sinks").splitlines():
            parts = line.split("\t")
            if len(parts) >= 5 and parts[1] == self.sink:
                return parts[4]
        return ""


def wait_for(condition: Any, seconds: float, step: float = 0.05) -> bool:
    """True once `condition()` holds, False after `seconds` (polled, bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


@pytest.fixture
def pulse(audio_rig: AudioRig) -> Iterator[PulseServer]:
    """PulseAudio as a user daemon for this test (root is allowed a user daemon, with a
    warning); it exits by itself 30 s after its last client if the test cannot stop it."""
    need("pulseaudio", "pactl", "paplay")
    env = audio_rig.env
    socket = audio_rig.home / "run" / "pulse" / "native"
    server = f"unix:{socket}"
    sink = "homeagent_test"
    log = audio_rig.home / "pulseaudio.log"
    process = subprocess.Popen(
        [
            "pulseaudio",
            "--daemonize=no",
            "--exit-idle-time=30",
            "--use-pid-file=no",
            "--disallow-exit=no",
            "-n",  # no default.pa: only the modules below
            "-L",
            "module-native-protocol-unix",
            "-L",
            f"module-null-sink sink_name={sink} rate={RATE} format=float32le channels=1",
            "--log-target=stderr",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    started = PulseServer(process, env, server, sink)
    try:
        if not wait_for(lambda: process.poll() is None and bool(started.sink_state()), 15.0):
            errors = log.read_text("utf-8", "replace")[-300:]
            pytest.skip(f"PulseAudio did not start as a user daemon here: {errors}")
        audio_rig.extra_env.update({"PULSE_SERVER": server})
        yield started
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
