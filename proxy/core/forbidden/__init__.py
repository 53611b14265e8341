"""Forbidden words: phrases agents may not send, found through the usual disguises."""

from .body_text import BodyText, UndecodableBodyError, body_text
from .fold import fold
from .scanner import Match, PhraseScanner, ScanResult

__all__ = [
    "BodyText",
    "Match",
    "PhraseScanner",
    "ScanResult",
    "UndecodableBodyError",
    "body_text",
    "fold",
]
