"""The posture report this PC sends the gateway, from the checks' results: the text that is
signed and sent, and the same report laid out for the agent to read before it leaves."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .result import CheckResult

REPORT_VERSION = 1


def posture_report(results: Sequence[CheckResult]) -> dict[str, Any]:
    """`{"version": 1, "checks": {name: {"status", "measurements"}}}` (the gateway's format,
    proxy/core/posture_report.py)."""
    return {"version": REPORT_VERSION, "checks": {r.name: r.to_report() for r in results}}


def report_json(results: Sequence[CheckResult]) -> str:
    """The exact text to sign and send: compact, non-ASCII kept as is (a microphone's Chinese
    name stays itself), as the session layer's `send_posture` writes it."""
    return json.dumps(posture_report(results), ensure_ascii=False, separators=(",", ":"))


def readable(report_text: str) -> str:
    """The same report indented for a person: every field and figure of `report_text`, in its
    order, nothing added or left out."""
    return json.dumps(json.loads(report_text), ensure_ascii=False, indent=2)
