"""Typed watermark errors: the gateway turns any of them into a blocked response."""

from __future__ import annotations


class WatermarkError(ValueError):
    """A body could not be watermarked (unparseable, bad setting): block, never pass it on."""


class MarkFormatError(WatermarkError):
    """Bytes that are not a well-formed mark (wrong version, length or field)."""
