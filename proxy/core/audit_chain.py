"""The audit log's hash chain: each record commits to the one before it and is signed by the
gateway instance that wrote it, so a changed, removed or inserted record is found and named.

Pure: the store persists records; this module makes and checks them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
FIELDS = ("seq", "instance", "at", "kind", "data", "prev")


def _canonical(record: Mapping[str, Any]) -> bytes:
    body = {name: record[name] for name in FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(record)).hexdigest()


class AuditChain:
    """Appends records to one instance's chain. Not thread-safe: one writer per instance."""

    def __init__(
        self, instance: str, key: Ed25519PrivateKey, *, last_seq: int = 0, last_hash: str = GENESIS
    ):
        self.instance = instance
        self._key = key
        self.last_seq = last_seq
        self.last_hash = last_hash

    def append(self, kind: str, data: Mapping[str, Any], at: str) -> dict[str, Any]:
        """The next record (a JSON-ready dict), chained and signed. `at`: ISO 8601 UTC."""
        record: dict[str, Any] = {
            "seq": self.last_seq + 1,
            "instance": self.instance,
            "at": at,
            "kind": kind,
            "data": dict(data),
            "prev": self.last_hash,
        }
        digest = record_hash(record)
        record["hash"] = digest
        record["sig"] = base64.b64encode(self._key.sign(bytes.fromhex(digest))).decode()
        self.last_seq, self.last_hash = record["seq"], digest
        return record


@dataclass(frozen=True, slots=True)
class ChainReport:
    instance: str
    records: int
    first_bad_seq: int | None = None
    """The first record that does not verify (or the seq expected where one is missing)."""
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def verify_chain(
    instance: str, records: Iterable[Mapping[str, Any]], key: Ed25519PublicKey
) -> ChainReport:
    """Check one instance's records in order: numbering, links, hashes, signatures."""
    expected_seq, prev, count = 1, GENESIS, 0
    for record in records:
        count += 1
        try:
            seq = record["seq"]
            if record["instance"] != instance:
                return ChainReport(
                    instance, count, seq, f"record belongs to instance {record['instance']!r}"
                )
            if seq != expected_seq:
                missing = "missing" if seq > expected_seq else "repeated or out of order"
                return ChainReport(
                    instance, count, expected_seq, f"record {expected_seq} is {missing}"
                )
            if record["prev"] != prev:
                return ChainReport(instance, count, seq, "does not link to the record before it")
            digest = record_hash(record)
            if digest != record["hash"]:
                return ChainReport(instance, count, seq, "content does not match its hash")
            key.verify(base64.b64decode(record["sig"], validate=True), bytes.fromhex(digest))
        except InvalidSignature:
            return ChainReport(instance, count, expected_seq, "signature does not verify")
        except (KeyError, TypeError, ValueError) as err:
            return ChainReport(instance, count, expected_seq, f"malformed record: {err}")
        expected_seq, prev = seq + 1, digest
    return ChainReport(instance, count)
