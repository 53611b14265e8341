"""The `notice` section: the confidentiality notice an agent acknowledges at clock-in."""

from __future__ import annotations

from pydantic import Field

from .base import Strict


class Notice(Strict):
    version: str = Field("1", min_length=1, max_length=40)
    """Bump it when the text changes: agents must acknowledge the new version."""
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
