"""The sample app's fake data: deterministic, checksum-valid where it must be, and varied."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest
from stdnum.cn import ric

from homeagent.proxy.sample_app import ground_truth
from homeagent.proxy.sample_app.articles import ARTICLES
from homeagent.proxy.sample_app.dataset import build_dataset
from homeagent.proxy.sample_app.lookalikes import passes_a_pii_check

TRUTH = ground_truth()
DATASET = build_dataset()

# GB 11643-1999: weights 2^(17-i) mod 11, check = (12 - sum mod 11) mod 11, 10 written X.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643_ok(number: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    check = (12 - total % 11) % 11
    return number[17] == ("X" if check == 10 else str(check))


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        (gb11643_ok, "11010519491231002X", True),  # the standard's own example
        (gb11643_ok, "110105194912310021", False),
        (luhn_ok, "4111111111111111", True),
        (luhn_ok, "4111111111111112", False),
        (luhn_ok, "79927398713", True),
    ],
)
def test_the_independent_checkers_are_right(check: object, value: str, expected: bool) -> None:
    assert callable(check)
    assert check(value) is expected


def test_the_same_arguments_give_the_same_data_in_another_process() -> None:
    code = (
        "import json; from homeagent.proxy.sample_app import ground_truth; "
        "t = ground_truth(); print(json.dumps([[v.kind, v.shown] for v in t.pii]))"
    )
    for hash_seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        ).stdout
        assert json.loads(out) == [[v.kind, v.shown] for v in TRUTH.pii]
    assert build_dataset(200) is build_dataset(customer_count=200, seed=20260314)
    other = build_dataset(seed=7)
    assert other.customers[0].as_json() != DATASET.customers[0].as_json()


def test_there_are_about_200_customers_with_unique_ids_and_their_tickets() -> None:
    assert len(DATASET.customers) == 200
    assert len({c.id for c in DATASET.customers}) == 200
    assert {t.customer_id for t in DATASET.tickets} == {c.id for c in DATASET.customers}
    assert len(DATASET.chats) == 24


def test_names_are_chinese_and_some_have_compound_surnames() -> None:
    names = [v.shown for v in TRUTH.of_kind("person_name")]
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", n) for n in names)
    compound = Counter(n[:2] for n in names if n[:2] in ("欧阳", "司马", "上官", "诸葛"))
    assert sum(compound.values()) >= 5


def test_resident_ids_pass_gb11643_and_some_end_in_x() -> None:
    ids = TRUTH.of_kind("cn_id")
    assert len(ids) == 200
    for value in ids:
        assert gb11643_ok(value.canonical), value
        assert ric.is_valid(value.canonical), value  # also a real birth date and place
        assert value.shown.upper() == value.canonical
    assert sum(v.canonical.endswith("X") for v in ids) >= 20
    assert any(v.shown.endswith("x") for v in ids)


def test_bank_cards_pass_luhn_with_16_to_19_digits_some_grouped() -> None:
    cards = TRUTH.of_kind("bank_card")
    for value in cards:
        assert luhn_ok(value.canonical), value
        assert 16 <= len(value.canonical) <= 19
        assert re.sub(r"[ -]", "", value.shown) == value.canonical
    assert {len(v.canonical) for v in cards} == {16, 17, 18, 19}
    assert any(" " in v.shown for v in cards) and any("-" in v.shown for v in cards)


def test_policy_numbers_are_pn_and_ten_luhn_valid_digits() -> None:
    numbers = TRUTH.of_kind("acme_policy_no")
    assert numbers
    for value in numbers:
        assert re.fullmatch(r"PN\d{10}", value.shown)
        assert luhn_ok(value.shown[2:])


@pytest.mark.parametrize(
    "form",
    [
        r"1[3-9]\d{9}",
        r"1\d\d-\d{4}-\d{4}",
        r"1\d\d \d{4} \d{4}",
        r"\+86 1\d\d \d{4} \d{4}",
        r"\+86-1\d{10}",
        r"\(\+86\)1\d{10}",
        r"[１][３-９][０-９]{9}",
    ],
)
def test_mobiles_come_in_every_written_form(form: str) -> None:
    mobiles = TRUTH.of_kind("cn_mobile")
    assert any(re.fullmatch(form, v.shown) for v in mobiles)
    for value in mobiles:
        assert re.fullmatch(r"1[3-9]\d{9}", value.canonical)


@pytest.mark.parametrize(
    "form", [r"0\d{2,3}-\d{7,8}", r"\(0\d{2,3}\) \d{3,4} \d{4}", r"0\d{2,3}-\d{3,4} \d{4}"]
)
def test_landlines_come_in_every_written_form(form: str) -> None:
    assert any(re.fullmatch(form, v.shown) for v in TRUTH.of_kind("cn_landline"))


def test_emails_and_addresses_are_well_formed() -> None:
    for value in TRUTH.of_kind("email"):
        assert re.fullmatch(r"[a-z0-9.]+@[a-z0-9.]+\.(com|cn)", value.canonical)
    for c in DATASET.customers:
        assert c.address.startswith(c.region.province)
        assert c.region.district in c.address
        assert "号" in c.address
        assert c.landline.canonical.startswith(c.region.area_code)
        assert c.resident_id.canonical.startswith(c.region.code)


def test_every_kind_of_look_alike_is_there_and_fails_every_pii_check() -> None:
    kinds = Counter(v.kind for v in TRUTH.look_alikes)
    assert set(kinds) == {
        "order_no",
        "tracking_no",
        "timestamp_ms",
        "amount",
        "uuid",
        "service_number",
    }
    assert any(v.value in ("400-820-8820", "95588") for v in TRUTH.look_alikes)
    for value in TRUTH.look_alikes:
        if value.kind == "uuid":
            continue
        digits = "".join(c for c in value.value if c.isdigit())
        assert not (len(digits) == 18 and gb11643_ok(digits)), value
        assert not (12 <= len(digits) <= 19 and luhn_ok(digits)), value
        assert not re.fullmatch(r"1[3-9]\d{9}", digits), value
        assert not passes_a_pii_check(digits)
    timestamps = [v.value for v in TRUTH.look_alikes if v.kind == "timestamp_ms"]
    assert all(re.fullmatch(r"17\d{11}", t) for t in timestamps)
    assert any(re.fullmatch(r"\d{18}", v.value) for v in TRUTH.look_alikes if v.kind == "order_no")


def test_no_look_alike_is_also_personal_data() -> None:
    pii = {v.canonical for v in TRUTH.pii} | {v.shown for v in TRUTH.pii}
    assert not pii & {v.value for v in TRUTH.look_alikes}


# Where the example policy masks by field: full names and addresses appear only there.
NAME_KEYS = {"name", "customer_name"}
ADDRESS_KEYS = {"address"}


def _strings_by_key(value: object, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _strings_by_key(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in _strings_by_key(v, key)]
    return [(key, value)] if isinstance(value, str) else []


def test_full_names_and_addresses_appear_only_under_the_policys_field_keys() -> None:
    records = [
        c.as_json() | {"policies": [p.as_json() for p in c.policies]} for c in DATASET.customers
    ]
    records += [t.as_json() for t in DATASET.tickets]
    records += [m.as_json() for s in DATASET.chats for m in s.messages]
    names = {v.canonical for v in TRUTH.of_kind("person_name")}
    addresses = {v.canonical for v in TRUTH.of_kind("address")}
    for key, text in _strings_by_key(records):
        if key in NAME_KEYS:
            assert text in names
        elif key in ADDRESS_KEYS:
            assert text in addresses
        else:
            assert not any(n in text for n in names), (key, text)
            assert not any(a in text for a in addresses), (key, text)


def test_the_knowledge_base_is_long_and_carries_no_customer_data() -> None:
    assert {a.lang for a in ARTICLES} == {"zh", "en"}
    assert all(len(a.content) > 300 for a in ARTICLES)
    text = json.dumps([a.as_json() for a in ARTICLES], ensure_ascii=False)
    assert not [v for v in TRUTH.pii if v.shown in text or v.canonical in text]


def test_an_empty_dataset_is_refused() -> None:
    with pytest.raises(ValueError, match="customer_count must be at least 1"):
        build_dataset(0)
