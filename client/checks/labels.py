"""The checks' names as an agent reads them, in Chinese and English (tables, status lines)."""

from __future__ import annotations

from .result import Hint

CHECK_LABELS: dict[str, Hint] = {
    "cpu": Hint("处理器", "CPU"),
    "memory": Hint("内存", "Memory"),
    "network": Hint("网络", "Network"),
    "noise": Hint("背景噪声", "Background noise"),
    "audio_devices": Hint("耳机", "Headset"),
    "removable_storage": Hint("USB 存储设备", "USB storage"),
    "processes": Hint("禁止的程序", "Forbidden apps"),
}


def check_label(check: str) -> Hint:
    """The check's name in both languages (its code when it has none)."""
    return CHECK_LABELS.get(check, Hint(check, check))
