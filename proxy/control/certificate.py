"""The control API's TLS certificate, issued by the gateway CA (the CA mitmproxy intercepts with,
which enrolment hands to the client), so one pinned CA covers the control API and the proxy."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 90
"""Short: the gateway can issue a new one at every start."""

CaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_USAGE = dict(
    content_commitment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
    crl_sign=False,
    key_cert_sign=False,
)


class CertificateError(ValueError):
    """The gateway CA cannot issue the control API's certificate; the message says why."""


def control_certificate(
    ca_cert_pem: bytes | str,
    ca_key_pem: bytes | str,
    hostnames: Sequence[str],
    *,
    days: int = VALID_DAYS,
    now: dt.datetime | None = None,
) -> tuple[bytes, bytes]:
    """(certificate chain PEM: server then CA; private key PEM) for `hostnames` (DNS names or
    IP addresses). `ca_key_pem` may hold the CA certificate too (mitmproxy's
    `mitmproxy-ca.pem`)."""
    if not hostnames:
        raise CertificateError("the control API's certificate needs at least one host name")
    try:
        ca = x509.load_pem_x509_certificate(_bytes(ca_cert_pem))
        ca_key = serialization.load_pem_private_key(_bytes(ca_key_pem), password=None)
    except ValueError as err:
        raise CertificateError(f"unreadable gateway CA certificate or key: {err}") from None
    if isinstance(ca_key, dsa.DSAPrivateKey | ed448.Ed448PrivateKey) or not isinstance(
        ca_key, CaKey
    ):
        raise CertificateError(f"the CA key is a {type(ca_key).__name__}: use RSA, EC or Ed25519")
    if ca.public_key() != ca_key.public_key():
        raise CertificateError("the CA key does not belong to the CA certificate")
    at = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for name in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    not_after = min(at + dt.timedelta(days=days), ca.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - dt.timedelta(hours=1))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_encipherment=False, **_USAGE),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, None if isinstance(ca_key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return chain, key_pem


def _bytes(pem: bytes | str) -> bytes:
    return pem.encode() if isinstance(pem, str) else pem
