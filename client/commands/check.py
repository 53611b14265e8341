"""`homeagent check`: the home-setup checks without the TUI, for scripts, remote support and
screen readers: a table in the agent's language, or `--json`; exit 0 when they passed."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from ..checks.checklist import run_each
from ..checks.context import CheckContext, GatewayEndpoint, Progress
from ..checks.readout import STATUS_WORDS, describe, figures, label, padded, width
from ..checks.registry import CHECK_NAMES
from ..checks.result import CheckResult, Hint, Status
from ..lang import Lang, detect_lang
from ..session.answers import PostureFollowUp, PostureVerdict
from ..session.errors import SessionError
from ..session.service import ShiftService
from ..state import Enrolment, load_enrolment
from .common import CommandError
from .shift_output import waiting

if TYPE_CHECKING:
    from ..checks.limits import Thresholds


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="check this PC and room for work (CPU, memory, network, noise, headset, USB, apps)",
        description="Run the home-setup checks and show what passed; exit 0 when they passed.",
    )
    parser.add_argument(
        "--only",
        metavar="NAME,…",
        help=f"run only these checks, comma-separated: {', '.join(CHECK_NAMES)}",
    )
    parser.add_argument(
        "--json", action="store_true", help='print {"passed": …, "checks": […]} on stdout'
    )
    parser.add_argument(
        "--gateway",
        metavar="URL",
        help="the gateway the network check measures against, https://host:port "
        "(default: the enrolled one; its CA is the enrolled one)",
    )
    parser.add_argument(
        "--input-device",
        metavar="NAME",
        help="the microphone for the noise check (a name or part of one; default: the system's)",
    )
    parser.add_argument(
        "--no-send",
        action="store_true",
        help="do not send the results to the gateway (by default, on an enrolled PC a full "
        "run is sent as the signed posture report clock-in needs; --only runs never are)",
    )
    parser.set_defaults(handler=check_command)


def check_command(args: argparse.Namespace) -> int:
    from ..checks.limits import bundled_thresholds  # YAML is read only when checks run

    lang = detect_lang(args.lang)
    only = parse_only(args.only, lang)
    enrolment = load_enrolment()
    service = None if enrolment is None else ShiftService(lang=lang)
    thresholds = bundled_thresholds() if service is None else thresholds_for(service, lang)
    gateway = gateway_endpoint(args.gateway, enrolment, lang)
    progress = ProgressLines(sys.stderr, lang)
    ctx = CheckContext(
        lang=lang, input_device=args.input_device, gateway=gateway, progress=progress
    )
    try:
        results = run_each(thresholds, ctx, only, progress.start)
    finally:
        progress.close()
    passed_here = all(r.status is not Status.FAIL for r in results)
    passed = passed_here
    verdict: PostureVerdict | None = None
    follow_up: PostureFollowUp | None = None
    if service is not None and only is None and not args.no_send:
        verdict = send_report(service, results, lang)
        if verdict is not None:
            passed = verdict.passed  # the gateway decides; the table shows the PC's view
        follow_up = follow_on_shift(service, results, verdict, lang)
    if args.json:
        document: dict[str, Any] = {
            "passed": passed,
            "checks": [r.to_json(lang) for r in results],
        }
        if verdict is not None:
            document["gateway"] = {
                "passed": verdict.passed,
                "failing": verdict.failing,
                "warnings": verdict.warnings,
                "expires_at": verdict.expires_at,
            }
        if follow_up is not None:
            document["follow_up"] = follow_up.to_json()
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        columns = min(100, shutil.get_terminal_size().columns)
        print(render_table(results, passed_here, lang, columns))
        if follow_up is not None:
            print(follow_up.message(lang))
        elif verdict is not None:
            print(verdict_line(verdict, lang))
    return 0 if passed else 1


def thresholds_for(service: ShiftService, lang: Lang) -> Thresholds:
    """The limits for the enrolled agent's role: the gateway's `GET /v1/settings` `posture`
    (the policy itself never reaches this PC). When the gateway cannot be asked, the checks
    are not judged under other limits: the command says why and stops."""
    try:
        return service.settings().posture
    except SessionError as err:
        raise CommandError(err.hint(lang)) from None


def send_report(
    service: ShiftService, results: Sequence[CheckResult], lang: Lang
) -> PostureVerdict | None:
    """The gateway's verdict on the signed report; None (said on stderr) when it was not
    delivered: the table still shows the PC's own view."""
    try:
        return service.send_posture(results)
    except SessionError as err:
        print(
            _say(
                lang,
                f"检查结果未能发送到网关：{err.hint('zh')}",
                f"The results could not be sent to the gateway: {err.hint('en')}",
            ),
            file=sys.stderr,
        )
        return None


