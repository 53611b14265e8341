"""Every refusal of the control API as JSON the client can show as is:
`{"error": code, "message": {"en": …, "zh": …}, …detail}`, with its HTTP status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from ..core.posture_hints import Hint
from ..store import errors as store_errors
from .schemas import ErrorBody

log = logging.getLogger(__name__)

# code: (HTTP status, English, Chinese); {names} are filled in from the error's fields.
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "invalid_request": (
        422,
        "The request is not valid: {problems}",
        "请求无效：{problems}",
    ),
    "body_too_large": (
        413,
        "The request body is larger than {limit} bytes",
        "请求内容超过 {limit} 字节",
    ),
    "auth_missing": (
        401,
        'Sign the request with the device key (Authorization: HA-Device agent="…", ts="…", '
        'sig="…")',
        '请求需要用设备密钥签名（Authorization: HA-Device agent="…", ts="…", sig="…"）',
    ),
    "auth_malformed": (
        401,
        "The Authorization header cannot be read: {why}",
        "无法读取 Authorization 请求头：{why}",
    ),
    "replayed": (
        409,
        "This exact request was already taken once (a copy sent again is refused): try again, "
        "and tell the help desk if this keeps happening",
        "同一请求已被受理过一次（重复发送的副本会被拒绝）：请重试；如反复出现，请联系帮助台",
    ),
    "clocks_apart": (
        401,
        "Clocks apart: the PC's clock is {seconds} s off the gateway's (at most {limit}): turn "
        "on automatic time on the PC, then try again",
        "时钟不一致：电脑时钟与网关相差 {seconds} 秒（最多 {limit} 秒）："
        "请开启电脑的自动设置时间后重试",
    ),
    "bad_signature": (
        401,
        "The request is not signed by this agent's enrolled device: enrol this PC again",
        "请求签名与该坐席已登记的设备不符：请重新登记这台电脑",
    ),
    "device_revoked": (
        401,
        "This PC's device key was replaced or revoked: enrol it again with a new code",
        "这台电脑的设备密钥已被替换或吊销：请用新的登记码重新登记",
    ),
    "unknown_agent": (
        401,
        "Agent {agent} is not known to this gateway: ask the security officer",
        "网关中没有坐席 {agent}：请联系安全管理员",
    ),
    "agent_disabled": (
        403,
        "Agent {agent} is disabled: ask the security officer",
        "坐席 {agent} 已停用：请联系安全管理员",
    ),
    "unknown_code": (
        404,
        "Unknown enrolment code: check it, or ask for a new one",
        "登记码无效：请核对，或申请新的登记码",
    ),
    "code_used": (
        409,
        "This enrolment code was already used: ask for a new one",
        "该登记码已被使用：请申请新的登记码",
    ),
    "code_expired": (
        410,
        "This enrolment code has expired: ask for a new one",
        "该登记码已过期：请申请新的登记码",
    ),
    "invalid_public_key": (
        422,
        "The device key is not an Ed25519 public key (32 bytes, base64)",
        "设备公钥不是 Ed25519 公钥（32 字节，base64）",
    ),
    "device_already_enrolled": (
        409,
        "This device key is already enrolled: make a new key to enrol again",
        "该设备密钥已登记过：请生成新密钥后再登记",
    ),
    "malformed_report": (
        422,
        "The posture report cannot be read: {why}",
        "无法读取环境检测报告：{why}",
    ),
    "bad_report_signature": (
        422,
        "The posture report's signature does not verify with this device's key",
        "环境检测报告的签名与本设备密钥不符",
    ),
    "notice_outdated": (
        409,
        "The confidentiality notice has changed (now version {current}): read and acknowledge "
        "it again",
        "保密须知已更新（当前版本 {current}）：请重新阅读并确认",
    ),
    "posture_missing": (
        403,
        "There is no posture report from this PC yet: run the checks first",
        "尚未收到这台电脑的环境检测报告：请先运行检测",
    ),
    "posture_stale": (
        403,
        "The last posture report is {minutes} min old (at most {limit}): run the checks again",
        "上次环境检测已过去 {minutes} 分钟（最长 {limit} 分钟）：请重新运行检测",
    ),
    "posture_failed": (
        403,
        "Your setup does not meet the requirements: {hints}",
        "您的环境未达到要求：{hints}",
    ),
    "posture_expired": (
        403,
        "Your posture report expired, so the shift's session has ended: run the checks and "
        "clock in again",
        "环境检测报告已过期，本次上班会话已结束：请重新检测并打卡",
    ),
    "not_clocked_in": (
        409,
        "You are not clocked in on this PC: clock in first",
        "您尚未在这台电脑上打卡上班：请先打卡",
    ),
    "status_transition": (
        409,
        "You cannot go from {current} to {target}",
        "无法从“{current}”切换到“{target}”",
    ),
    "reason_required": (
        422,
        "{target} needs a reason",
        "“{target}”需要选择原因",
    ),
    "reason_not_taken": (
        422,
        "{target} takes no reason",
        "“{target}”不需要原因",
    ),
    "speed_test_busy": (
        429,
        "Too many speed tests are running: try again in a few seconds",
        "正在进行的测速过多：请几秒后重试",
    ),
    "speed_test_timeout": (
        408,
        "The upload took longer than {limit} s",
        "上传超过 {limit} 秒",
    ),
    "store_unavailable": (
        503,
        "The gateway's database does not answer: nothing was changed; try again in a minute",
        "网关数据库无响应：未做任何更改；请一分钟后重试",
    ),
    "not_found": (404, "No such address in the control API", "控制接口中没有这个地址"),
    "method_not_allowed": (405, "This address does not take that method", "该地址不支持此方法"),
    "internal": (
        500,
        "The gateway could not answer: try again; if it keeps failing, tell your supervisor",
        "网关处理失败：请重试；若一直失败，请告知主管",
    ),
}

STORE_CODES: dict[type[store_errors.StoreError], str] = {
    store_errors.UnknownCode: "unknown_code",
    store_errors.CodeUsed: "code_used",
    store_errors.CodeExpired: "code_expired",
    store_errors.InvalidPublicKey: "invalid_public_key",
    store_errors.DeviceAlreadyEnrolled: "device_already_enrolled",
    store_errors.AgentDisabled: "agent_disabled",
    store_errors.UnknownDevice: "device_revoked",
    store_errors.SessionNotActive: "not_clocked_in",
    store_errors.BadSignature: "bad_report_signature",
    store_errors.MalformedReport: "malformed_report",
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For the OpenAPI document: these statuses answer with an error body."""
    return {status: {"model": ErrorBody} for status in statuses}


