"""Personal-data masking: detectors, field rules and the format maskers the gateway runs on
every response body an agent receives."""

from __future__ import annotations

from .errors import BodyTooLargeError, UnmaskableBodyError
from .masker import BodyFormat, Masker, MaskResult, TextMaskResult, format_for, is_maskable
from .scanner import Finding

__all__ = [
    "BodyFormat",
    "BodyTooLargeError",
    "Finding",
    "MaskResult",
    "Masker",
    "TextMaskResult",
    "UnmaskableBodyError",
    "format_for",
    "is_maskable",
]
