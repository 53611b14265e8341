"""What the client's commands share."""

from __future__ import annotations


class CommandError(Exception):
    """A failure the command reports in one plain line (no traceback) and exits 1."""
