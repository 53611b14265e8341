"""URL canonicalisation and patterns: every URL trick in DESIGN.md's threat list is refused or
folded to the one form policy matches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeagent.proxy.core.urls import (
    AmbiguousURLError,
    canonical_host,
    parse_pattern,
    parse_request_url,
    same_host,
)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://CRM.Acme.Test/customers/1", "https://crm.acme.test/customers/1"),
        ("https://crm.acme.test./customers/1", "https://crm.acme.test/customers/1"),
        ("https://crm.acme.test:443/customers/1", "https://crm.acme.test/customers/1"),
        ("https://crm.acme.test/%63ustomers/%31", "https://crm.acme.test/customers/1"),
        ("https://crm.acme.test", "https://crm.acme.test/"),
        ("https://crm.acme.test/a?b=%2F..", "https://crm.acme.test/a?b=%2F.."),
        ("http://0x7f.0.0.1/", "http://127.0.0.1/"),
        ("http://0177.0.0.1/", "http://127.0.0.1/"),
        ("http://2130706433/", "http://127.0.0.1/"),
        ("http://127.1/", "http://127.0.0.1/"),
        ("http://[0:0::1]:8080/x", "http://[::1]:8080/x"),
        ("https://中文.test/", "https://xn--fiq228c.test/"),
        ("https://ＣＲＭ.acme.test/", "https://crm.acme.test/"),
    ],
)
def test_urls_fold_to_one_canonical_form(url: str, canonical: str) -> None:
    assert str(parse_request_url(url)) == canonical


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://crm.acme.test/customers/../admin", "dot segment"),
        ("https://crm.acme.test/customers/./1", "dot segment"),
        ("https://crm.acme.test/customers/%2e%2e/admin", "dot segment"),
        ("https://crm.acme.test/customers/%2E./admin", "dot segment"),
        ("https://crm.acme.test/customers%2f1", "encoded"),
        ("https://crm.acme.test/customers%5c1", "encoded"),
        ("https://crm.acme.test/customers/%252e%252e/admin", "encoded"),
        ("https://crm.acme.test/customers/1%00", "encoded"),
        ("https://crm.acme.test/customers\\..\\admin", "backslash"),
        ("https://crm.acme.test/cust omers", "space"),
        ("https://crm.acme.test/a\x00b", "control"),
        ("https://user@crm.acme.test/", "user info"),
        ("https://crm.acme.test:pass@evil.test/", "user info"),
        ("https://crm.acme.test/a#frag", "fragment"),
        ("ftp://crm.acme.test/", "scheme"),
        ("https://crm..acme.test/", "bad host"),
        ("https://-crm.acme.test/", "bad host"),
        ("https://crm.acme.test%2f@evil/", "user info"),
        ("http://256.1.1.1/", "out of range"),
        ("https://crm.acme.test/%ff%fe", "not UTF-8"),
        ("https://crm.acme.test:99999/", "cannot parse"),
    ],
)
def test_ambiguous_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(AmbiguousURLError, match=why):
        parse_request_url(url)


@given(st.text(alphabet="abc/.%2eEfF5c", max_size=30))
def test_no_accepted_path_ever_holds_a_dot_segment(path: str) -> None:
    try:
        url = parse_request_url("https://crm.acme.test/" + path)
    except AmbiguousURLError:
        return
    segments = url.path.split("/")
    assert "." not in segments and ".." not in segments
    assert "\\" not in url.path


@given(st.from_regex(r"https://[a-z]{1,8}\.test(/[a-zA-Z0-9%]{0,6}){0,4}", fullmatch=True))
def test_canonical_form_is_a_fixed_point(url: str) -> None:
    try:
        once = parse_request_url(url)
    except AmbiguousURLError:
        return
    try:
        twice = parse_request_url(str(once))
    except AmbiguousURLError:
        # A decoded path may now hold a '%' that reads as an escape: refused, not guessed.
        assert "%" in once.path
        return
    assert twice == once


def test_host_header_and_sni_are_compared_in_canonical_form() -> None:
    url = parse_request_url("https://crm.acme.test/customers/1")
    assert same_host(url, "CRM.acme.test.")
    assert same_host(url, "crm.acme.test:443")
    assert not same_host(url, "crm.acme.test:8443")
    assert not same_host(url, "evil.test")
    with pytest.raises(AmbiguousURLError):
        same_host(url, "crm.acme.test:x")


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("https://crm.acme.test/customers/**", "https://crm.acme.test/customers", True),
        ("https://crm.acme.test/customers/**", "https://crm.acme.test/customers/", True),
        ("https://crm.acme.test/customers/**", "https://crm.acme.test/customers/1/notes/2", True),
        ("https://crm.acme.test/customers/**", "https://crm.acme.test/customersX", False),
        ("https://crm.acme.test/customers/**", "http://crm.acme.test/customers/1", False),
        ("https://crm.acme.test/customers/**", "https://crm.acme.test:8443/customers/1", False),
        ("https://crm.acme.test:*/customers/**", "https://crm.acme.test:8443/customers/1", True),
        (
            "https://crm.acme.test/customers/*/notes",
            "https://crm.acme.test/customers/7/notes",
            True,
        ),
        (
            "https://crm.acme.test/customers/*/notes",
            "https://crm.acme.test/customers/7/8/notes",
            False,
        ),
        ("https://*.acme.test/**", "https://kb.acme.test/x", True),
        ("https://*.acme.test/**", "https://acme.test/x", False),
        ("https://*.acme.test/**", "https://evilacme.test/x", False),
        ("*://kb.acme.test/**", "http://kb.acme.test/x", True),
        ("https://kb.acme.test", "https://kb.acme.test/deep/page", True),
    ],
)
def test_patterns(pattern: str, url: str, matches: bool) -> None:
    assert parse_pattern(pattern).matches(parse_request_url(url)) is matches


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("crm.acme.test/**", "not of the form"),
        ("ftp://crm.acme.test/**", "not of the form"),
        ("https://crm.*.test/**", "first label"),
        ("https://crm.acme.test/a/**/b", "may only end"),
        ("https://crm.acme.test/a/../b", "dot segments"),
    ],
)
def test_bad_patterns_are_refused(pattern: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_pattern(pattern)


def test_canonical_host_rejects_percent_and_spaces() -> None:
    for host in ("crm%2eacme.test", "crm acme.test", ""):
        with pytest.raises(AmbiguousURLError):
            canonical_host(host)
