"""One-time enrolment codes: random, easy to read out over the phone (`7QKD-M2XA-9TBF`), kept
only as a hash.
"""

from __future__ import annotations

import hashlib
import secrets

# Crockford's base32: no I, L, O or U, so nothing reads as another character.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12  # 60 random bits
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normalise(code: str) -> str:
    """The code as typed, with case, spaces, dashes and look-alike letters forgiven."""
    return "".join(code.split()).replace("-", "").upper().translate(_TYPOS)


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()
