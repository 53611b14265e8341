"""What can go wrong between the PC and the gateway, each with a plain hint in Chinese and
English that says what to do next."""

from __future__ import annotations

from typing import Any

from ..checks.result import Hint


class SessionError(Exception):
    """A failure the agent can act on; `hint(lang)` is the sentence to show."""

    def __init__(self, hint: Hint, code: str = "session_error") -> None:
        super().__init__(hint.en)
        self.hint = hint
        self.code = code


UNTRUSTED_CERTIFICATE = "the gateway's certificate is not the enrolled one"


_ZH_DETAIL = {"timed out": "等待超时", "connection failed": "连接失败"}
"""What `control_client.transport_problem` says, in Chinese; anything else (an exception's
name) is left as it is, for the help desk."""


class GatewayUnreachableError(SessionError):
    """No answer from the gateway (network down, gateway stopped, timeout): nothing was
    refused, so what can wait (status changes) waits in the queue."""

    def __init__(self, detail: str) -> None:
        if detail == UNTRUSTED_CERTIFICATE:
            # not a home internet problem: someone may be in the line, so the agent says so
            super().__init__(
                Hint(
                    zh="公司网关的证书与登记的不一致：为安全起见未发送任何数据。"
                    "请暂停办理业务，并立即告诉信息安全负责人或帮助台",
                    en="The company gateway's certificate is not the enrolled one: for your "
                    "safety nothing was sent. Pause your work and tell your security officer "
                    "or the help desk now",
                ),
                code="untrusted",
            )
        else:
            zh_detail = _ZH_DETAIL.get(detail, detail)
            super().__init__(
                Hint(
                    zh=f"无法连接公司网关（{zh_detail}）：请检查网络连接后重试",
                    en=f"Cannot reach the company gateway ({detail}): check your internet "
                    "connection, then try again",
                ),
                code="unreachable",
            )
        self.detail = detail


class ApiRefusedError(SessionError):
    """The gateway answered and refused: `{"error": code, "message": {"en", "zh"}}`."""

    def __init__(self, status_code: int, code: str, hint: Hint, body: dict[str, Any]) -> None:
        super().__init__(hint, code=code)
        self.status_code = status_code
        self.body = body


class NotEnrolledError(SessionError):
    def __init__(self) -> None:
        super().__init__(
            Hint(
                zh="这台电脑尚未登记到公司网关：请运行 homeagent enrol 登记码 --gateway 网址"
                "（登记码和网址由安全管理员提供）",
                en="This PC is not enrolled with the company gateway: run `homeagent enrol "
                "CODE --gateway URL` (your security officer gives you both)",
            ),
            code="not_enrolled",
        )


class NotClockedInError(SessionError):
    def __init__(self) -> None:
        super().__init__(
            Hint(
                zh="您尚未打卡上班：请先运行 homeagent clock-in",
                en="You are not clocked in: run `homeagent clock-in` first",
            ),
            code="not_clocked_in",
        )
