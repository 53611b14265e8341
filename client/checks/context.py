"""What a check may be given besides its limits: the agent's language, the chosen microphone,
where the gateway is (for the network check), and a callback for live progress in the UI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .result import Hint


@dataclass(frozen=True, slots=True)
class GatewayEndpoint:
    """The gateway's control API, as enrolment stored it."""

    control_url: str
    """`https://host:port`: the control API; its UDP echo listens on the same port."""
    ca_file: Path
    """The gateway's CA (PEM): trusted for this gateway, and only it (pinned)."""


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a check in progress, for a checklist filling in live."""

    check: str
    """The check's name (`network`, `noise`, …)."""
    fraction: float | None = None
    """0 to 1 when the check knows how far it is."""
    phase: str = ""
    """What it is doing now, e.g. `rtt`, `download`, `upload`, `recording`."""
    value: float | None = None
    """A live figure for the phase: the input level in dBFS(A) while recording, Mbit/s while
    measuring throughput."""
    message: Hint | None = None
    """What the agent should know now, e.g. "Please stay silent for 5 seconds"."""


ProgressCallback = Callable[[Progress], None]


def _ignore(_: Progress) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CheckContext:
    lang: str = "en"
    input_device: str | None = None
    """The microphone to use (a name or part of one); None: the system's default input."""
    gateway: GatewayEndpoint | None = None
    """Where the network check measures; None (not enrolled): that check is skipped."""
    progress: ProgressCallback = _ignore
    """Called from the checking thread; a UI posts it on as a message."""
