"""Request URLs made canonical for policy matching, and the URL patterns policies are written in.

Anything a server could read two ways — an encoded `/` or `\\`, dot segments, NUL, user info,
a host that is not a plain name or address — is refused here as ambiguous, never guessed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
ANY_PORT = -1
DEFAULT_PORT = 0


class AmbiguousURLError(ValueError):
    """The URL can be read more than one way; policy denies it rather than guess."""


@dataclass(frozen=True, slots=True)
class RequestURL:
    """A request target in canonical form: what policy rules are matched against."""

    scheme: str
    host: str
    port: int
    path: str
    """Percent-decoded path; never contains dot segments, encoded slashes or backslashes."""
    query: str

    def __str__(self) -> str:
        port = "" if DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?{self.query}" if self.query else ""
        # a decoded `?` or `#` is part of the path: spelt encoded, the URL reads back as itself
        path = self.path.replace("?", "%3F").replace("#", "%23")
        return f"{self.scheme}://{host}{port}{path}{query}"


_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_NEEDS_CARE = re.compile(r"[\x00-\x20\x7f\\%]|[^\x00-\x7f]")
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c|00|25)", re.IGNORECASE)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$")


@lru_cache(maxsize=8192)
def canonical_host(raw: str) -> str:
    """Lower case, one trailing dot dropped, IDNA to ASCII, IP literals in their one true form."""
    host = raw.strip()
    if host.startswith("[") and host.endswith("]"):
        if "%" in host:
            # a zone ID (`fe80::1%25eth0`) names an interface, and `[::1%25x]` would slip past
            # a rule for `[::1]` while reaching it
            raise AmbiguousURLError(f"IPv6 literal {raw!r} carries a zone ID")
        try:
            return ipaddress.IPv6Address(host[1:-1]).compressed
        except ValueError as err:
            raise AmbiguousURLError(f"bad IPv6 literal {raw!r}") from err
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host or "%" in host or _FORBIDDEN_CHARS.search(host):
        raise AmbiguousURLError(f"bad host {raw!r}")
    if _NUMERIC_HOST.match(host):
        return _inet_aton(host)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as err:
            raise AmbiguousURLError(f"host {raw!r} is not a valid international name") from err
        # IDNA folds full-width forms to ASCII: `０x7f.1` is the address 127.0.0.1
        if host.endswith("."):
            host = host[:-1]
        if _NUMERIC_HOST.match(host):
            return _inet_aton(host)
    labels = host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise AmbiguousURLError(f"bad host {raw!r}")
    return host


def _inet_aton(host: str) -> str:
    """Read a numeric host the way inet_aton does (`0177.1`, `0x7f000001`, `2130706433`)."""
    parts = host.rstrip(".").split(".")
    try:
        numbers = [
            int(p, 16)
            if p.startswith("0x")
            else int(p, 8 if p.startswith("0") and len(p) > 1 else 10)
            for p in parts
        ]
    except ValueError as err:
        raise AmbiguousURLError(f"bad numeric host {host!r}") from err
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        raise AmbiguousURLError(f"numeric host {host!r} out of range")
    value = 0
    for n in leading:
        value = value * 256 + n
    value = value * 256 ** (5 - len(numbers)) + last
    return str(ipaddress.IPv4Address(value))


def canonical_path(raw: str) -> str:
    """Percent-decoded path, refusing what servers disagree on."""
    if not raw:
        return "/"
    if not raw.startswith("/"):
        raise AmbiguousURLError("path does not start with '/'")
    if not _NEEDS_CARE.search(raw) and "/." not in raw:
        return raw  # the common case: nothing encoded, nothing to refuse
    if _FORBIDDEN_CHARS.search(raw):
        raise AmbiguousURLError("path holds a control character, space or backslash")
    if _ENCODED_SEPARATOR.search(raw):
        raise AmbiguousURLError("path holds an encoded '/', '\\', '%' or NUL")
    try:
        path = unquote(raw, errors="strict")
    except UnicodeDecodeError as err:
        raise AmbiguousURLError("path holds percent-encoded bytes that are not UTF-8") from err
    if _FORBIDDEN_CHARS.search(path):
        raise AmbiguousURLError("path holds an encoded control character")
    for segment in path.split("/"):
        if segment in (".", ".."):
            raise AmbiguousURLError("path holds a dot segment")
    return path


def parse_request_url(url: str) -> RequestURL:
    """Canonical form of an absolute request URL, or AmbiguousURLError."""
    if _FORBIDDEN_CHARS.search(url):
        raise AmbiguousURLError("URL holds a control character, space or backslash")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise AmbiguousURLError(f"cannot parse URL: {err}") from err
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise AmbiguousURLError(f"scheme {parts.scheme!r} is not http or https")
    if "@" in parts.netloc:
        raise AmbiguousURLError("URL carries user info ('user@host')")
    if parts.fragment:
        raise AmbiguousURLError("a request URL does not carry a fragment")
    raw_host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    if parts.netloc.endswith(":"):
        raw_host = parts.netloc[:-1]
    host = canonical_host(raw_host)
    return RequestURL(
        scheme=scheme,
        host=host,
        port=port if port is not None else DEFAULT_PORTS[scheme],
        path=canonical_path(parts.path),
        query=parts.query,
    )


def same_host(url: RequestURL, authority: str) -> bool:
    """Does `authority` (a Host header, CONNECT target or SNI: `host[:port]`) name the URL's
    host and port? A port left out means the URL scheme's default."""
    host, port = authority, None
    if authority.startswith("["):
        host, _, rest = authority.partition("]")
        host += "]"
        port = rest[1:] if rest.startswith(":") else None
    elif authority.count(":") == 1:
        host, port = authority.split(":")
    if port is not None and not port.isdigit():
        raise AmbiguousURLError(f"bad port in {authority!r}")
    expected = DEFAULT_PORTS[url.scheme] if port is None else int(port)
    return canonical_host(host) == url.host and expected == url.port