class ApiError(Exception):
    """A refusal: `code` from CATALOGUE, `fields` fill its messages (a Hint gives each language
    its own text), `detail` goes into the body beside them."""

    def __init__(self, code: str, detail: dict[str, Any] | None = None, **fields: Any) -> None:
        self.status, en, zh = CATALOGUE[code]
        self.code = code
        self.en = en.format(**{k: v.en if isinstance(v, Hint) else v for k, v in fields.items()})
        self.zh = zh.format(**{k: v.zh if isinstance(v, Hint) else v for k, v in fields.items()})
        self.detail = detail or {}
        super().__init__(f"{code}: {self.en}")

    def response(self) -> JSONResponse:
        body = {"error": self.code, "message": {"en": self.en, "zh": self.zh}, **self.detail}
        headers = {"WWW-Authenticate": "HA-Device"} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


def store_error(err: store_errors.StoreError, **fields: Any) -> ApiError:
    for kind, code in STORE_CODES.items():
        if isinstance(err, kind):
            if code == "malformed_report":
                fields.setdefault("why", str(err))
            return ApiError(code, **fields)
    # AuditConflict, InstanceKeyMismatch, SchemaTooNew: the gateway, not the agent, must act.
    log.error("control API: store refused: %s", err)
    return ApiError("store_unavailable")


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, ApiError)
        return err.response()

    async def on_invalid(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, RequestValidationError)
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
            for e in err.errors()[:5]
        ]
        return ApiError(
            "invalid_request", {"problems": problems}, problems="; ".join(problems)
        ).response()

    async def on_http(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "internal")
        return ApiError(code).response()

    async def on_store_down(request: Request, err: Exception) -> JSONResponse:
        log.error("control API: the store does not answer: %s", err)
        return ApiError("store_unavailable").response()

    async def on_store_refusal(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, store_errors.StoreError)
        return store_error(err).response()

    async def on_anything(request: Request, err: Exception) -> JSONResponse:
        log.exception("control API: %s %s failed", request.method, request.url.path)
        return ApiError("internal").response()

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(DBAPIError, on_store_down)
    app.add_exception_handler(PoolTimeout, on_store_down)
    app.add_exception_handler(store_errors.StoreError, on_store_refusal)
    app.add_exception_handler(Exception, on_anything)
