"""The agent's language: `zh` or `en`, from `--lang` or the system locale."""

from __future__ import annotations

import locale
import os

Lang = str
"""`zh` (Simplified Chinese) or `en`."""


def detect_lang(override: str | None = None) -> Lang:
    """`override` when given; else `zh` when the locale (LC_ALL, LC_MESSAGES, LANG) is Chinese."""
    if override in ("zh", "en"):
        return override
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    current = locale.getlocale()[0] or ""
    return "zh" if current.lower().startswith("zh") else "en"