def follow_on_shift(
    service: ShiftService,
    results: Sequence[CheckResult],
    verdict: PostureVerdict | None,
    lang: Lang,
) -> PostureFollowUp | None:
    """During a shift a full check is a re-check: what it means for the status is applied as
    `homeagent recheck` would (the gateway's verdict, or this PC's when it was not delivered).
    None when not clocked in (a problem applying it is said on stderr)."""
    try:
        if service.session is None or not service.status().clocked_in:
            return None
        with waiting(lang):
            if verdict is not None:
                return service.follow_posture(verdict.failing, verdict.warnings)
            failing = [r.name for r in results if r.status is Status.FAIL]
            warned = [r.name for r in results if r.status is Status.WARN]
            return service.follow_posture(failing, warned, judged_here=True)
    except SessionError as err:
        print(err.hint(lang), file=sys.stderr)
        return None


def verdict_line(verdict: PostureVerdict, lang: Lang) -> str:
    if verdict.passed:
        return _say(
            lang,
            "已发送到网关：通过，可以打卡上班（homeagent clock-in）。",
            "Sent to the gateway: passed; you can clock in (`homeagent clock-in`).",
        )
    failing = ", ".join(label(name, lang) for name in verdict.failing)
    return _say(
        lang,
        f"已发送到网关：未通过（{failing}）。请按提示处理后重新检查。",
        f"Sent to the gateway: not passed ({failing}). Do what is said above, then check again.",
    )


def _say(lang: Lang, zh: str, en: str) -> str:
    return Hint(zh=zh, en=en)(lang)


