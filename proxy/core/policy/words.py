"""The `forbidden_words` section: phrases agents may not send, by destination and role."""

from __future__ import annotations

from pydantic import Field

from .access import URLPatternText
from .base import Method, Mode, Name, Strict


class WordList(Strict):
    name: Name
    roles: list[Name] = Field(default_factory=list)
    """Empty: every role."""
    url: URLPatternText = "*://*:*/**"
    methods: list[Method] = Field(default_factory=lambda: ["POST", "PUT", "PATCH"], min_length=1)
    words: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    """Word files (one phrase a line, `#` comments), relative to the policy file."""
    mode: Mode = Mode.ENFORCE
