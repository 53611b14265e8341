"""What the forwarder answers itself, when it cannot carry a request: a short page in Chinese and
English saying what happened and what to do, as HTML for a browser and plain text otherwise."""

from __future__ import annotations

import html
from dataclasses import dataclass
from http import HTTPStatus

from ..checks.result import Hint


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    title: Hint
    advice: Hint


PAGES: dict[str, Page] = {
    "gateway-unreachable": Page(
        502,
        Hint(zh="无法连接公司网关", en="The company gateway cannot be reached"),
        Hint(
            zh="请检查家里的网络（能否打开其他网站、路由器是否正常），稍后刷新本页；"
            "如持续出现，请联系帮助台。",
            en="Check your home internet (do other sites open? is the router on?), then reload "
            "this page in a minute. If it keeps happening, call the help desk.",
        ),
    ),
    # Not "check your internet": a certificate the enrolled CA did not sign may mean someone
    # is intercepting the line, and the agent should stop and say so.
    "gateway-untrusted": Page(
        502,
        Hint(
            zh="公司网关的证书与登记的不一致",
            en="The company gateway's certificate is not the enrolled one",
        ),
        Hint(
            zh="为安全起见，本次连接已中断，未发送任何数据。请暂停办理业务，并立即告诉信息安全负责人或帮助台。",
            en="For your safety the connection was stopped and nothing was sent. Pause your work "
            "and tell your security officer or the help desk now.",
        ),
    ),
    # 403, not 407: no password the browser could ask for would help; the agent must clock in,
    # and browsers show a 403's page but not a 407's.
    "clocked-out": Page(
        403,
        Hint(zh="您已下班（未打卡）", en="You are clocked out"),
        Hint(
            zh="请先在 homeagent 中上班打卡，然后刷新本页。",
            en="Clock in first in homeagent, then reload this page.",
        ),
    ),
    "bad-request": Page(
        400,
        Hint(zh="请求格式无法识别", en="The request could not be read"),
        Hint(
            zh="请从业务系统的页面重新打开链接；如持续出现，请联系帮助台。",
            en="Open the link again from the business system's own page. If it keeps "
            "happening, call the help desk.",
        ),
    ),
    "head-too-large": Page(
        431,
        Hint(zh="请求头过大", en="The request headers are too large"),
        Hint(
            zh="请清除该网站的 Cookie 后重试；如持续出现，请联系帮助台。",
            en="Clear this site's cookies and try again. If it keeps happening, call the "
            "help desk.",
        ),
    ),
    "too-slow": Page(
        408,
        Hint(zh="请求发送超时", en="The request took too long to arrive"),
        Hint(zh="请刷新本页重试。", en="Reload this page to try again."),
    ),
    "busy": Page(
        503,
        Hint(zh="本机转发程序连接数已满", en="The local forwarder has too many connections"),
        Hint(
            zh="请关闭不用的浏览器标签页，然后刷新本页。",
            en="Close browser tabs you do not need, then reload this page.",
        ),
    ),
    "not-found": Page(
        404,
        Hint(zh="这里只有代理配置文件", en="Only the proxy configuration is served here"),
        Hint(
            zh="浏览器的自动代理配置地址是本机转发程序的 /proxy.pac。",
            en="Point the browser's automatic proxy configuration at /proxy.pac on this forwarder.",
        ),
    ),
}

FORWARDER_HEADER = "X-Homeagent-Forwarder"
"""Names the page's code, so programs tell the forwarder's own answer from the gateway's."""


def render(code: str, accept: str = "") -> tuple[int, str, bytes]:
    """(status, content type, body) of the page for `code`."""
    page = PAGES[code]
    if "text/html" in accept:
        lines = [
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
            f"<title>{html.escape(page.title.zh)} / {html.escape(page.title.en)}</title></head>",
            '<body style="font-family:system-ui,sans-serif;max-width:40em;margin:3em auto">',
            f"<h1>{html.escape(page.title.zh)}</h1><p>{html.escape(page.advice.zh)}</p>",
            f'<h1 lang="en">{html.escape(page.title.en)}</h1>',
            f'<p lang="en">{html.escape(page.advice.en)}</p>',
            f"<p><small>homeagent · {page.status} · {code}</small></p></body></html>",
        ]
        return page.status, "text/html; charset=utf-8", "\n".join(lines).encode()
    text = f"{page.title.zh}：{page.advice.zh}\n{page.title.en}: {page.advice.en}\n"
    return page.status, "text/plain; charset=utf-8", text.encode()


def response(code: str, accept: str = "", *, head_only: bool = False) -> bytes:
    """The whole HTTP/1.1 response; the connection closes after it."""
    status, content_type, body = render(code, accept)
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        f"{FORWARDER_HEADER}: {code}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + (b"" if head_only else body)
