"""Checks that tell real personal numbers from look-alikes: Luhn, the GB 11643 resident ID
checksum and birth date, mobile prefixes, landline area codes, bank-card issuer prefixes."""

from __future__ import annotations

import datetime

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _date_ok(year: int, month: int, day: int) -> bool:
    if not 1900 <= year <= 2100:
        return False
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def cn_id_ok(value: str) -> bool:
    """An 18-character resident ID (GB 11643, checksum and birth date) or a 15-digit legacy one.

    `value` holds ASCII digits and, for the 18-character form, a final upper-case `X`.
    """
    if len(value) == 18:
        body = value[:17]
        if not body.isdigit() or not "1" <= value[0] <= "8":
            return False
        total = sum(w * (ord(c) - 48) for w, c in zip(_ID_WEIGHTS, body, strict=True))
        if _ID_CHECK[total % 11] != value[17]:
            return False
        return _date_ok(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    if len(value) == 15 and value.isdigit() and "1" <= value[0] <= "8":
        return _date_ok(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
    return False


def id_shaped(digits: str) -> bool:
    """18 digits that read as region code + birth date: an ID, even if its checksum is wrong.

    Such a number is never taken for a bank card, so an ID with a typo survives as it is.
    """
    return (
        len(digits) == 18
        and "1" <= digits[0] <= "8"
        and _date_ok(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    )


def cn_mobile_ok(digits: str) -> bool:
    """11 digits, 13x–19x: the mainland mobile ranges."""
    return len(digits) == 11 and digits[0] == "1" and "3" <= digits[1] <= "9"


def cn_landline_split(digits: str) -> tuple[str, str] | None:
    """(area code, local number) of a mainland landline written with its 0-prefixed area code.

    Area codes are 010, 02x, or 0 plus three digits from 3xx to 9xx; the local number has 7 or
    8 digits and never starts with 0 or 1. Service numbers (400, 800, 95xxx) never start with 0
    and so never match.
    """
    if len(digits) < 10 or len(digits) > 12 or digits[0] != "0":
        return None
    if digits[1] in "12":
        if digits[1] == "1" and digits[2] != "0":
            return None
        area, local = digits[:3], digits[3:]
    else:
        area, local = digits[:4], digits[4:]
    if len(local) not in (7, 8) or local[0] in "01":
        return None
    return area, local


def bank_card_ok(digits: str) -> bool:
    """13–19 digits, Luhn, and an issuer prefix that payment cards use.

    Issuer prefixes: 3 (Amex, JCB, Diners), 4 (Visa), 5 (Mastercard), 6 (UnionPay, Discover),
    9 (older domestic debit cards), 2221–2720 (Mastercard 2-series, 16 digits). A 13-digit
    millisecond timestamp starts with 1 and an order number dated 20xx starts with 20, so
    neither is taken for a card however its Luhn check comes out.
    """
    length = len(digits)
    if not 13 <= length <= 19:
        return False
    first = digits[0]
    if first in "34569":
        pass
    elif not (first == "2" and length == 16 and 2221 <= int(digits[:4]) <= 2720):
        return False
    if id_shaped(digits):
        return False
    return luhn_ok(digits)
