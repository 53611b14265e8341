"""The audit hash chain: any change, removal, insertion or forged signature is found and named."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homeagent.proxy.core.audit_chain import AuditChain, verify_chain

KEY = Ed25519PrivateKey.generate()


def _chain(n: int = 5) -> list[dict[str, Any]]:
    chain = AuditChain("gw-1", KEY)
    return [
        chain.append(
            "flow",
            {"agent": "A1023", "url": f"https://crm.acme.test/customers/{i}", "decision": "allow"},
            at=f"2026-12-03T10:00:0{i}Z",
        )
        for i in range(n)
    ]


def test_an_untouched_chain_verifies() -> None:
    report = verify_chain("gw-1", _chain(), KEY.public_key())
    assert report.intact and report.records == 5


def test_a_chain_continues_after_a_restart() -> None:
    first = _chain(3)
    resumed = AuditChain("gw-1", KEY, last_seq=first[-1]["seq"], last_hash=first[-1]["hash"])
    more = [resumed.append("control", {"event": "policy-reload"}, at="2026-12-03T11:00:00Z")]
    assert verify_chain("gw-1", first + more, KEY.public_key()).intact


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "reason"),
    [
        (lambda c: c[2]["data"].update(decision="deny"), 3, "does not match its hash"),
        (lambda c: c.pop(2), 3, "record 3 is missing"),
        (lambda c: c.insert(2, copy.deepcopy(c[1])), 3, "repeated or out of order"),
        (lambda c: c[1].update(at="2026-12-03T09:00:00Z"), 2, "does not match its hash"),
        (lambda c: c[3].update(sig=c[2]["sig"]), 4, "signature does not verify"),
        (lambda c: c[4].update(prev=c[2]["hash"]), 5, "does not link"),
        (lambda c: c[0].pop("hash"), 1, "malformed"),
    ],
)
def test_tampering_is_found_at_the_first_bad_record(tamper: Any, bad_seq: int, reason: str) -> None:
    chain = _chain()
    tamper(chain)
    report = verify_chain("gw-1", chain, KEY.public_key())
    assert not report.intact
    assert report.first_bad_seq == bad_seq
    assert reason in report.reason


def test_a_rewritten_chain_signed_by_another_key_fails() -> None:
    forger = AuditChain("gw-1", Ed25519PrivateKey.generate())
    forged = [forger.append("flow", {"agent": "A1023"}, at="2026-12-03T10:00:00Z")]
    report = verify_chain("gw-1", forged, KEY.public_key())
    assert (report.first_bad_seq, report.reason) == (1, "signature does not verify")
