"""What the sample app serves that must be masked, and what must be left alone.

Gateway tests fetch pages through the gateway and assert that no `pii` value (in any written
form, compare by `canonical`) comes out, and that every `look_alikes` value still does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .dataset import DEFAULT_CUSTOMERS, DEFAULT_SEED, Dataset, build_dataset
from .lookalikes import SERVICE_NUMBERS

PiiKind = Literal[
    "person_name",
    "address",
    "cn_mobile",
    "cn_landline",
    "cn_id",
    "bank_card",
    "email",
    "acme_policy_no",
]
LookAlikeKind = Literal[
    "order_no", "tracking_no", "timestamp_ms", "amount", "uuid", "service_number"
]

# Written into the knowledge-base articles by hand.
ARTICLE_LOOKALIKES: tuple[tuple[LookAlikeKind, str], ...] = (
    ("order_no", "SO-2026-0314-00127"),
    ("tracking_no", "SF1409235678123"),
    ("amount", "¥5,000.00"),
    ("amount", "RMB 50,000"),
    ("amount", "RMB 3,000"),
    ("amount", "2,380.00"),
    ("amount", "¥500.00"),
)


@dataclass(frozen=True, slots=True)
class PiiValue:
    kind: PiiKind
    shown: str
    """As the app writes it (separators, +86, full-width digits, upper case...)."""
    canonical: str
    """Digits only for numbers, upper case for IDs and policy numbers, lower case for e-mail."""
    customer_id: int


@dataclass(frozen=True, slots=True)
class LookAlike:
    kind: LookAlikeKind
    value: str


@dataclass(frozen=True, slots=True)
class GroundTruth:
    pii: tuple[PiiValue, ...]
    look_alikes: tuple[LookAlike, ...]

    def of_kind(self, kind: PiiKind) -> tuple[PiiValue, ...]:
        return tuple(v for v in self.pii if v.kind == kind)


def _pii(dataset: Dataset) -> list[PiiValue]:
    values: list[PiiValue] = []
    for c in dataset.customers:

        def add(kind: PiiKind, shown: str, canonical: str, customer_id: int = c.id) -> None:
            values.append(PiiValue(kind, shown, canonical, customer_id))

        add("person_name", c.name.full, c.name.full)
        add("address", c.address, c.address)
        add("cn_id", c.resident_id.shown, c.resident_id.canonical)
        add("cn_mobile", c.mobile.shown, c.mobile.canonical)
        add("cn_landline", c.landline.shown, c.landline.canonical)
        add("email", c.email.shown, c.email.canonical)
        add("bank_card", c.bank_card.shown, c.bank_card.canonical)
        for insurance in c.policies:
            add("acme_policy_no", insurance.number.shown, insurance.number.canonical)
        for contact in c.contacts:
            add("person_name", contact.name, contact.name)
            add("cn_mobile", contact.mobile.shown, contact.mobile.canonical)
    return values


def _look_alikes(dataset: Dataset) -> list[LookAlike]:
    found: list[tuple[LookAlikeKind, str]] = list(ARTICLE_LOOKALIKES)
    found += [("service_number", n) for n in SERVICE_NUMBERS]
    for c in dataset.customers:
        found += [("timestamp_ms", str(c.created_at_ms)), ("uuid", c.account)]
        found += [("amount", p.premium) for p in c.policies]
    for t in dataset.tickets:
        found += [("order_no", t.order_no), ("tracking_no", t.tracking_no), ("amount", t.amount)]
        found += [("uuid", t.ref), ("timestamp_ms", str(t.created_at_ms))]
        found += [("timestamp_ms", str(n.at_ms)) for n in t.notes]
        found += [("timestamp_ms", str(at)) for at, _, _ in t.history]
    for session in dataset.chats:
        found += [("timestamp_ms", str(m.sent_at_ms)) for m in session.messages]
    return [LookAlike(kind, value) for kind, value in dict.fromkeys(found)]


def ground_truth(customer_count: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED) -> GroundTruth:
    """Every personal value the app serves with these arguments, and every look-alike."""
    dataset = build_dataset(customer_count, seed)
    return GroundTruth(tuple(_pii(dataset)), tuple(_look_alikes(dataset)))
