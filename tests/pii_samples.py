"""Personal-data samples for the masking tests, valid by construction (checksums computed)."""

from __future__ import annotations

from collections.abc import Mapping

from homeagent.proxy.core.policy.model import Policy

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
KEY = b"test-pseudonym-key-0123456789abc"


def cn_id(region: str = "110105", birth: str = "19491231", sequence: str = "002") -> str:
    body = region + birth + sequence
    return body + "10X98765432"[sum(w * int(c) for w, c in zip(ID_WEIGHTS, body, strict=True)) % 11]


def wrong_checksum(valid_id: str) -> str:
    checks = "10X98765432"
    return valid_id[:17] + checks[(checks.index(valid_id[17]) + 1) % 11]


def luhn_complete(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def luhn_broken(body: str) -> str:
    valid = luhn_complete(body)
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


def policy(masking: Mapping[str, object] | None = None) -> Policy:
    return Policy.model_validate(
        {
            "notice": {"version": "t", "zh": "承诺", "en": "notice"},
            "roles": {"inbound": {"allow": []}, "supervisor": {"allow": []}},
            "masking": masking or {},
        }
    )
