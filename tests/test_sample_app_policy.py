"""The sample app fits the example policy: its field keys and selectors, detector, and access."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from homeagent.proxy.core.access import AccessPolicy
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.core.policy.masking import FieldRule
from homeagent.proxy.sample_app import ground_truth, start_sample_app
from homeagent.proxy.sample_app.dataset import build_dataset
from homeagent.proxy.sample_app.ground_truth import PiiKind

ACME = Path(__file__).resolve().parent.parent / "policies" / "examples" / "acme.yaml"
POLICY = load_policy(ACME).policy
TRUTH = ground_truth()
DATASET = build_dataset()
KIND_OF_FIELD: dict[str, PiiKind] = {"customer-name": "person_name", "customer-address": "address"}


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A client of the running CRM: connects to 127.0.0.1, names crm.acme.test."""
    with start_sample_app(0, tmp_path_factory.mktemp("certs")) as app:
        trust = ssl.create_default_context(cafile=str(app.ca_path))
        with httpx.Client(
            base_url=f"https://127.0.0.1:{app.port}",
            headers={"Host": "crm.acme.test"},
            verify=trust,
        ) as client:
            yield client


def _at_path(value: object, path: list[str]) -> list[object]:
    if not path:
        return [value]
    head, *rest = path
    if head == "*" and isinstance(value, list):
        return [hit for item in value for hit in _at_path(item, rest)]
    if isinstance(value, dict) and head in value:
        return _at_path(value[head], rest)
    return []


def _anywhere(value: object, path: list[str]) -> list[object]:
    """Hits of a dotted path starting at any object in the document, as a key matcher would."""
    hits = _at_path(value, path)
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    )
    return hits + [hit for child in children for hit in _anywhere(child, path)]


@pytest.mark.parametrize(
    "rule", POLICY.masking.fields, ids=[rule.name for rule in POLICY.masking.fields]
)
def test_every_json_path_of_the_policy_finds_the_right_data(
    crm: httpx.Client, rule: FieldRule
) -> None:
    assert rule.json_paths
    expected = {v.canonical for v in TRUTH.of_kind(KIND_OF_FIELD[rule.name])}
    customer = crm.get(f"/customers/{DATASET.customers[0].id}.json").json()
    ticket = crm.get(f"/tickets/{DATASET.tickets[0].id}.json").json()
    for path in rule.json_paths:
        hits = _anywhere([customer, ticket], path.split("."))
        assert hits, f"{path} finds nothing"
        assert all(hit in expected for hit in hits), path


@pytest.mark.parametrize(
    "selector", [s for rule in POLICY.masking.fields for s in rule.html_selectors]
)
def test_every_html_selector_of_the_policy_finds_the_right_data(
    crm: httpx.Client, selector: str
) -> None:
    values = {v.canonical for v in TRUTH.pii if v.kind in ("person_name", "address")}
    hits: list[str] = []
    for path in ("/customers", f"/customers/{DATASET.customers[0].id}", "/tickets"):
        hits += [node.text() for node in HTMLParser(crm.get(path).text).css(selector)]
    assert hits, f"{selector} finds nothing"
    assert set(hits) <= values


def test_the_custom_detector_matches_every_policy_number() -> None:
    (detector,) = [d for d in POLICY.masking.custom if d.name == "acme_policy_no"]
    for value in TRUTH.of_kind("acme_policy_no"):
        assert re.fullmatch(detector.pattern, value.shown)


CID = DATASET.customers[0].id


@pytest.mark.parametrize(
    ("role", "method", "url", "allowed"),
    [
        ("inbound", "GET", "https://crm.acme.test/customers", True),
        ("inbound", "GET", f"https://crm.acme.test/customers/{CID}", True),
        ("inbound", "GET", f"https://crm.acme.test/customers/{CID}/legacy", True),
        ("inbound", "GET", f"https://crm.acme.test/customers/{CID}/contact-card", True),
        ("inbound", "GET", f"https://crm.acme.test/customers/{CID}/softphone", True),
        ("inbound", "POST", f"https://crm.acme.test/customers/{CID}/notes", True),
        ("inbound", "GET", "https://crm.acme.test/tickets/500001", True),
        ("inbound", "GET", "https://kb.acme.test/articles/refunds", True),
        ("inbound", "GET", "https://crm.acme.test/admin/export.jsonl", False),
        ("inbound", "GET", "https://crm.acme.test/api/customers", False),
        ("inbound", "POST", "https://chat.acme.test/messages/S9001", False),
        ("inbound", "GET", "https://reports.acme.test/", False),
        ("chat", "POST", "https://chat.acme.test/messages/S9001", True),
        ("supervisor", "GET", "https://crm.acme.test/admin/export.jsonl", True),
        ("supervisor", "GET", "https://reports.acme.test/api/daily", True),
    ],
)
def test_the_policy_lets_each_role_reach_what_it_should(
    role: str, method: str, url: str, allowed: bool
) -> None:
    assert AccessPolicy(POLICY).decide(role, method, url).allowed is allowed
