"""The `watermark` section: marks that tie what an agent saw back to the agent."""

from __future__ import annotations

from pydantic import Field

from .base import Strict


class VisibleWatermark(Strict):
    enabled: bool = True
    text: str = "{agent} · {time} · {reference}"
    """Placeholders: {agent}, {time}, {reference}."""
    opacity: float = Field(0.12, gt=0, le=1)
    angle_degrees: float = Field(-30.0, ge=-90, le=90)
    font_size_px: int = Field(16, ge=6, le=96)
    spacing_px: int = Field(240, ge=40, le=2000)


class InvisibleWatermark(Strict):
    enabled: bool = True
    json_fields: list[str] = Field(
        default_factory=lambda: [
            "note",
            "notes",
            "remark",
            "remarks",
            "comment",
            "comments",
            "description",
            "summary",
            "content",
            "message",
            "text",
            "body",
            "title",
            "answer",
        ]
    )
    """JSON keys whose string values are human-readable prose and may carry a mark."""
    every_chars: int = Field(200, ge=40, le=10000)
    """A whole mark is repeated at least this often in a text, so a fragment still carries one."""


class Watermark(Strict):
    visible: VisibleWatermark = VisibleWatermark()
    invisible: InvisibleWatermark = InvisibleWatermark()
    key_file: str | None = None
    """Where the signing key lives; default: the gateway's data dir. Made with 0600 on first use."""
