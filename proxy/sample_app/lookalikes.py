"""Numbers that look like personal data but are not, and that a good detector leaves alone.

Order and tracking numbers, millisecond timestamps, amounts, UUIDs and service numbers are
generated so that none passes the checks of the data they resemble: no 18-digit one has a
valid GB 11643 check character, no 12-19 digit one is Luhn-valid, none is an 11-digit mobile.
"""

from __future__ import annotations

import datetime
import random
import re
import uuid

from stdnum import luhn
from stdnum.cn import ric

# Hotlines: 400/800 numbers and five-digit bank and carrier short codes.
SERVICE_NUMBERS: tuple[str, ...] = (
    "400-820-8820",
    "400 610 5555",
    "4008881234",
    "800-810-8888",
    "95588",
    "95555",
    "95533",
    "95511",
    "10086",
)

_MOBILE = re.compile(r"1[3-9]\d{9}")


def passes_a_pii_check(digits: str) -> bool:
    """True when these digits would validate as a mobile, resident ID or card number."""
    if _MOBILE.fullmatch(digits):
        return True
    # the check character alone, as GB 11643 defines it: a detector need not check the date
    if len(digits) == 18 and ric.calc_check_digit(digits) == digits[-1]:
        return True
    return 12 <= len(digits) <= 19 and digits.isdigit() and luhn.is_valid(digits)


def _digits_only(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _draw(rng: random.Random, make: str) -> str:
    """Draws until the value's digits fail every PII check (about one draw in ten is refused)."""
    for _ in range(100):
        value = _make(rng, make)
        if not passes_a_pii_check(_digits_only(value)):
            return value
    raise RuntimeError(f"could not draw a {make} that fails the PII checks")  # pragma: no cover


def _make(rng: random.Random, kind: str) -> str:
    day = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(120))
    match kind:
        case "order_no":
            if rng.random() < 0.5:
                return f"{day:%Y%m%d}{rng.randrange(10**10):010d}"
            return f"SO-{day:%Y-%m%d}-{rng.randrange(10**5):05d}"
        case "tracking_no":
            carrier = rng.choice(("SF", "YT", "JD", "ZTO", ""))
            if carrier:
                return f"{carrier}{rng.randrange(10**12, 10**13)}"
            return str(rng.randrange(7 * 10**11, 8 * 10**11))
        case "timestamp_ms":
            moment = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
            return str(int(moment.timestamp() * 1000) + rng.randrange(86_400_000))
        case "amount":
            yuan = rng.choice((rng.randint(5, 999), rng.randint(1000, 99_999), 13_800_138))
            cents = rng.randrange(100)
            return rng.choice((f"¥{yuan:,}.{cents:02d}", f"{yuan}.{cents:02d}", f"RMB {yuan:,}"))
        case _:
            raise ValueError(f"unknown look-alike kind {kind!r}")


def order_number(rng: random.Random) -> str:
    return _draw(rng, "order_no")


def tracking_number(rng: random.Random) -> str:
    return _draw(rng, "tracking_no")


def timestamp_ms(rng: random.Random) -> int:
    return int(_draw(rng, "timestamp_ms"))


def amount(rng: random.Random) -> str:
    return _draw(rng, "amount")


def later(moment_ms: int, delta_ms: int) -> int:
    """A timestamp about `delta_ms` after another that still fails every PII check."""
    moment = moment_ms + delta_ms
    while passes_a_pii_check(str(moment)):
        moment += 1
    return moment


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
