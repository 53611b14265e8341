"""Fuzzing URL canonicalisation and access decisions: any text either parses or is refused as
ambiguous; the canonical form is stable; and every spelling of a URL that a server reads as the
same resource (case, percent-encoding, trailing dot, IDNA, full-width forms, numeric IP forms,
explicit default port) gets the decision the plain spelling gets, or is refused."""

from __future__ import annotations

import ipaddress
import re

from hypothesis import example, given
from hypothesis import strategies as st

from homeagent.proxy.core.access import AccessPolicy
from homeagent.proxy.core.policy.model import Policy
from homeagent.proxy.core.urls import (
    AmbiguousURLError,
    parse_pattern,
    parse_request_url,
    same_host,
)

from .fuzz_profile import FUZZ

# Characters that matter to URL parsing, and a sprinkling of any others.
_URL_CHARS = st.sampled_from(
    [
        *"abcAZ09-_.~/:@[]%?#&=+!$'()*,;\\ \t\x00\x7f",
        *["%2e", "%2E", "%2f", "%5c", "%00", "%25", "%ff", "%c3%a9", "%41", "..", "。", "．"],
        *["Ａ", "0x", "0177", "[::1]", "[fe80::1%25eth0]", "xn--", "中文", "ß", "\u200b", "\ufeff"],
    ]
)
_URLISH = st.lists(_URL_CHARS | st.characters(), max_size=40).map("".join)
_SCHEMES = st.sampled_from(["http", "https", "HTTPS", "hTtP", "ftp", "", "http:", "https:/"])


@st.composite
def url_texts(draw: st.DrawFn) -> str:
    """Strings shaped like absolute URLs, with every part open to mischief."""
    scheme = draw(_SCHEMES)
    host = draw(_URLISH | st.sampled_from(["crm.acme.test", "127.0.0.1", "[::1]", "中文.test"]))
    port = draw(st.sampled_from(["", ":", ":443", ":0443", ":99999", ":-1", ":x", ": 80"]))
    path = draw(_URLISH)
    tail = draw(st.sampled_from(["", "?", "#", "?a=b", "#f"])) + draw(_URLISH)
    return f"{scheme}://{host}{port}{path}{tail}"


@FUZZ
@given(st.one_of(url_texts(), st.text(max_size=60)))
@example("http://[fe80::1%25eth0]/")
@example("http://０x7f.1/")
def test_any_text_parses_or_is_refused_as_ambiguous(text: str) -> None:
    try:
        url = parse_request_url(text)
    except AmbiguousURLError:
        return
    assert url.scheme in ("http", "https")
    assert 0 <= url.port <= 65535
    assert url.path.startswith("/")
    segments = url.path.split("/")
    assert "." not in segments and ".." not in segments
    assert not re.search(r"[\x00-\x20\x7f\\]", url.path)
    assert url.host == url.host.lower() and url.host.isascii()
    assert "%" not in url.host


@FUZZ
@given(st.one_of(url_texts(), st.text(max_size=60)))
@example("http://h/a%3Fb")
@example("http://h/a%23b")
def test_the_canonical_form_reads_back_as_itself(text: str) -> None:
    try:
        once = parse_request_url(text)
    except AmbiguousURLError:
        return
    try:
        twice = parse_request_url(str(once))
    except AmbiguousURLError:
        # A decoded path may now hold a '%' that reads as an escape: refused, not guessed.
        assert "%" in once.path
        return
    assert twice == once


@FUZZ
@given(st.one_of(url_texts(), st.text(max_size=60)), st.text(max_size=30) | _URLISH)
def test_any_authority_is_compared_or_refused(text: str, authority: str) -> None:
    try:
        url = parse_request_url(text)
    except AmbiguousURLError:
        url = parse_request_url("https://crm.acme.test/")
    try:
        same = same_host(url, authority)
    except AmbiguousURLError:
        return
    if same:
        # a host that names the URL's host reads, as a URL of its own, as that host
        assert parse_request_url(f"{url.scheme}://{authority}/").host == url.host


