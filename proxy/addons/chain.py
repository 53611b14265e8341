"""The addon chain in the order of enforcement: deadline (slow clients) → gate → access → words →
upstream → protect (mask, then watermark) → audit."""

from __future__ import annotations

from .access import Access
from .audit import Audit
from .context import Gateway
from .deadline import Deadline
from .gate import Gate
from .protect import Protect
from .upstream import Upstream
from .words import Words


def chain(gateway: Gateway) -> list[object]:
    gate = Gate(gateway)
    return [
        Deadline(gateway),
        gate,
        Access(gateway, gate),
        Words(gateway),
        Upstream(gateway),
        Protect(gateway),
        Audit(gateway),
    ]
