"""`homeagent forward`: the local forwarder in the foreground, for scripts, remote support and
screen readers; it prints where it listens (`--json`: one JSON object) and ends at clock-out."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from typing import TYPE_CHECKING, Any

from ..checks.result import Hint
from ..lang import Lang, detect_lang
from ..state import load_enrolment
from .common import CommandError

if TYPE_CHECKING:
    from ..forward import GatewayTarget, SessionWatch

DEFAULT_PORT = 17080
"""Fixed, so the browser's proxy setting stays right from one shift to the next."""

NOT_ENROLLED = Hint(
    zh="尚未登记到公司网关：请先运行 homeagent enrol 登记码 --gateway 网址",
    en="Not enrolled with a company gateway: run `homeagent enrol CODE --gateway URL` first",
)
CLOCKED_OUT = Hint(
    zh="尚未上班打卡（或会话已过期）：请先在 homeagent 中上班打卡，再启动转发",
    en="You are not clocked in (or the session expired): clock in with homeagent first, then "
    "start forwarding",
)
STOPPED_AT_CLOCK_OUT = Hint(
    zh="已下班打卡（或会话已过期），转发已停止。",
    en="Clocked out (or the session expired): forwarding has stopped.",
)
STOPPED = Hint(zh="转发已停止。", en="Forwarding has stopped.")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "forward",
        help="carry the browser's and softphone's traffic to the company gateway until clock-out",
        description="Run the local forwarder on 127.0.0.1 in the foreground: it adds your "
        "session to every request and carries it to the gateway; it stops at clock-out.",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 to listen on (default {DEFAULT_PORT}; 0: any free port)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"address", "proxy_url", "pac_url"} as one line of JSON on stdout',
    )
    parser.set_defaults(handler=forward_command)


def port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0-65535): {text!r}")
    return int(text)


def forward_command(args: argparse.Namespace) -> int:
    # The forwarder (asyncio, ssl) loads only when this command runs, not for every command.
    from ..forward import SessionWatch, gateway_target

    lang = detect_lang(args.lang)
    enrolment = load_enrolment()
    if enrolment is None:
        raise CommandError(NOT_ENROLLED(lang))
    watch = SessionWatch()
    if watch() is None:
        raise CommandError(CLOCKED_OUT(lang))
    try:
        target = gateway_target(enrolment)
    except (OSError, ValueError) as err:
        raise CommandError(
            Hint(
                zh=f"登记信息中的网关设置无法使用（{err}）：请重新登记，或联系帮助台",
                en=f"The gateway settings from enrolment cannot be used ({err}): enrol again, "
                "or call the help desk",
            )(lang)
        ) from None
    return asyncio.run(_serve(target, watch, args.port, as_json=args.json, lang=lang))


def _port_hint(host: str, port: int, reason: str) -> Hint:
    return Hint(
        zh=f"无法在 {host} 端口 {port} 上启动转发（{reason}）：可能已有一个 homeagent forward "
        "在运行；请关闭它，或用 --port 选择其他端口",
        en=f"Cannot forward on {host} port {port} ({reason}): another `homeagent forward` may "
        "be running; close it, or choose another port with --port",
    )


async def _serve(
    target: GatewayTarget, watch: SessionWatch, port: int, *, as_json: bool, lang: Lang
) -> int:
    from ..forward import Forwarder
    from ..forward.browser_setup import browser_setup
    from ..forward.server import HOST

    forwarder = Forwarder(target, watch, port=port)
    try:
        await forwarder.start()
    except OSError as err:
        raise CommandError(_port_hint(HOST, port, err.strerror or str(err))(lang)) from None
    interrupted = asyncio.Event()

    def interrupt() -> None:
        interrupted.set()
        asyncio.get_running_loop().create_task(forwarder.stop())

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows' event loop has no signal handlers; Ctrl-C still ends it as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, interrupt)
    if as_json:
        document = {
            "address": forwarder.address,
            "proxy_url": forwarder.proxy_url,
            "pac_url": forwarder.pac_url,
        }
        print(json.dumps(document), flush=True)
    else:
        started = Hint(
            zh=f"转发已启动：{forwarder.address}（请保持运行；下班打卡后自动停止）",
            en=f"Forwarding on {forwarder.address} (keep it running; it stops at clock-out)",
        )
        print(started(lang))
        print(browser_setup(forwarder.pac_url, HOST, forwarder.port)(lang), flush=True)
    await forwarder.watch_session()
    print((STOPPED if interrupted.is_set() else STOPPED_AT_CLOCK_OUT)(lang), file=sys.stderr)
    return 0