def parse_only(value: str | None, lang: Lang) -> list[str] | None:
    """The checks `--only` names, in the order given, each once; None: all of them."""
    if value is None:
        return None
    names = list(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    unknown = [n for n in names if n not in CHECK_NAMES]
    valid = ", ".join(CHECK_NAMES)
    if unknown:
        raise CommandError(
            _say(
                lang,
                f"没有名为 {', '.join(unknown)} 的检查：可选 {valid}",
                f"no check named {', '.join(unknown)}: choose from {valid}",
            )
        )
    if not names:
        raise CommandError(
            _say(lang, f"--only 需要至少一个检查名：{valid}", f"--only needs a check: {valid}")
        )
    return names


def gateway_endpoint(
    url: str | None, enrolment: Enrolment | None, lang: Lang
) -> GatewayEndpoint | None:
    """Where the network check measures: `--gateway` or the enrolled gateway, trusted through
    the CA enrolment pinned; None before enrolment (the check is then skipped)."""
    if url is None:
        if enrolment is None:
            return None
        return GatewayEndpoint(enrolment.control_url, Path(enrolment.ca_file))
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
        raise CommandError(
            _say(
                lang,
                f"网关地址 {url} 无效：应为 https://主机:端口",
                f"gateway address {url} is not valid: give https://host:port",
            )
        )
    if enrolment is None:
        raise CommandError(
            _say(
                lang,
                "--gateway 需要先登记（网关证书来自登记）：请先运行 homeagent enrol 登记码 "
                "--gateway 网址",
                "--gateway needs this PC enrolled (the gateway's certificate comes with "
                "enrolment): run `homeagent enrol CODE --gateway URL` first",
            )
        )
    return GatewayEndpoint(f"https://{parts.netloc}", Path(enrolment.ca_file))


# --- progress on stderr -----------------------------------------------------------------------

QUIET_SECONDS = 1.0
"""A check that finishes within this shows no progress; one that takes longer shows it."""


class ProgressLines:
    """A check's progress on stderr once it has run for over a second (messages for the agent
    at once): one line rewritten in place on a terminal, plain lines at most once a second
    otherwise (logs, screen readers, pipes)."""

    def __init__(
        self, stream: TextIO, lang: Lang, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream
        self._lang = lang
        self._clock = clock
        self._tty = stream.isatty()
        self._started: dict[str, float] = {}
        self._last_line: dict[str, float] = {}
        self._open = False

    def start(self, check: str) -> None:
        self._started[check] = self._clock()

    def __call__(self, progress: Progress) -> None:
        now = self._clock()
        started = self._started.setdefault(progress.check, now)
        if progress.message is not None:
            self._line(f"{label(progress.check, self._lang)}: {progress.message(self._lang)}")
        if now - started <= QUIET_SECONDS:
            return
        text = describe(progress, self._lang)
        if self._tty:
            self._stream.write("\r\x1b[K" + text)
            self._stream.flush()
            self._open = True
        elif now - self._last_line.get(progress.check, -QUIET_SECONDS) >= QUIET_SECONDS:
            self._last_line[progress.check] = now
            self._line(text)

    def _line(self, text: str) -> None:
        self.close()
        self._stream.write(text + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Clears the line rewritten in place, so the table starts on a clean line."""
        if self._open:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._open = False


# --- the table --------------------------------------------------------------------------------


def wrapped(text: str, columns: int) -> list[str]:
    """Lines of at most `columns` terminal columns: English breaks between words, Chinese
    between any two characters."""
    chunks = re.findall(r"[\x21-\x7e]+ *| +|.", text)
    lines, line = [], ""
    for chunk in chunks:
        if line and width(line + chunk.rstrip()) > columns:
            lines.append(line.rstrip())
            line = chunk.lstrip()
        else:
            line += chunk
    if line.strip():
        lines.append(line.rstrip())
    return lines


def render_table(
    results: Sequence[CheckResult], passed: bool, lang: Lang, columns: int = 80
) -> str:
    """The checks as an agent reads them: one line each with its figures, what to do under
    any that did not pass, and the outcome last."""
    zh = lang == "zh"
    labels = [label(r.name, lang) for r in results]
    column = max([width(t) for t in labels] + [4]) + 2
    status_column = max(width(STATUS_WORDS[s][0 if zh else 1]) for s in Status) + 2
    lines = ["居家环境检查" if zh else "Home-setup checks", ""]
    for result, text in zip(results, labels, strict=True):
        word = STATUS_WORDS[result.status][0 if zh else 1]
        row = "  " + padded(text, column) + padded(word, status_column) + figures(result, lang)
        lines.append(row.rstrip())
        if result.hint is not None:
            hint = wrapped(result.hint(lang), max(40, columns - 6))
            lines.extend(["    → " + hint[0], *("      " + more for more in hint[1:])])
    failed = [label(r.name, lang) for r in results if r.status is Status.FAIL]
    warned = [label(r.name, lang) for r in results if r.status is Status.WARN]
    lines.append("")
    if not passed:
        lines.append(
            f"未通过：{len(failed)} 项未通过（{'、'.join(failed)}）。请按提示处理后重新检查。"
            if zh
            else f"Not passed: {len(failed)} failed ({', '.join(failed)}). Do what is said above, "
            "then check again."
        )
    elif warned:
        lines.append(
            f"通过，有 {len(warned)} 项警告（{'、'.join(warned)}）。"
            if zh
            else f"Passed, with {len(warned)} warning(s) ({', '.join(warned)})."
        )
    else:
        lines.append("全部通过。" if zh else "All passed.")
    return "\n".join(lines)
