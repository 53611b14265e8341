"""The demo CA: made once, reused, and good enough for a strict verifier."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from homeagent.proxy.sample_app import CertificateError, ensure_certificates
from homeagent.proxy.sample_app.certificates import SYSTEM_HOSTS


def _verify(ca_pem: Path, chain_pem: Path, host: str) -> None:
    ca = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    leaf, *rest = x509.load_pem_x509_certificates(chain_pem.read_bytes())
    verifier = PolicyBuilder().store(Store([ca])).build_server_verifier(x509.DNSName(host))
    verifier.verify(leaf, rest)


def test_makes_a_ca_and_a_server_certificate_that_verifies_for_every_host(tmp_path: Path) -> None:
    made = ensure_certificates(tmp_path / "certs")
    for host in (*SYSTEM_HOSTS, "anything.acme.test"):
        _verify(made.ca_cert, made.server_cert, host)
    with pytest.raises(VerificationError):
        _verify(made.ca_cert, made.server_cert, "crm.acme.example")
    for key in (made.ca_key, made.server_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_reuses_what_is_there(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path)
    before = {p: p.read_bytes() for p in (first.ca_cert, first.ca_key, first.server_cert)}
    second = ensure_certificates(tmp_path)
    assert second == first
    assert {p: p.read_bytes() for p in before} == before


def test_reissues_a_missing_server_certificate_from_the_same_ca(tmp_path: Path) -> None:
    made = ensure_certificates(tmp_path)
    ca_before = made.ca_cert.read_bytes()
    server_before = made.server_cert.read_bytes()
    made.server_key.unlink()
    again = ensure_certificates(tmp_path)
    assert again.ca_cert.read_bytes() == ca_before
    assert again.server_cert.read_bytes() != server_before
    _verify(again.ca_cert, again.server_cert, "kb.acme.test")


def test_reissues_a_server_certificate_of_another_ca(tmp_path: Path) -> None:
    ours = ensure_certificates(tmp_path / "ours")
    theirs = ensure_certificates(tmp_path / "theirs")
    ours.server_cert.write_bytes(theirs.server_cert.read_bytes())
    ours.server_key.write_bytes(theirs.server_key.read_bytes())
    ensure_certificates(tmp_path / "ours")
    _verify(ours.ca_cert, ours.server_cert, "chat.acme.test")


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda d: (d / "ca-key.pem").unlink(), "ca.pem is there without its pair"),
        (lambda d: (d / "ca.pem").unlink(), "ca-key.pem is there without its pair"),
        (lambda d: (d / "ca.pem").write_text("not a certificate"), "unreadable certificate"),
    ],
)
def test_refuses_a_folder_it_cannot_use(tmp_path: Path, break_it: object, message: str) -> None:
    ensure_certificates(tmp_path)
    assert callable(break_it)
    break_it(tmp_path)
    with pytest.raises(CertificateError, match=message):
        ensure_certificates(tmp_path)
