"""The running sample app over real HTTPS on loopback: routes, encodings, hosts, posts."""

from __future__ import annotations

import gzip
import html
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import brotli
import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from homeagent.proxy.sample_app import SampleApp, SampleAppError, start_sample_app
from homeagent.proxy.sample_app.dataset import build_dataset

DATASET = build_dataset()
FIRST = DATASET.customers[0]
CRM, KB, CHAT, REPORTS = "crm.acme.test", "kb.acme.test", "chat.acme.test", "reports.acme.test"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleApp]:
    with start_sample_app(0, tmp_path_factory.mktemp("certs"), http_port=0) as running:
        yield running


@pytest.fixture(scope="module")
def client(app: SampleApp) -> Iterator[httpx.Client]:
    trust = ssl.create_default_context(cafile=str(app.ca_path))
    with httpx.Client(verify=trust, timeout=10) as opened:
        yield opened


def _request(
    client: httpx.Client,
    app: SampleApp,
    method: str,
    host: str,
    path: str,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    """Connects to 127.0.0.1 but names `host` in SNI and Host, as the gateway will."""
    return client.request(
        method,
        f"https://127.0.0.1:{app.port}{path}",
        headers={"Host": host, **(headers or {})},
        extensions={"sni_hostname": host},
        **body,
    )


def _text(page: HTMLParser, selector: str) -> str:
    node = page.css_first(selector)
    assert node is not None, f"no {selector} on the page"
    return node.text()


def _get(
    client: httpx.Client, app: SampleApp, host: str, path: str, **headers: str
) -> httpx.Response:
    return _request(client, app, "GET", host, path, headers=headers)


def _raw(
    client: httpx.Client, app: SampleApp, host: str, path: str
) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as it crossed the wire (still compressed)."""
    url = f"https://127.0.0.1:{app.port}{path}"
    with client.stream("GET", url, headers={"Host": host}, extensions={"sni_hostname": host}) as r:
        return r, b"".join(r.iter_raw())


CID = FIRST.id
TID = DATASET.tickets[0].id
PNO = FIRST.policies[0].number.canonical


@pytest.mark.parametrize(
    ("host", "path", "status", "media_type", "encoding"),
    [
        (CRM, "/", 302, None, None),
        (CRM, "/customers", 200, "text/html", "gzip"),
        (CRM, "/customers.json", 200, "application/json", "gzip"),
        (CRM, f"/customers/{CID}", 200, "text/html", "br"),
        (CRM, f"/customers/{CID}.json", 200, "application/json", "br"),
        (CRM, f"/customers/{CID}/contact-card", 200, "text/html", None),
        (CRM, f"/customers/{CID}/legacy", 200, "text/html; charset=gb18030", None),
        (CRM, f"/customers/{CID}/legacy.json", 200, "application/json", None),
        (CRM, f"/customers/{CID}/softphone", 200, "application/x-www-form-urlencoded", None),
        (CRM, f"/customers/{CID}/policies", 200, "application/json", None),
        (CRM, "/customers/99999", 404, "application/json", None),
        (CRM, "/tickets", 200, "text/html", None),
        (CRM, "/tickets.json", 200, "application/json", None),
        (CRM, f"/tickets/{TID}", 200, "text/html", "gzip"),
        (CRM, f"/tickets/{TID}.json", 200, "application/json", "gzip"),
        (CRM, "/api/customers", 200, "application/json", None),
        (CRM, f"/api/customers/{CID}", 200, "application/json", None),
        (CRM, "/api/tickets", 200, "application/json", None),
        (CRM, f"/api/tickets/{TID}", 200, "application/json", None),
        (CRM, f"/api/policies/{PNO}", 200, "application/json", None),
        (CRM, "/api/policies/PN0000000000", 404, "application/json", None),
        (CRM, "/admin", 308, None, None),
        (CRM, "/admin/", 200, "text/html", None),
        (CRM, "/admin/export.jsonl", 200, "application/x-ndjson", "gzip"),
        (CRM, "/admin/export.json", 200, "application/json", "gzip"),
        (CRM, "/admin/agents", 200, "application/json", None),
        (CRM, "/no/such/page", 404, "application/json", None),
        (KB, "/", 200, "text/html", None),
        (KB, "/search?q=95588", 200, "text/html", None),
        (KB, "/articles/refunds", 200, "text/html", "br"),
        (KB, "/articles/nothing", 404, "application/json", None),
        (KB, "/api/articles", 200, "application/json", None),
        (KB, "/api/articles/privacy-at-home", 200, "application/json", "br"),
        (CHAT, "/", 200, "text/html", None),
        (CHAT, "/messages/", 200, "application/json", None),
        (CHAT, "/messages/S9001", 200, "application/json", None),
        (CHAT, "/messages/S1", 404, "application/json", None),
        (REPORTS, "/", 200, "text/html", None),
        (REPORTS, "/api/daily", 200, "application/json", None),
        ("other.acme.test", "/", 421, "application/json", None),
    ],
)
def test_each_route_answers(
    client: httpx.Client,
    app: SampleApp,
    host: str,
    path: str,
    status: int,
    media_type: str | None,
    encoding: str | None,
) -> None:
    response = _get(client, app, host, path)
    assert response.status_code == status, response.text
    if media_type is not None:
        assert response.headers["content-type"].startswith(media_type)
    assert response.headers.get("content-encoding") == encoding
    if status >= 400:
        assert response.json()["detail"]


def test_gzip_bodies_are_real_gzip(client: httpx.Client, app: SampleApp) -> None:
    _, raw = _raw(client, app, CRM, "/customers?size=200")
    assert raw[:2] == b"\x1f\x8b"
    page = gzip.decompress(raw).decode("utf-8")
    assert FIRST.name.full in page and len(raw) < len(page.encode()) / 3


def test_br_bodies_are_real_brotli(client: httpx.Client, app: SampleApp) -> None:
    response, raw = _raw(client, app, CRM, f"/customers/{CID}")
    assert response.headers["content-encoding"] == "br"
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert FIRST.resident_id.shown in brotli.decompress(raw).decode("utf-8")


@pytest.mark.parametrize(
    ("path", "accept_encoding", "expected"),
    [
        (f"/customers/{CID}", "gzip, deflate, br, zstd", "br"),
        (f"/customers/{CID}", "br;q=1.0", "br"),
        (f"/customers/{CID}", "*", "br"),
        (f"/customers/{CID}", "gzip, deflate", None),
        (f"/customers/{CID}", "gzip, br;q=0", None),
        (f"/customers/{CID}", "identity", None),
        ("/customers", "gzip", "gzip"),
        ("/customers", "br", None),
    ],
)
def test_compression_follows_accept_encoding(
    client: httpx.Client, app: SampleApp, path: str, accept_encoding: str, expected: str | None
) -> None:
    response = _get(client, app, CRM, path, **{"Accept-Encoding": accept_encoding})
    assert response.headers.get("content-encoding") == expected
    assert FIRST.name.full in response.text


def test_the_legacy_page_is_gb18030_on_the_wire(client: httpx.Client, app: SampleApp) -> None:
    response, raw = _raw(client, app, CRM, f"/customers/{CID}/legacy")
    assert response.headers["content-type"] == "text/html; charset=gb18030"
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    page = raw.decode("gb18030")
    assert FIRST.name.full in page and FIRST.address in page and "𠮷" in page
    assert FIRST.name.full.encode("gb18030") in raw
    assert len("𠮷".encode("gb18030")) == 4 and "𠮷".encode("gb18030") in raw


def test_the_legacy_json_is_ascii_with_u_escapes(client: httpx.Client, app: SampleApp) -> None:
    _, raw = _raw(client, app, CRM, f"/customers/{CID}/legacy.json")
    assert raw.isascii() and b"\\u" in raw
    assert FIRST.name.full.encode() not in raw
    assert json.loads(raw) == FIRST.as_json()


def test_the_contact_card_writes_characters_as_references(
    client: httpx.Client, app: SampleApp
) -> None:
    page = _get(client, app, CRM, f"/customers/{CID}/contact-card").text
    mobile = FIRST.mobile.shown
    assert f"&#{ord(mobile[0])};{html.escape(mobile[1:])}" in page
    assert f">{mobile}<" not in page
    assert f"&#x{ord(FIRST.name.full[0]):X};" in page
    assert _text(HTMLParser(page), "dd[data-field=mobile]") == mobile


def test_the_detail_page_embeds_the_record_as_json(client: httpx.Client, app: SampleApp) -> None:
    page = HTMLParser(_get(client, app, CRM, f"/customers/{CID}").text)
    embedded = json.loads(_text(page, 'script[type="application/json"]#customer-data'))
    assert embedded == _get(client, app, CRM, f"/api/customers/{CID}").json()
    assert _text(page, "dd.customer-name") == FIRST.name.full
    assert _text(page, ".customer-address") == FIRST.address
    holder_cells = [n.text() for n in page.css("#policies td[data-field=address]")]
    assert holder_cells == [FIRST.address] * len(FIRST.policies)


def test_the_list_uses_the_policys_name_and_address_selectors(
    client: httpx.Client, app: SampleApp
) -> None:
    page = HTMLParser(_get(client, app, CRM, "/customers?page=2&size=20").text)
    expected = DATASET.customers[20:40]
    assert [n.text() for n in page.css("td[data-field=name]")] == [c.name.full for c in expected]
    assert [n.text() for n in page.css("td[data-field=address]")] == [c.address for c in expected]


def test_json_also_under_customers_by_accept_or_suffix(
    client: httpx.Client, app: SampleApp
) -> None:
    by_accept = _get(client, app, CRM, f"/customers/{CID}", Accept="application/json")
    by_suffix = _get(client, app, CRM, f"/customers/{CID}.json")
    assert by_accept.headers["content-type"] == "application/json"
    assert by_accept.json() == by_suffix.json()
    record = by_suffix.json()
    assert record["name"] == FIRST.name.full
    assert all(p["holder"]["name"] == FIRST.name.full for p in record["policies"])
    assert [c["name"] for c in record["contacts"]] == [k.name for k in FIRST.contacts]


def test_some_contact_mobiles_are_json_numbers(client: httpx.Client, app: SampleApp) -> None:
    customers = _get(client, app, CRM, "/api/customers?size=200").json()["customers"]
    mobiles = [k["mobile"] for c in customers for k in c["contacts"]]
    assert any(isinstance(m, int) for m in mobiles) and any(isinstance(m, str) for m in mobiles)


def test_the_softphone_view_is_form_encoded(client: httpx.Client, app: SampleApp) -> None:
    fields = parse_qs(_get(client, app, CRM, f"/customers/{CID}/softphone").text)
    assert fields["name"] == [FIRST.name.full]
    assert fields["mobile"] == [FIRST.mobile.shown]


def test_the_admin_export_is_json_lines_of_every_customer(
    client: httpx.Client, app: SampleApp
) -> None:
    lines = _get(client, app, CRM, "/admin/export.jsonl").text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [c.id for c in DATASET.customers]


@pytest.mark.parametrize(
    ("query", "status", "count"),
    [
        ("size=1000", 200, 200),
        ("page=4&size=50", 200, 50),
        ("page=5&size=50", 200, 0),
        ("page=3&size=90", 200, 20),
        ("size=0", 400, None),
        ("size=1001", 400, None),
        ("page=-1", 400, None),
        ("page=１", 400, None),
    ],
)
def test_the_listing_pages(
    client: httpx.Client, app: SampleApp, query: str, status: int, count: int | None
) -> None:
    response = _get(client, app, CRM, f"/customers?{query}", Accept="application/json")
    assert response.status_code == status
    if count is not None:
        assert len(response.json()["customers"]) == count
        assert response.json()["total"] == 200


def test_chat_takes_json_and_forms_and_echoes_the_session(
    client: httpx.Client, app: SampleApp
) -> None:
    posted = _request(client, app, "POST", CHAT, "/messages/T-1", json={"text": "您好"})
    assert posted.status_code == 201
    form = _request(client, app, "POST", CHAT, "/messages/T-1", data={"text": "请稍等"})
    assert form.status_code == 201
    read = _get(client, app, CHAT, "/messages/T-1").json()
    assert [(m["from"], m["text"]) for m in read["messages"]] == [
        ("agent", "您好"),
        ("agent", "请稍等"),
    ]
    seeded = _get(client, app, CHAT, "/messages/S9001").json()["messages"]
    assert seeded[0]["text"] == DATASET.chats[0].messages[0].text


@pytest.mark.parametrize(
    ("kwargs", "status", "detail"),
    [
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "JSON"),
        ({"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}, 400, "UTF-8"),
        ({"json": ["text"]}, 422, "JSON object"),
        ({"json": {"text": "  "}}, 422, "'text'"),
        ({"json": {"text": "x" * 2001}}, 422, "'text'"),
        ({"content": b"text=hi", "headers": {"Content-Type": "text/plain"}}, 415, "text/plain"),
        ({"data": {"text": "x" * 70_000}}, 413, "at most"),
    ],
)
def test_chat_refuses_what_it_cannot_take(
    client: httpx.Client, app: SampleApp, kwargs: dict[str, Any], status: int, detail: str
) -> None:
    response = _request(client, app, "POST", CHAT, "/messages/S9002", **kwargs)
    assert response.status_code == status
    assert detail in response.json()["detail"]


def test_a_note_posted_as_a_form_shows_on_the_customer(
    client: httpx.Client, app: SampleApp
) -> None:
    customer = DATASET.customers[5]
    path = f"/customers/{customer.id}/notes"
    redirect = _request(
        client, app, "POST", CRM, path, data={"note": "回电确认"}, headers={"Accept": "text/html"}
    )
    assert redirect.status_code == 303
    assert redirect.headers["location"] == f"/customers/{customer.id}"
    as_json = _request(client, app, "POST", CRM, path, json={"note": "已处理"})
    assert as_json.status_code == 201
    assert as_json.json()["notes"] == ["回电确认", "已处理"]
    assert "回电确认" in _get(client, app, CRM, f"/customers/{customer.id}").text


@pytest.mark.parametrize("host", ["CRM.ACME.TEST", "crm.acme.test:443", "crm.acme.test."])
def test_the_host_is_matched_as_a_name(client: httpx.Client, app: SampleApp, host: str) -> None:
    url = f"https://127.0.0.1:{app.port}/customers/{CID}.json"
    response = client.get(url, headers={"Host": host}, extensions={"sni_hostname": CRM})
    assert response.json()["id"] == CID


def test_plain_http_serves_the_same_app(app: SampleApp) -> None:
    response = httpx.get(f"http://127.0.0.1:{app.http_port}/api/daily", headers={"Host": REPORTS})
    assert response.json()["summary"].startswith("共")
    assert app.url(KB, "/x", https=False) == f"http://kb.acme.test:{app.http_port}/x"


def test_a_client_that_trusts_another_ca_is_refused(app: SampleApp, tmp_path: Path) -> None:
    from homeagent.proxy.sample_app import ensure_certificates

    other = ensure_certificates(tmp_path)
    trust = ssl.create_default_context(cafile=str(other.ca_cert))
    with (
        httpx.Client(verify=trust) as stranger,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        stranger.get(f"https://127.0.0.1:{app.port}/", headers={"Host": KB})


_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_CARD = re.compile(r"(?<!\d)62\d{14,17}(?!\d)")


def test_the_ground_truth_lists_everything_served(client: httpx.Client, app: SampleApp) -> None:
    truth = app.ground_truth()
    served = _get(client, app, CRM, "/admin/export.json").text
    for article in _get(client, app, KB, "/api/articles").json()["articles"]:
        served += _get(client, app, KB, f"/api/articles/{article['slug']}").text
    for value in truth.pii:
        assert value.shown in served, value
    for look_alike in truth.look_alikes:
        assert look_alike.value in served, look_alike
    ascii_digits = served.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    canonical = {v.canonical for v in truth.pii} | {v.value for v in truth.look_alikes}
    assert set(_MOBILE.findall(ascii_digits)) <= canonical
    assert {i.upper() for i in _ID.findall(ascii_digits)} <= canonical | {
        v.value for v in truth.look_alikes
    }
    assert set(_CARD.findall(ascii_digits)) <= canonical


def test_stop_closes_the_port_and_a_taken_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SampleAppError, match=r"cannot listen on 127\.0\.0\.1"):
            start_sample_app(taken.getsockname()[1], tmp_path)
    running = start_sample_app(0, tmp_path, customer_count=3)
    port = running.port
    assert len(running.ground_truth().of_kind("cn_id")) == 3
    running.stop()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def test_the_command_line_serves_until_interrupted(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "homeagent.proxy.sample_app", "--port", "0"]
    command += ["--cert-dir", str(tmp_path), "--customers", "5"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        found = re.search(r"https://127\.0\.0\.1:(\d+)", process.stdout.readline())
        assert found is not None
        assert process.stdout.readline().strip() == f"demo CA: {tmp_path / 'ca.pem'}"
        trust = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with httpx.Client(verify=trust) as fresh:
            response = fresh.get(
                f"https://127.0.0.1:{found.group(1)}/api/customers",
                headers={"Host": CRM},
                extensions={"sni_hostname": CRM},
            )
        assert response.json()["total"] == 5
        process.send_signal(signal.SIGINT)  # as Ctrl-C
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
