"""The whole policy: one validated, immutable object built from one or more YAML files."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .access import RateLimit, Role
from .base import Name, Strict
from .masking import Masking
from .notice import Notice
from .posture import Posture
from .watermark import Watermark
from .words import WordList


class Policy(Strict):
    version: Literal[1] = 1
    include: list[str] = Field(default_factory=list)
    """Other policy files, relative to this one, merged under it (this file wins)."""
    notice: Notice
    posture: Posture = Posture()
    roles: dict[Name, Role] = Field(min_length=1)
    masking: Masking = Masking()
    watermark: Watermark = Watermark()
    forbidden_words: list[WordList] = Field(default_factory=list)
    limits: list[RateLimit] = Field(default_factory=list)
