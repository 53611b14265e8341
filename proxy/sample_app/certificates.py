"""The demo CA and the sample app's server certificate for the `*.acme.test` hosts.

Made once into a folder and reused; the gateway trusts `ca.pem` for upstream verification.
Both certificates follow the profile strict verifiers insist on (key usages, key identifiers).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SYSTEM_HOSTS = ("crm.acme.test", "kb.acme.test", "chat.acme.test", "reports.acme.test")
SERVER_NAMES = (*SYSTEM_HOSTS, "*.acme.test", "localhost")
LOOPBACK = "127.0.0.1"

CA_DAYS = 3650
SERVER_DAYS = 397  # browsers refuse server certificates valid for longer than 398 days
RENEW_BEFORE = datetime.timedelta(days=30)


class CertificateError(Exception):
    """The certificate folder holds something that cannot be used or safely replaced."""


@dataclass(frozen=True, slots=True)
class DemoCertificates:
    ca_cert: Path
    """PEM of the demo CA: what a client passes as `verify=` to trust the sample app."""
    ca_key: Path
    server_cert: Path
    """PEM chain: the server certificate, then the CA."""
    server_key: Path


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError(f"{path}: expected an EC private key")
    return key


def _make_ca(paths: DemoCertificates) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "homeagent demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, "homeagent sample app demo CA"),
        ]
    )
    public = key.public_key()
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(paths.ca_key, key)
    paths.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _make_server(
    paths: DemoCertificates, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    now = _now()
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    names.append(x509.IPAddress(ipaddress.ip_address(LOOPBACK)))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SYSTEM_HOSTS[0])]))
        .issuer_name(ca.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(paths.server_key, key)
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM
    )
    paths.server_cert.write_bytes(chain)


def _fresh(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc - _now() > RENEW_BEFORE


def _server_is_usable(paths: DemoCertificates, ca: x509.Certificate) -> bool:
    if not (paths.server_cert.exists() and paths.server_key.exists()):
        return False
    server = x509.load_pem_x509_certificates(paths.server_cert.read_bytes())[0]
    try:
        server.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return _fresh(server) and set(SERVER_NAMES) <= set(sans.get_values_for_type(x509.DNSName))


def ensure_certificates(cert_dir: str | Path) -> DemoCertificates:
    """The demo CA and server certificate in `cert_dir`: reused when valid, else (re)issued.

    A server certificate is reissued when missing, expiring within 30 days, not covering every
    host or not issued by the CA in the folder. A CA is never replaced silently while its key
    is missing or unreadable: that raises CertificateError naming what to delete.
    """
    folder = Path(cert_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = DemoCertificates(
        ca_cert=folder / "ca.pem",
        ca_key=folder / "ca-key.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server-key.pem",
    )
    if paths.ca_cert.exists() != paths.ca_key.exists():
        present = paths.ca_cert if paths.ca_cert.exists() else paths.ca_key
        raise CertificateError(
            f"{present} is there without its pair; delete {folder} to make a new demo CA"
        )
    try:
        if paths.ca_cert.exists():
            ca = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
            ca_key = _load_key(paths.ca_key)
            if ca.public_key() != ca_key.public_key() or not _fresh(ca):
                ca, ca_key = _make_ca(paths)
        else:
            ca, ca_key = _make_ca(paths)
        if not _server_is_usable(paths, ca):
            _make_server(paths, ca, ca_key)
    except ValueError as err:
        raise CertificateError(
            f"{folder}: unreadable certificate or key ({err}); delete it"
        ) from err
    return paths
