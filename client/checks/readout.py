"""How a check's result and progress read to an agent, in a few words of Chinese or English:
its name, its live figure, what it measured, its status word. The TUI and `homeagent check`
both show checks this way."""

from __future__ import annotations

import unicodedata

from ..lang import Lang
from .context import Progress
from .hints import listed, number
from .labels import check_label
from .result import CheckResult, Status

PHASES: dict[str, tuple[str, str, str]] = {
    # phase: (zh, en, unit of its live value)
    "load": ("占用", "load", "%"),
    "rtt": ("延迟", "delay", " ms"),
    "download": ("下载", "download", " Mbit/s"),
    "upload": ("上传", "upload", " Mbit/s"),
    "recording": ("录音", "recording", " dBFS(A)"),
}


def describe(progress: Progress, lang: Lang) -> str:
    """`CPU · CPU load 52% · 67% done`: the check, its live figure, how far it is."""
    zh, en, unit = PHASES.get(progress.phase, (progress.phase, progress.phase, ""))
    parts = [label(progress.check, lang)]
    phase = zh if lang == "zh" else en
    if progress.value is not None:
        phase = f"{phase} {number(progress.value)}{unit}".strip()
    if phase:
        parts.append(phase)
    if progress.fraction is not None:
        done = round(progress.fraction * 100)
        parts.append(f"已完成 {done}%" if lang == "zh" else f"{done}% done")
    return " · ".join(parts)


STATUS_WORDS: dict[Status, tuple[str, str]] = {
    Status.PASS: ("通过", "pass"),
    Status.WARN: ("警告", "warning"),
    Status.FAIL: ("未通过", "FAIL"),
    Status.SKIP: ("跳过", "skipped"),
}


def label(check: str, lang: Lang) -> str:
    return check_label(check)(lang)


def width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def padded(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def _yes(value: object, lang: Lang) -> str:
    if value is None:
        return "?"
    return ("有" if value else "无") if lang == "zh" else ("yes" if value else "no")


def _mos_band(mos: float, lang: Lang) -> str:
    """The issue's bands: excellent above 4.2, good from 3.7, fair from 3.1, poor below."""
    if mos > 4.2:
        band = ("优", "excellent")
    elif mos >= 3.7:
        band = ("良", "good")
    elif mos >= 3.1:
        band = ("中", "fair")
    else:
        band = ("差", "poor")
    return band[0] if lang == "zh" else band[1]


def figures(result: CheckResult, lang: Lang) -> str:
    """What a check measured, in a few words (parts that were not measured are left out)."""
    m, zh = result.measured, lang == "zh"
    parts: list[str] = []

    def add(key: str, zh_text: str, en_text: str) -> None:
        value = m.get(key)
        if value is not None:
            shown = number(value) if isinstance(value, int | float) else str(value)
            parts.append((zh_text if zh else en_text).format(shown))

    if result.name == "cpu":
        add("logical_cores", "{} 个逻辑核心", "{} logical cores")
        add("model", "{}", "{}")
        add("load_percent", "占用 {}%", "load {}%")
    elif result.name == "memory":
        add("total_gb", "共 {} GB", "{} GB")
        add("available_gb", "可用 {} GB", "{} GB free")
    elif result.name == "network":
        add("rtt_ms", "延迟 {} ms", "delay {} ms")
        add("jitter_ms", "抖动 {} ms", "jitter {} ms")
        add("loss_percent", "丢包 {}%", "loss {}%")
        add("download_mbps", "下载 {} Mbit/s", "down {} Mbit/s")
        add("upload_mbps", "上传 {} Mbit/s", "up {} Mbit/s")
        mos = m.get("mos")
        if isinstance(mos, int | float):
            parts.append(f"MOS {number(mos)} ({_mos_band(mos, lang)})")
    elif result.name == "noise":
        dba, spread = m.get("dba"), m.get("uncertainty_db")
        if isinstance(dba, int | float):
            # an estimate through the headset's calibration: its uncertainty goes with it
            about = f" ±{number(spread)}" if isinstance(spread, int | float) and spread else ""
            parts.append(f"{number(dba)} dB(A){about}")
        add("dbfs_a", "{} dBFS(A)", "{} dBFS(A)")
        if m.get("dead_mic"):
            parts.append("无声音" if zh else "no sound")
        elif m.get("clipping"):
            parts.append("过载" if zh else "overloaded")
    elif result.name == "audio_devices":
        if m:
            parts.append(f"{'麦克风' if zh else 'microphone'} {_yes(m.get('input'), lang)}")
            parts.append(f"{'耳机/扬声器' if zh else 'headphones'} {_yes(m.get('output'), lang)}")
    elif result.name == "removable_storage":
        mounted = m.get("mounted")
        if isinstance(mounted, list):
            parts.append(listed(mounted) if mounted else ("未连接" if zh else "none connected"))
    elif result.name == "processes":
        names = m.get("names")
        if isinstance(names, list):
            parts.append(listed(names) if names else ("未在运行" if zh else "none running"))
    else:
        parts = [f"{k} {v}" for k, v in m.items() if isinstance(v, int | float | str | bool)]
    return " · ".join(parts)