@st.composite
def pattern_texts(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "*", "ftp", "HTTP"]))
    host = draw(_URLISH | st.sampled_from(["*", "*.acme.test", "crm.*.test", "[::1]", "[x]"]))
    port = draw(st.sampled_from(["", ":*", ":8443", ":", ":99999999999"]))
    path = draw(_URLISH | st.sampled_from(["/**", "/a/**/b", "/*", "/a/*/c/**", "/./a"]))
    return f"{scheme}://{host}{port}{path}"


@FUZZ
@given(st.one_of(pattern_texts(), st.text(max_size=60)), st.one_of(url_texts(), st.text()))
def test_any_pattern_parses_or_says_why_and_matching_never_raises(text: str, url: str) -> None:
    try:
        pattern = parse_pattern(text)
    except ValueError:
        return
    try:
        request = parse_request_url(url)
    except AmbiguousURLError:
        return
    exact = pattern.matches(request)
    folded = pattern.matches(request, ignore_case=True)
    assert isinstance(exact, bool) and isinstance(folded, bool)
    if exact:
        assert pattern.matches_host(request)


# The security properties: one policy, many spellings of the URLs it names.

_POLICY = Policy.model_validate(
    {
        "notice": {"version": "t", "zh": "承诺", "en": "notice"},
        "roles": {
            "inbound": {
                "allow": [
                    {"name": "customers", "url": "*://*:*/customers/**", "methods": ["*"]},
                    {"name": "kb", "url": "https://kb.acme.test/**", "methods": ["GET"]},
                ],
                "deny": [
                    {"name": "loopback", "url": "*://127.0.0.1:*/**"},
                    {"name": "ipv6-loopback", "url": "*://[::1]:*/**"},
                    {"name": "idn", "url": "https://xn--fiq228c.test/customers/**"},
                    {"name": "export", "url": "*://*.acme.test:*/customers/*/export/**"},
                    {"name": "plain-http", "url": "http://crm.acme.test/**"},
                    {"name": "kb-admin", "url": "https://kb.acme.test/admin/**"},
                ],
            }
        },
    }
)
_ACCESS = AccessPolicy(_POLICY)

_IP_SPELLINGS = {
    "127.0.0.1": ["127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.0.0.1"],
    "[::1]": ["[::1]", "[0:0::1]", "[0:0:0:0:0:0:0:1]", "[::0001]"],
}
_FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyz0123456789."}
_FULL_WIDTH["."] = "．"


def _spell_host(draw: st.DrawFn, host: str) -> str:
    """A spelling of `host` that a resolver reads as the same host."""
    if host in _IP_SPELLINGS:
        host = draw(st.sampled_from(_IP_SPELLINGS[host]))
        if host.startswith("["):
            return host.upper() if draw(st.booleans()) else host
    elif host == "xn--fiq228c.test":
        host = draw(st.sampled_from(["xn--fiq228c.test", "中文.test", "XN--FIQ228C.test"]))
    chars = []
    for char in host:
        kind = draw(st.sampled_from(["same", "upper", "full"]))
        if kind == "upper":
            chars.append(char.upper())
        elif kind == "full" and char.lower() in _FULL_WIDTH:
            chars.append(_FULL_WIDTH[char.lower()])
        else:
            chars.append(char)
    host = "".join(chars)
    if draw(st.booleans()):
        host += "."
    return host


def _spell_path(draw: st.DrawFn, path: str, *, change_case: bool) -> str:
    chars = []
    for char in path:
        if char != "/" and draw(st.booleans()):
            chars.append("".join(f"%{b:02X}" for b in char.encode()))
        elif change_case and draw(st.booleans()):
            chars.append(char.swapcase())
        else:
            chars.append(char)
    return "".join(chars)


_SEGMENT = st.from_regex(r"[a-z0-9_~-]{1,8}", fullmatch=True) | st.sampled_from(
    ["customers", "export", "admin", "中文", "é"]
)


