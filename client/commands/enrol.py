"""`homeagent enrol CODE --gateway URL`: register this PC with the company gateway — a new device
key, the gateway's CA pinned — and say what to do next."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..lang import detect_lang
from ..session.service import ShiftService
from .common import CommandError
from .shift_output import ask_yes, plain_errors, say, waiting


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "enrol",
        help="register this PC with the company gateway (one-time code from your officer)",
        description="Make this PC's device key, register it with a one-time code, and keep "
        "the gateway's certificate. Enrolling again (new PC, lost key) needs a new code; the "
        "earlier device is then refused.",
    )
    parser.add_argument("code", metavar="CODE", help="the one-time enrolment code")
    parser.add_argument(
        "--gateway", required=True, metavar="URL", help="the gateway, https://host:port"
    )
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument(
        "--ca",
        type=Path,
        metavar="FILE",
        help="the gateway's CA certificate (PEM) from your officer: trusted from the first contact",
    )
    trust.add_argument(
        "--ca-fingerprint",
        metavar="HEX",
        help="the SHA-256 fingerprint of the gateway's CA from your officer (for scripts; "
        "without it and --ca you are asked to compare the fingerprint shown)",
    )
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.set_defaults(handler=enrol_command)


def enrol_command(args: argparse.Namespace) -> int:
    lang = detect_lang(args.lang)
    service = ShiftService(lang=lang)
    ca_pem: str | None = None
    expected = args.ca_fingerprint
    with plain_errors(lang):
        if args.ca is not None:
            try:
                ca_pem = args.ca.read_text("utf-8")
            except OSError as err:
                raise CommandError(
                    say(
                        lang,
                        f"无法读取 CA 文件 {args.ca}：{err.strerror}",
                        f"Cannot read the CA file {args.ca}: {err.strerror}",
                    )
                ) from None
        elif expected is None:
            with waiting(lang):
                ca_pem, fingerprint = service.offered_ca(args.gateway)
            print(
                say(
                    lang,
                    f"网关证书颁发机构（CA）的 SHA-256 指纹：\n  {fingerprint}\n"
                    "请与安全管理员提供的指纹逐位核对。",
                    f"The gateway's certificate authority (CA) has the SHA-256 fingerprint:\n"
                    f"  {fingerprint}\nCompare it, every pair, with the one your security "
                    "officer gave you.",
                ),
                file=sys.stderr,
            )
            if not ask_yes(say(lang, "完全一致吗？[y/N]", "Do they match exactly? [y/N]")):
                raise CommandError(
                    say(
                        lang,
                        "未登记：指纹未确认。登记码未发送，仍可使用。",
                        "Not enrolled: the fingerprint was not confirmed. The code was not "
                        "sent and can still be used.",
                    )
                )
            expected = fingerprint
        with waiting(lang):
            outcome = service.enrol(
                args.code, args.gateway, ca_pem=ca_pem, expected_fingerprint=expected
            )
    if args.json:
        document = {
            "agent": outcome.agent,
            "role": outcome.role,
            "device": outcome.device,
            "ca_fingerprint": outcome.ca_fingerprint,
            "control_url": outcome.control_url,
            "proxy": outcome.proxy,
            "key_file": str(outcome.key_file),
            "ca_file": str(outcome.ca_file),
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    print(
        say(
            lang,
            f"已登记：坐席 {outcome.agent}（角色 {outcome.role}），网关 {outcome.control_url}。\n"
            "下一步：\n"
            "  1. 运行 homeagent check 检查居家环境（结果会发送到网关）\n"
            "  2. 运行 homeagent clock-in 打卡上班\n"
            f"设备密钥保存在 {outcome.key_file}，请勿删除或复制；若丢失（如重装系统），"
            "需向安全管理员申请新的登记码并重新登记。",
            f"Enrolled: agent {outcome.agent} (role {outcome.role}), gateway "
            f"{outcome.control_url}.\n"
            "Next:\n"
            "  1. run `homeagent check` to check your home setup (the result goes to the "
            "gateway)\n"
            "  2. run `homeagent clock-in` to start your shift\n"
            f"This PC's key is in {outcome.key_file}: do not delete or copy it. If it is lost "
            "(e.g. the PC is reinstalled), ask your security officer for a new code and enrol "
            "again.",
        )
    )
    return 0
