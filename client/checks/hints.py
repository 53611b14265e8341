"""How the checks word their figures for the agent: `58` rather than `58.0`, lists cut short,
several hints joined into one line per language."""

from __future__ import annotations

from collections.abc import Sequence

from .result import Hint


def number(value: float) -> str:
    """At most two decimals, trailing zeros dropped (as the gateway's hints show figures)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def listed(items: Sequence[str], most: int = 3) -> str:
    """`a, b, c +2`: the first few of a list, and how many more."""
    more = len(items) - most
    return ", ".join(items[:most]) + (f" +{more}" if more > 0 else "")


def joined(hints: Sequence[Hint]) -> Hint | None:
    """One hint from several (None when there are none)."""
    if not hints:
        return None
    return Hint(zh="；".join(h.zh for h in hints), en="; ".join(h.en for h in hints))


def not_measured(zh_label: str, en_label: str) -> Hint:
    return Hint(
        zh=f"{zh_label}无法测量：请重新运行检查，仍不行请联系技术支持",
        en=f"{en_label} could not be measured: run the checks again, and call support if it "
        "stays so",
    )