@st.composite
def spelt_urls(draw: st.DrawFn) -> tuple[str, str, bool]:
    """(plain URL, another spelling of it, whether the spelling changed the path's case)."""
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(
        st.sampled_from(
            ["crm.acme.test", "kb.acme.test", "127.0.0.1", "[::1]", "xn--fiq228c.test", "a.test"]
        )
    )
    first = draw(st.sampled_from(["customers", "admin", "other"]))
    segments = [first, *draw(st.lists(_SEGMENT, max_size=4))]
    path = "/" + "/".join(segments)
    plain = f"{scheme}://{host}{path}"
    change_case = draw(st.booleans())
    port = draw(st.sampled_from(["", f":{80 if scheme == 'http' else 443}"]))
    spelt_scheme = "".join(c.upper() if draw(st.booleans()) else c for c in scheme)
    spelt = (
        f"{spelt_scheme}://{_spell_host(draw, host)}{port}"
        f"{_spell_path(draw, path, change_case=change_case)}"
    )
    return plain, spelt, change_case


@FUZZ
@given(spelt_urls(), st.sampled_from(["GET", "POST", "get", "DELETE"]))
@example(("https://127.0.0.1/customers", "https://０x7f.1/customers", False), "GET")
@example(("https://[::1]/customers", "https://[::1%25x]/customers", False), "GET")
@example(("https://127.0.0.1/customers", "https://１２７.1/customers", False), "GET")
def test_every_spelling_of_a_url_gets_its_decision_or_is_refused(
    urls: tuple[str, str, bool], method: str
) -> None:
    plain, spelt, case_changed = urls
    first = _ACCESS.decide("inbound", method, plain)
    other = _ACCESS.decide("inbound", method, spelt)
    if not first.allowed:
        assert not other.allowed, (plain, spelt, first.rule, other.rule)
    # a spelling may be refused, or (path case changed) miss a case-sensitive allow rule; it
    # never allows what the plain spelling does not, nor by another rule
    if other.allowed:
        assert first.allowed and other.rule == first.rule
    if not case_changed and other.rule != "ambiguous-url":
        assert (other.decision, other.rule) == (first.decision, first.rule)
        assert other.url == first.url
    if first.rule.endswith(("loopback", "idn", "export", "kb-admin", "plain-http")):
        assert other.decision == "deny"


def _reference(method: str, url: str) -> tuple[str, set[str]]:
    """The decision and the rules that could make it, rule by rule, the slow and obvious way."""
    request = parse_request_url(url)
    role = _POLICY.roles["inbound"]
    denies = {
        f"inbound.{r.name}"
        for r in role.deny
        if ("*" in r.methods or method in r.methods)
        and parse_pattern(r.url).matches_host(request)
        and re.fullmatch(parse_pattern(r.url).path_regex.pattern, request.path, re.I | re.S)
    }
    if denies:
        return "deny", denies
    allows = {
        f"inbound.{r.name}"
        for r in role.allow
        if ("*" in r.methods or method in r.methods) and parse_pattern(r.url).matches(request)
    }
    return ("allow", allows) if allows else ("deny", {"default-deny"})


@FUZZ
@given(spelt_urls(), st.sampled_from(["GET", "POST", "DELETE"]))
def test_fused_decisions_agree_with_rule_by_rule_matching(
    urls: tuple[str, str, bool], method: str
) -> None:
    for url in urls[:2]:
        try:
            expected, rules = _reference(method, url)
        except AmbiguousURLError:
            assert _ACCESS.decide("inbound", method, url).rule == "ambiguous-url"
            continue
        decision = _ACCESS.decide("inbound", method, url)
        assert decision.decision == expected
        assert decision.rule in rules


def test_ip_spellings_are_one_address() -> None:
    # guards the table the properties draw from: each spelling is the address it claims
    for canonical, spellings in _IP_SPELLINGS.items():
        address = ipaddress.ip_address(canonical.strip("[]"))
        for spelling in spellings:
            assert parse_request_url(f"http://{spelling}/").host == str(address)
