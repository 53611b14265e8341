"""What an agent sees when the gateway refuses a request: the rule, a reference to quote to the
help desk, and what to do next, in Chinese and English; HTML for browsers, JSON for programs."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    code: str
    """A stable machine-readable reason: `not-authenticated`, `denied`, `rate-limited`, …"""
    rule: str
    reference: str
    """The audit reference of this flow."""
    detail: str = ""
    """What exactly happened, for the help desk (never personal data)."""


# (title zh, title en, advice zh, advice en) per code
TEXTS: dict[str, tuple[str, str, str, str]] = {
    "not-authenticated": (
        "请先上班打卡",
        "Please clock in first",
        "请在 homeagent 中完成自检并上班打卡，然后重试。",
        "Open homeagent, run the home check and clock in, then try again.",
    ),
    "session-ended": (
        "本班次已结束",
        "Your shift session has ended",
        "您已下班、会话已过期或设备已停用。请在 homeagent 中重新打卡。",
        "You clocked out, the session expired or the device was disabled. "
        "Clock in again in homeagent.",
    ),
    "denied": (
        "该地址不在您的岗位权限内",
        "This address is not allowed for your role",
        "如工作确实需要，请把参考编号告诉班组长或帮助台。",
        "If your work needs it, give the reference number to your team lead or the help desk.",
    ),
    "ambiguous": (
        "地址格式可疑，已拦截",
        "The address could be read two ways, so it was blocked",
        "请直接从业务系统的页面打开链接，不要手工修改地址。",
        "Open links from the business system's own pages instead of editing the address.",
    ),
    "out-of-hours": (
        "当前不在工作时段",
        "Outside your working hours",
        "请在排班时段内访问。如需加班，请联系班组长。",
        "Access is open during your shift hours. Ask your team lead about overtime.",
    ),
    "rate-limited": (
        "访问过于频繁，已暂停",
        "Too many requests: paused for now",
        "为防止批量导出客户资料，访问次数有上限。请稍后再试。",
        "To stop bulk copying of customer records, access is limited. Try again a little later.",
    ),
    "forbidden-words": (
        "消息含有禁止用语，未发送",
        "Your message contains words that may not be sent",
        "请修改后再发送。不得与客户私下联系或交易。",
        "Please rephrase it. Private contact or deals with customers are not allowed.",
    ),
    "cannot-inspect": (
        "内容无法安全检查，已拦截",
        "The content could not be checked safely, so it was blocked",
        "这通常是临时问题。请稍后重试；如持续出现，请把参考编号告诉帮助台。",
        "This is usually temporary. Try again; if it keeps happening, "
        "give the reference to the help desk.",
    ),
    "gateway-unavailable": (
        "网关暂时无法记录访问，已拦截",
        "The gateway cannot record access right now, so it blocked it",
        "请稍后重试。如持续出现，请联系帮助台。",
        "Please try again shortly. If it keeps happening, contact the help desk.",
    ),
    "upstream-failed": (
        "业务系统暂时无法访问",
        "The business system cannot be reached right now",
        "请稍后重试。如持续出现，请联系帮助台。",
        "Please try again shortly. If it keeps happening, contact the help desk.",
    ),
    "upstream-timeout": (
        "业务系统响应超时",
        "The business system took too long to answer",
        "网关已停止等待。请稍后重试；如持续出现，请把参考编号告诉帮助台。",
        "The gateway stopped waiting. Try again shortly; if it keeps happening, "
        "give the reference to the help desk.",
    ),
    "too-large": (
        "内容过大，无法安全检查，已拦截",
        "The content is too large to check safely, so it was blocked",
        "请缩小查询范围（例如分页或加筛选条件）后重试。",
        "Narrow what you ask for (a page at a time, or a filter), then try again.",
    ),
    "request-too-large": (
        "发送的内容过大，未发送",
        "What you are sending is too large, so it was not sent",
        "请分成几部分发送，或改为上传附件到业务系统。",
        "Send it in smaller parts, or attach it in the business system instead.",
    ),
}


def render(refusal: Refusal, accept: str) -> tuple[bytes, str]:
    """(body, content type) for this refusal, as the client prefers."""
    title_zh, title_en, advice_zh, advice_en = TEXTS.get(refusal.code, TEXTS["denied"])
    if "text/html" not in accept:
        payload = {
            "error": refusal.code,
            "rule": refusal.rule,
            "reference": refusal.reference,
            "detail": refusal.detail,
            "message": {"zh": f"{title_zh}。{advice_zh}", "en": f"{title_en}. {advice_en}"},
        }
        return json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8"
    e = html.escape
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title_zh)} · {e(title_en)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:40rem;margin:4rem auto;
padding:0 1rem;color:#222}}h1{{font-size:1.4rem}}h2{{font-size:1.1rem;color:#555}}
.ref{{background:#f4f4f4;padding:.8rem;border-radius:.4rem;font-family:monospace}}</style></head>
<body><h1>{e(title_zh)}</h1><p>{e(advice_zh)}</p>
<h2 lang="en">{e(title_en)}</h2><p lang="en">{e(advice_en)}</p>
<p class="ref">参考编号 Reference: <b>{e(refusal.reference)}</b><br>
规则 Rule: {e(refusal.rule)}<br>{e(refusal.detail)}</p></body></html>
"""
    return page.encode(), "text/html; charset=utf-8"
