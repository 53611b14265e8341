"""Enrolment: a new device key registered with a one-time code, and the gateway's CA pinned.

The first contact is trusted before the code leaves the PC: either the CA file the officer
handed out with the code, or the CA the gateway presents (trust on first use) once the agent
has compared its fingerprint. The code then travels only over TLS verified against that CA,
and the answer must name the same CA, or nothing is saved."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..checks.result import Hint
from ..pinned_tls import pinned_context
from ..state import Enrolment, clear_session, save_enrolment, write_private
from .answers import EnrolOutcome
from .control_client import refusal_from, transport_problem
from .device_key import new_device_key, public_bytes, save_device_key
from .errors import GatewayUnreachableError, SessionError
from .first_contact import ca_fingerprint, offered_ca, parse_gateway_url, same_fingerprint
from .shift_file import SHIFT_FILE

CA_FILE = "gateway-ca.pem"


def enrol_device(
    home: Path,
    code: str,
    gateway_url: str,
    *,
    ca_pem: str | None,
    expected_fingerprint: str | None,
    timeout: float,
) -> EnrolOutcome:
    """Register a new device key for this PC with `code`. The code is sent only over TLS
    verified against `ca_pem` (the officer's CA file) or, without it, the CA the gateway
    offers, which `expected_fingerprint` (confirmed by the agent) must match. A previous
    enrolment of this PC is replaced (the gateway revokes the old device)."""
    host, port = parse_gateway_url(gateway_url)
    if ca_pem is None:
        ca_pem = offered_ca(host, port)
        offered_fp = ca_fingerprint(ca_pem)
        if expected_fingerprint is None:
            raise SessionError(_UNCONFIRMED, code="ca_not_confirmed")
    else:
        ca_pem = _certificate_pem(ca_pem)
        offered_fp = ca_fingerprint(ca_pem)
    if expected_fingerprint is not None and not same_fingerprint(expected_fingerprint, offered_fp):
        raise SessionError(_fingerprint_mismatch(offered_fp), code="ca_fingerprint_mismatch")
    control_url = f"https://{host}:{port}" if ":" not in host else f"https://[{host}]:{port}"
    key = new_device_key()
    body = {"code": code.strip(), "public_key": base64.b64encode(public_bytes(key)).decode()}
    try:
        with httpx.Client(
            base_url=control_url,
            verify=pinned_context(ca_pem=ca_pem),
            timeout=timeout,
            trust_env=False,
        ) as http:
            response = http.post("/v1/enrol", json=body)
    except httpx.TransportError as err:
        raise GatewayUnreachableError(transport_problem(err)) from err
    if response.status_code != 200:
        raise refusal_from(response)
    answer = response.json()
    if not same_fingerprint(ca_fingerprint(answer["ca_pem"]), offered_fp):
        raise SessionError(_ca_changed(), code="ca_mismatch")
    ca_path = home / CA_FILE
    write_private(ca_path, ca_pem.encode())
    key_path = save_device_key(key, home)
    # The old key's shift file cannot be opened with the new key: start afresh.
    (home / SHIFT_FILE).unlink(missing_ok=True)
    clear_session(home)
    save_enrolment(
        Enrolment(
            agent=answer["agent"],
            role=answer["role"],
            control_url=control_url,
            proxy=answer["proxy"],
            ca_file=str(ca_path),
        ),
        home,
    )
    return EnrolOutcome(
        agent=answer["agent"],
        role=answer["role"],
        device=answer["device"],
        ca_fingerprint=offered_fp,
        control_url=control_url,
        proxy=answer["proxy"],
        key_file=key_path,
        ca_file=ca_path,
    )


def _certificate_pem(text: str) -> str:
    """The first certificate in a PEM file, or SessionError when there is none."""
    try:
        cert = x509.load_pem_x509_certificate(text.encode())
    except ValueError:
        raise SessionError(
            Hint(
                zh="所给的 CA 文件不是 PEM 格式的证书：请核对安全管理员提供的文件",
                en="The CA file given is not a PEM certificate: check the file your security "
                "officer gave you",
            ),
            code="invalid_ca_file",
        ) from None
    return cert.public_bytes(serialization.Encoding.PEM).decode()


_UNCONFIRMED = Hint(
    zh="首次连接的网关证书尚未确认：请核对指纹后确认，或使用 --ca 文件 / --ca-fingerprint 指纹",
    en="The gateway's certificate on first contact was not confirmed: compare its fingerprint "
    "and confirm, or give --ca FILE or --ca-fingerprint HEX",
)


def _fingerprint_mismatch(actual: str) -> Hint:
    return Hint(
        zh=f"网关证书指纹与提供的不符（实际 {actual}）：未发送登记码。请勿继续，并告知安全管理员",
        en=f"The gateway's certificate fingerprint does not match the one given (it is "
        f"{actual}): the code was not sent. Do not go on; tell your security officer",
    )


def _ca_changed() -> Hint:
    return Hint(
        zh="网关在登记应答中给出了另一个 CA：登记未保存。请告知安全管理员",
        en="The gateway answered with a different CA than the one it is using: nothing was "
        "saved. Tell your security officer",
    )
