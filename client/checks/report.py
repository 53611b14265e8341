"""The posture report this PC sends the gateway, from the checks' results: the same text is
signed, sent, and shown to the agent on request, so what they read is exactly what leaves."""

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
    """The report as the exact JSON text to sign and send: indented, so an agent can read it,
    and non-ASCII kept as is (a microphone's Chinese name stays readable)."""
    return json.dumps(posture_report(results), ensure_ascii=False, indent=2)
