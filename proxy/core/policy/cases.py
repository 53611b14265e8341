"""Policy test cases (`*_test.yaml` beside a policy): a table of inputs and what policy must say.

    policy: acme.yaml
    cases:
      - name: inbound_reads_customer_allowed
        role: inbound
        request: GET https://crm.acme.test/customers/1001
        expect: {decision: allow, rule: inbound.crm-customers}

A case with `request` is an access decision (and rate limits, with `repeat`); add `body` and it
is also scanned for forbidden words (`expect: {blocked: true, rule: LIST}`); a case with `mask`
checks what the agent would see.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from .base import Name, Seconds, Strict


class MaskInput(Strict):
    format: Literal["json", "jsonl", "html", "text", "form"] = "text"
    input: str
    url: str = "https://example.test/"


class Expect(Strict):
    decision: Literal["allow", "deny"] | None = None
    rule: str | None = None
    """The rule that decided; for a body, the word list that matched."""
    would_block: list[str] | None = None
    blocked: bool | None = None
    output: str | None = None
    """The exact masked output."""
    contains: list[str] = Field(default_factory=list)
    absent: list[str] = Field(default_factory=list)
    """Strings that must not appear in the masked output (the personal data itself)."""


class Case(Strict):
    name: Name
    role: str
    request: str | None = None
    """`METHOD URL`."""
    at: dt.datetime | None = None
    """When the request is made (for working hours); default: a Wednesday at 10:00 UTC+8."""
    repeat: int = Field(1, ge=1, le=100_000)
    """Send the request this many times (for rate limits); `expect` is about the last one."""
    every: Seconds = 1.0
    """Time between repeated requests."""
    body: str | None = None
    content_type: str = "text/plain; charset=utf-8"
    mask: MaskInput | None = None
    expect: Expect

    @model_validator(mode="after")
    def _one_kind(self) -> Case:
        if (self.request is None) == (self.mask is None):
            raise ValueError(
                "a case has either 'request' (METHOD URL) or 'mask', not both or neither"
            )
        if self.request is not None and len(self.request.split()) != 2:
            raise ValueError(
                "'request' is 'METHOD URL', e.g. 'GET https://crm.acme.test/customers/1'"
            )
        return self


class CaseFile(Strict):
    policy: str
    """The policy under test, relative to this file."""
    cases: list[Case] = Field(min_length=1)


DEFAULT_CASE_TIME = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
