"""Watermarks that tie what an agent saw back to the agent: visible overlay, invisible marks."""

from .errors import MarkFormatError, WatermarkError
from .mark import Mark, new_reference
from .watermarker import BodyKind, MarkReader, TraceResult, Watermarked, Watermarker

__all__ = [
    "BodyKind",
    "Mark",
    "MarkFormatError",
    "MarkReader",
    "TraceResult",
    "WatermarkError",
    "Watermarked",
    "Watermarker",
    "new_reference",
]
