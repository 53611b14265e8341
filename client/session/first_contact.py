"""The first contact with a gateway, before this PC has its CA: which CA to trust for sending
the one-time code.

Either the agent was given the CA file (`--ca FILE`: verified from the first byte), or trust
on first use: the CA is read from the gateway's own TLS handshake (its chain ends in the CA),
its SHA-256 fingerprint is shown, and the code is sent only once the agent confirmed it (or
`--ca-fingerprint` matches, for scripts). Either way the code then travels over TLS verified
against that CA, and the enrolment answer must name the same CA."""

from __future__ import annotations

import hashlib
import socket
import ssl
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..checks.result import Hint
from .errors import GatewayUnreachableError, SessionError

HANDSHAKE_TIMEOUT_S = 10.0


def parse_gateway_url(url: str) -> tuple[str, int]:
    """(host, port) of `https://host[:port]`, or SessionError saying what to type."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
        raise SessionError(
            Hint(
                zh=f"网关地址 {url} 无效：应为 https://主机:端口（由安全管理员提供）",
                en=f"The gateway address {url} is not valid: give https://host:port (your "
                "security officer has it)",
            ),
            code="invalid_gateway_url",
        )
    try:
        port = parts.port or 443
    except ValueError:
        raise SessionError(
            Hint(zh=f"网关地址 {url} 的端口无效", en=f"The port in {url} is not valid"),
            code="invalid_gateway_url",
        ) from None
    return parts.hostname, port


def ca_fingerprint(ca_pem: str | bytes) -> str:
    """SHA-256 of the CA certificate (DER), upper-case hex in pairs, as `openssl x509
    -fingerprint -sha256` prints it, so the officer can read out the same figure."""
    data = ca_pem.encode() if isinstance(ca_pem, str) else ca_pem
    der = x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def same_fingerprint(given: str, actual: str) -> bool:
    def canonical(text: str) -> str:
        return "".join(c for c in text.upper() if c in "0123456789ABCDEF")

    return canonical(given) == canonical(actual)


def offered_ca(host: str, port: int) -> str:
    """The CA certificate (PEM) at the end of the chain the gateway presents, read without
    verifying it (there is nothing to verify it against yet). Only its fingerprint, confirmed
    by the agent, makes it trusted."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=HANDSHAKE_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            chain = _unverified_chain(tls)
    except (OSError, ssl.SSLError) as err:
        raise GatewayUnreachableError(f"{host}:{port}: {err.strerror or err}") from err
    issuers = [cert for cert in chain if _is_ca(cert)]
    if not issuers:
        raise SessionError(
            Hint(
                zh="网关未提供其证书颁发机构（CA）：请向安全管理员索取 CA 文件，"
                "并用 --ca 文件 登记",
                en="The gateway did not present its certificate authority (CA): ask your "
                "security officer for the CA file and enrol with --ca FILE",
            ),
            code="no_ca_offered",
        )
    return issuers[-1].public_bytes(serialization.Encoding.PEM).decode()


def _unverified_chain(tls: ssl.SSLSocket) -> list[x509.Certificate]:
    # Public from Python 3.13; 3.12 has it on the underlying _ssl object.
    getter = getattr(tls, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    if getter is None:
        leaf = tls.getpeercert(binary_form=True)
        return [x509.load_der_x509_certificate(leaf)] if leaf else []
    chain = getter() or []
    certificates = []
    for cert in chain:
        # Each entry's public_bytes() gives PEM text by default (3.12 private, 3.13 public).
        pem = cert.public_bytes()
        certificates.append(x509.load_pem_x509_certificate(pem.encode()))
    return certificates


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca
