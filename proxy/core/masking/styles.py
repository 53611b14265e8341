"""How a found value is shown to the agent: partial (ends kept), full (all stars), or a keyed
pseudonym that is the same for the same value however it was written."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from ..policy.masking import Style
from .scanner import BANK_CARD, CN_ID, CN_LANDLINE, CN_MOBILE, EMAIL, Hit

PSEUDONYM_TAGS = {
    CN_MOBILE: "mob",
    CN_LANDLINE: "tel",
    CN_ID: "id",
    BANK_CARD: "card",
    EMAIL: "mail",
}


def partial(detector: str, value: str) -> str:
    """Keep what identifies the kind of number but not the person: 138****8000."""
    if detector == CN_MOBILE:
        return f"{value[:3]}****{value[-4:]}"
    if detector == CN_LANDLINE:
        area, local = value.split("-", 1)
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    if detector == CN_ID:
        return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"
    if detector == BANK_CARD:
        return f"{value[:4]} **** **** {value[-4:]}"
    if detector == EMAIL:
        local, domain = value.rsplit("@", 1) if "@" in value else value.rsplit("\uff20", 1)
        return f"{local[:1]}***@{domain}"
    return keep_ends(value)


def keep_ends(value: str) -> str:
    """A quarter of the characters kept at each end (at most 4), the rest starred."""
    keep = min(len(value) // 4, 4)
    if keep == 0:
        return "*" * len(value)
    return f"{value[:keep]}{'*' * (len(value) - 2 * keep)}{value[-keep:]}"


class Styler:
    """Turns hits into what replaces them, per the policy's style for each detector."""

    def __init__(self, styles: Mapping[str, Style], pseudonym_key: bytes) -> None:
        self._styles = dict(styles)
        self._key = pseudonym_key

    def pseudonym(self, detector: str, value: str) -> str:
        tag = PSEUDONYM_TAGS.get(detector, detector)
        digest = hmac.new(self._key, f"{detector}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"PII-{tag}-{digest[:8]}"

    def render(self, hit: Hit) -> str:
        style = self._styles.get(hit.detector, Style.PARTIAL)
        if style is Style.PARTIAL:
            return partial(hit.detector, hit.value)
        if style is Style.PSEUDONYM:
            return self.pseudonym(hit.detector, hit.value)
        return "*" * len(hit.value)
