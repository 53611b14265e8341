"""The forwarder's pure parts: reading a request head strictly, writing it for the gateway with
the token, the pages it answers itself, and the session file as the token provider."""

from __future__ import annotations

import html
import os
from pathlib import Path

import pytest

from homeagent.client.forward import SessionWatch
from homeagent.client.forward.browser_setup import browser_setup
from homeagent.client.forward.gateway import split_host_port
from homeagent.client.forward.pages import PAGES, render, response
from homeagent.client.forward.request_head import (
    CHUNKED,
    BadRequestError,
    chunk_size,
    parse_head,
)
from homeagent.client.state import SESSION_FILE, Session, clear_session, save_session


def test_every_proxy_authorization_is_replaced_by_the_token() -> None:
    head = parse_head(
        b"GET http://crm.acme.test/x HTTP/1.1\r\nHost: crm.acme.test\r\n"
        b"proxy-authorization: Bearer someone-else\r\nAccept: */*\r\n"
        b"PROXY-AUTHORIZATION: Basic YTpi\r\n\r\n"
    )
    sent = head.for_gateway("ha1.mine").decode()
    assert sent == (
        "GET http://crm.acme.test/x HTTP/1.1\r\nHost: crm.acme.test\r\nAccept: */*\r\n"
        "Proxy-Authorization: Bearer ha1.mine\r\n\r\n"
    )


@pytest.mark.parametrize("token", ["a b", "a\r\nX-Injected: 1", "", "ä"])
def test_a_token_a_header_cannot_carry_is_refused(token: str) -> None:
    head = parse_head(b"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n")
    with pytest.raises(ValueError, match="token"):
        head.for_gateway(token)


@pytest.mark.parametrize(
    ("raw", "length"),
    [
        (b"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 0),
        (b"POST http://h/ HTTP/1.1\r\nContent-Length: 12\r\n\r\n", 12),
        (b"POST http://h/ HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", 5),
        (b"POST http://h/ HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", CHUNKED),
        (b"CONNECT crm.acme.test:443 HTTP/1.1\r\nHost: crm.acme.test:443\r\n\r\n", 0),
    ],
)
def test_body_framing(raw: bytes, length: int) -> None:
    assert parse_head(raw).body_length == length


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"GET http://h/ HTTP/1.1\r\nHost: h\r\n", "blank line"),
        (b"GET http://h/ HTTP/1.1\nHost: h\r\n\r\n", "bare CR"),
        (b"GET  http://h/ HTTP/1.1\r\n\r\n", "request line"),
        (b"GET http://h/ HTTP/0.9\r\n\r\n", "HTTP/1.0"),
        (b"GET http://h/\x7f HTTP/1.1\r\n\r\n", "control"),
        (b"GET http://h/ HTTP/1.1\r\nHost : h\r\n\r\n", "malformed"),
        (b"GET http://h/ HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "malformed"),
        (b"POST http://h/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "one"),
        (b"POST http://h/ HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n", "one plain number"),
        (b"POST http://h/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "one plain number"),
        (b"POST http://h/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "other than"),
        (
            b"POST http://h/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            "both",
        ),
        (b"POST http://h/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.0"),
        (b"CONNECT h:443 HTTP/1.1\r\nContent-Length: 4\r\n\r\n", "CONNECT"),
    ],
)
def test_heads_two_parsers_could_read_two_ways_are_refused(raw: bytes, match: str) -> None:
    with pytest.raises(BadRequestError, match=match):
        parse_head(raw)


def test_local_connect_and_upgrade_requests_are_told_apart() -> None:
    assert parse_head(b"GET /proxy.pac HTTP/1.1\r\n\r\n").is_local
    assert not parse_head(b"GET http://h/proxy.pac HTTP/1.1\r\n\r\n").is_local
    assert parse_head(b"CONNECT h:443 HTTP/1.1\r\n\r\n").is_connect
    assert parse_head(b"GET http://h/ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").upgrades


@pytest.mark.parametrize(("line", "size"), [(b"1a\r\n", 26), (b"0\r\n", 0), (b"FF;x=1\r\n", 255)])
def test_chunk_sizes(line: bytes, size: int) -> None:
    assert chunk_size(line) == size


@pytest.mark.parametrize("line", [b"\r\n", b"-1\r\n", b"0x10\r\n", b"1" * 16 + b"\r\n"])
def test_bad_chunk_sizes(line: bytes) -> None:
    with pytest.raises(BadRequestError):
        chunk_size(line)


@pytest.mark.parametrize(
    ("address", "parts"),
    [("gw.acme.example:8080", ("gw.acme.example", 8080)), ("[::1]:443", ("::1", 443))],
)
def test_gateway_addresses(address: str, parts: tuple[str, int]) -> None:
    assert split_host_port(address) == parts


@pytest.mark.parametrize("address", ["gw.acme.example", ":80", "h:0", "h:http", "h:70000"])
def test_bad_gateway_addresses(address: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        split_host_port(address)


@pytest.mark.parametrize("code", sorted(PAGES))
def test_every_page_speaks_both_languages(code: str) -> None:
    status, content_type, body = render(code, "text/html,application/xhtml+xml")
    page = PAGES[code]
    text = body.decode()
    assert status == page.status and content_type.startswith("text/html")
    assert page.title.zh in text and html.escape(page.advice.en) in text
    status, content_type, body = render(code)
    assert content_type.startswith("text/plain")
    assert body.decode().count("\n") == 2  # one line in Chinese, one in English
    head, _, rest = response(code, head_only=True).partition(b"\r\n\r\n")
    assert rest == b"" and f"Content-Length: {len(body)}".encode() in head


def test_the_session_file_is_the_token_provider(tmp_path: Path) -> None:
    now = [1_000.0]
    watch = SessionWatch(tmp_path, clock=lambda: now[0])
    assert watch() is None  # not clocked in
    save_session(Session("ha1.first", 2_000.0), tmp_path)
    assert watch() == "ha1.first"
    save_session(Session("ha1.renewed", 3_000.0), tmp_path)
    assert watch() == "ha1.renewed"  # a renewed token is picked up at once
    now[0] = 3_000.0
    assert watch() is None  # expired
    now[0] = 1_000.0
    (tmp_path / SESSION_FILE).write_text("{not json")
    os.utime(tmp_path / SESSION_FILE, ns=(1, 1))  # a change the stamp must notice
    assert watch() is None  # damaged: no session, and no exception
    save_session(Session("ha1.again", 2_000.0), tmp_path)
    assert watch() == "ha1.again"
    clear_session(tmp_path)
    assert watch() is None  # clock-out


@pytest.mark.parametrize(("lang", "words"), [("zh", "自动代理配置"), ("en", "automatic proxy")])
def test_how_to_set_the_browser_fits_two_lines(lang: str, words: str) -> None:
    text = browser_setup("http://127.0.0.1:17080/proxy.pac", "127.0.0.1", 17080)(lang)
    pac, manual = text.split("\n")
    assert words in pac and pac.endswith("http://127.0.0.1:17080/proxy.pac")
    assert "127.0.0.1" in manual and "17080" in manual
