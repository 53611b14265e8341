"""The limits checks are held to: from the gateway (`GET /v1/settings`, the agent's role), or,
before enrolment, the bundled default policy's. The client never reads a deployment's policy."""

from __future__ import annotations

from importlib import resources
from typing import Any

from ruamel.yaml import YAML

Thresholds = dict[str, dict[str, Any]]
"""Per check (`cpu`, `noise`, …) its fields: `level` and the thresholds, as the gateway sends."""


def bundled_thresholds() -> Thresholds:
    """The default policy's posture checks (policies/common/call-center.yaml)."""
    text = (
        resources.files("homeagent.policies").joinpath("common/call-center.yaml").read_text("utf-8")
    )
    data = YAML(typ="safe").load(text)
    checks: Thresholds = data["posture"]["checks"]
    return checks