@dataclass(frozen=True, slots=True)
class URLPattern:
    """`scheme://host[:port]/path-glob` as officers write it.

    scheme: `http`, `https` or `*`. host: a name, `*.name` (any subdomain, not the name itself),
    an IP literal, or `*`. port: a number or `*`; left out, the scheme's default. path: `*` stands
    for any characters within one segment, a trailing `/**` for the folder itself and anything
    below it at any depth.
    """

    text: str
    schemes: frozenset[str]
    host: str
    port: int
    """A port number; ANY_PORT; or DEFAULT_PORT, the scheme's own."""
    path_regex: re.Pattern[str]

    @property
    def host_is_exact(self) -> bool:
        return not self.host.startswith("*")

    def matches_host(self, url: RequestURL) -> bool:
        if url.scheme not in self.schemes:
            return False
        expected = DEFAULT_PORTS[url.scheme] if self.port == DEFAULT_PORT else self.port
        if expected != ANY_PORT and url.port != expected:
            return False
        if self.host == "*":
            return True
        if self.host.startswith("*."):
            return url.host.endswith(self.host[1:])
        return url.host == self.host

    def matches(self, url: RequestURL, *, ignore_case: bool = False) -> bool:
        if not self.matches_host(url):
            return False
        path = url.path.lower() if ignore_case else url.path
        return self.path_regex.fullmatch(path) is not None


_PATTERN = re.compile(
    r"^(?P<scheme>\*|https?)://(?P<host>\[[^\]]+\]|[^/:]+)(?::(?P<port>\*|\d+))?(?P<path>/.*)?$"
)


def glob_to_regex(glob: str) -> str:
    """Path glob → regex source (`*` within a segment, trailing `/**` any depth)."""
    suffix = ""
    if glob.endswith("/**"):
        glob, suffix = glob[:-3], "(?:/.*)?"
    if "**" in glob:
        raise ValueError("'**' may only end a path, as '/**'")
    return (
        "".join("[^/]*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", glob))
        + suffix
    )


@lru_cache(maxsize=4096)
def parse_pattern(text: str) -> URLPattern:
    """A URL pattern from policy, or ValueError saying what is wrong with it."""
    match = _PATTERN.match(text.strip())
    if not match:
        raise ValueError(
            f"URL pattern {text!r} is not of the form scheme://host[:port]/path "
            "(scheme http, https or *)"
        )
    scheme, host, port, path = match.group("scheme", "host", "port", "path")
    schemes = frozenset(DEFAULT_PORTS) if scheme == "*" else frozenset({scheme})
    if host != "*":
        wildcard = host.startswith("*.")
        name = host[2:] if wildcard else host
        if "*" in name:
            raise ValueError(
                f"host {host!r}: '*' may only stand alone or as the first label ('*.example.com')"
            )
        try:
            name = canonical_host(name)
        except AmbiguousURLError as err:
            raise ValueError(str(err)) from err
        host = f"*.{name}" if wildcard else name
    path = path or "/**"
    if any(segment in (".", "..") for segment in path.split("/")):
        raise ValueError("a path pattern may not hold dot segments")
    return URLPattern(
        text=text,
        schemes=schemes,
        host=host,
        port=DEFAULT_PORT if port is None else ANY_PORT if port == "*" else int(port),
        path_regex=re.compile(glob_to_regex(path), re.DOTALL),
    )
