"""How to point the browser at the forwarder, in two lines the TUI and `homeagent forward` show."""

from __future__ import annotations

from ..checks.result import Hint


def browser_setup(pac_url: str, host: str, port: int) -> Hint:
    """Two lines: the automatic configuration (PAC) address, or the manual proxy."""
    return Hint(
        zh=f"浏览器代理设置 → 使用自动代理配置脚本，地址：{pac_url}\n"
        f"（或手动代理：HTTP 和 HTTPS 均填 {host}，端口 {port}）",
        en=f"Browser proxy settings → automatic proxy configuration URL: {pac_url}\n"
        f"(or a manual proxy for both HTTP and HTTPS: {host}, port {port})",
    )
