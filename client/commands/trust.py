"""`homeagent trust`: with the agent's consent, make their browsers trust the gateway's CA, so the
business pages the gateway inspects open without certificate warnings; `--check` says where it
is trusted already, `--remove` takes it away again."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..browser_trust import BrowserStore, BrowserTrust, TrustError, agent_home, remove
from ..lang import Lang, detect_lang
from ..session.first_contact import ca_fingerprint
from ..state import load_enrolment
from .common import CommandError
from .forward import NOT_ENROLLED
from .shift_output import ask_yes, say


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "trust",
        help="let your browsers open the company's pages through the gateway (asks first)",
        description="The company gateway inspects the business pages you open through it, to "
        "hide customers' personal data and keep a record; your browser must trust the "
        "gateway's certificate authority (CA) for that. This adds it to Chromium/Chrome and to "
        "each Firefox profile, after asking you.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--check", action="store_true", help="only say which browsers trust it (exit 1: none)"
    )
    action.add_argument("--remove", action="store_true", help="take the CA out of the browsers")
    parser.add_argument("--yes", action="store_true", help="do not ask (you have agreed)")
    parser.set_defaults(handler=trust_command)


def trust_command(args: argparse.Namespace) -> int:
    lang = detect_lang(args.lang)
    enrolment = load_enrolment()
    if enrolment is None:
        raise CommandError(NOT_ENROLLED(lang))
    browsers = BrowserTrust(Path(enrolment.ca_file), agent_home())
    try:
        if args.check:
            return _report(lang, browsers)
        if args.remove:
            for store in browsers.stores():
                if remove(store):
                    print(say(lang, f"已移除：{store.browser}", f"Removed: {store.browser}"))
            return 0
        if not args.yes and not _consents(lang, browsers.stores(), browsers.ca_pem):
            raise CommandError(
                say(
                    lang,
                    "未做任何更改。浏览器打开公司业务页面时会提示证书不受信任。",
                    "Nothing was changed. Your browser will warn about the company's pages "
                    "until it trusts the gateway.",
                )
            )
        for store in browsers.trust_all():
            print(say(lang, f"已信任：{store.browser}", f"Trusted: {store.browser}"))
    except TrustError as err:
        raise CommandError(err.hint(lang)) from None
    print(
        say(
            lang,
            "完成。请重新启动浏览器，使更改生效。",
            "Done. Restart your browser for the change to take effect.",
        )
    )
    return 0


def _report(lang: Lang, browsers: BrowserTrust) -> int:
    trusted_in = browsers.trusted_in()
    for store in browsers.stores():
        ok = store in trusted_in
        mark = say(lang, "已信任", "trusted") if ok else say(lang, "未信任", "not trusted")
        print(f"{store.browser}: {mark}  ({store.path})")
    if not trusted_in:
        print(
            say(
                lang,
                "浏览器尚未信任公司网关：运行 homeagent trust",
                "No browser trusts the company gateway yet: run `homeagent trust`",
            ),
            file=sys.stderr,
        )
    return 0 if trusted_in else 1


def _consents(lang: Lang, stores: list[BrowserStore], ca_pem: str) -> bool:
    where = "\n".join(f"  - {store.browser}: {store.path}" for store in stores)
    print(
        say(
            lang,
            "公司网关会检查您经由它打开的业务页面，用于隐藏客户个人信息并留存记录。"
            "为此，浏览器需要信任网关的证书颁发机构（CA），SHA-256 指纹：\n"
            f"  {ca_fingerprint(ca_pem)}\n"
            "只有经 homeagent 转发的流量会被检查；您可随时用 homeagent trust --remove 撤销。\n"
            f"将添加到：\n{where}",
            "The company gateway inspects the business pages you open through it, to hide "
            "customers' personal data and keep a record. For that your browser must trust the "
            "gateway's certificate authority (CA), SHA-256 fingerprint:\n"
            f"  {ca_fingerprint(ca_pem)}\n"
            "Only traffic sent through homeagent's forwarder is inspected; undo it any time "
            "with `homeagent trust --remove`.\n"
            f"It will be added to:\n{where}",
        ),
        file=sys.stderr,
    )
    return ask_yes(say(lang, "要继续吗？[y/N]", "Go ahead? [y/N]"))
