"""What the TUI's tests share: waiting for a condition (bounded, never a blind sleep), the
text a widget shows, and the app built the way the CLI builds it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

WAIT_S = 30.0
"""Longest wait for a condition: the real checks take about 4 s (the CPU's load 3 s)."""


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = WAIT_S
) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"still not true after {timeout} s: {condition.__doc__ or condition}"
            )
        await pilot.pause(0.02)


def shown(widget: Static) -> str:
    """The plain text a Static shows now."""
    return str(widget.render())


SCENARIO_S = 120.0
"""Longest a whole pilot scenario may take: a flooded app whose queue never drains fails the
test instead of hanging it."""


def run_bounded(scenario: Coroutine[Any, Any, None], timeout: float = SCENARIO_S) -> None:
    asyncio.run(asyncio.wait_for(scenario, timeout))
