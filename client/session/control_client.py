"""The control API as the client calls it: HTTPS trusting only the gateway's CA (pinned at
enrolment, never the system store), every request signed with the device key, refusals turned
into the gateway's own message in Chinese and English."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..checks.result import Hint
from ..pinned_tls import pinned_context
from .errors import UNTRUSTED_CERTIFICATE, ApiRefusedError, GatewayUnreachableError
from .signing import authorization_header

TIMEOUT_S = 10.0
"""A control call is small; longer than this and the agent is better told to check the
network (a status change then waits in the queue)."""

CLOCK_SETTING = Hint(
    zh="Windows：设置 › 时间和语言 › 自动设置时间；macOS：系统设置 › 通用 › 日期与时间",
    en="Windows: Settings › Time & language › Set time automatically; macOS: System Settings "
    "› General › Date & Time",
)
"""Where the setting the gateway's clocks_apart message asks for is."""


def refusal_from(response: httpx.Response) -> ApiRefusedError:
    """The gateway's refusal as the agent should read it; a body that is not the gateway's
    error format still gives a plain sentence with the HTTP status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), dict):
        message = body["message"]
        code = str(body.get("error", "error"))
        hint = Hint(zh=str(message.get("zh", "")), en=str(message.get("en", "")))
        if code == "clocks_apart":
            # The gateway's words give the figures and the fix; ours add where the setting is.
            hint = Hint(zh=f"{hint.zh}（{CLOCK_SETTING.zh}）", en=f"{hint.en} ({CLOCK_SETTING.en})")
        return ApiRefusedError(response.status_code, code, hint, body)
    hint = Hint(
        zh=f"网关返回了意外的应答（HTTP {response.status_code}）：请稍后重试，若仍失败请告知主管",
        en=f"The gateway gave an unexpected answer (HTTP {response.status_code}): try again "
        "later, and tell your supervisor if it keeps failing",
    )
    return ApiRefusedError(response.status_code, "unexpected_answer", hint, {})


class ControlClient:
    """One agent's signed calls to the control API at `base_url`."""

    def __init__(
        self,
        base_url: str,
        ca_file: Path,
        agent: str,
        key: Ed25519PrivateKey,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.agent = agent
        self._key = key
        self._clock = clock
        self._http = httpx.Client(
            base_url=base_url, verify=pinned_context(ca_file), timeout=timeout, trust_env=False
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        ok: tuple[int, ...] = (200, 201),
    ) -> dict[str, Any]:
        """The JSON answer; ApiRefusedError when the gateway refuses, GatewayUnreachableError
        when it cannot be reached. `path` includes any query string, exactly as signed."""
        content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        ts = int(self._clock())
        header = authorization_header(self._key, self.agent, method, path, content, ts)
        headers = {"Authorization": header}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, path, content=content, headers=headers)
        except httpx.TransportError as err:
            raise GatewayUnreachableError(transport_problem(err)) from err
        if response.status_code not in ok:
            raise refusal_from(response)
        answer: dict[str, Any] = response.json()
        return answer


def transport_problem(err: httpx.TransportError) -> str:
    """A few words on why the gateway did not answer (the exception's text is for logs)."""
    if isinstance(err, httpx.TimeoutException):
        return "timed out"
    if isinstance(err, httpx.ConnectError):
        text = str(err)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
            return UNTRUSTED_CERTIFICATE
        return "connection failed"
    return type(err).__name__
