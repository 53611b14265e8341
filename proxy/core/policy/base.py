"""Building blocks shared by every policy section: strict models, modes, durations."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class Strict(BaseModel):
    """A policy object: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Mode(StrEnum):
    """`enforce` blocks; `report` only logs that the rule would have blocked."""

    ENFORCE = "enforce"
    REPORT = "report"


class Level(StrEnum):
    """How much a posture check counts: `required` gates clock-in, `warn` only tells."""

    REQUIRED = "required"
    WARN = "warn"
    OFF = "off"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """`90`, `90s`, `15m`, `2h`, `1d` → seconds. Bare numbers are seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m or 2h")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    else:
        raise ValueError(f"expected a duration such as 30s, 15m or 2h, not {value!r}")
    if seconds <= 0:
        raise ValueError("a duration must be longer than zero")
    return seconds


Seconds = Annotated[float, BeforeValidator(parse_duration)]
"""A duration in the policy, held as seconds."""

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=80)]
"""A rule, role or detector name: letters, digits, `_`, `-`, `.`; it reaches the audit log."""

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "*"})


def _upper_method(value: object) -> object:
    if isinstance(value, str):
        value = value.upper()
        if value not in METHODS:
            raise ValueError(f"unknown HTTP method {value!r}")
    return value


Method = Annotated[str, BeforeValidator(_upper_method)]
