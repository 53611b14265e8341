"""`homeagent ui` (and `homeagent` alone on a terminal): the agent's TUI."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..lang import detect_lang
from ..state import load_enrolment
from .check import gateway_endpoint


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "ui",
        help="open the agent's screens: checks, work (clock in, status), activity, help",
        description="Open the agent's terminal UI (what `homeagent` alone does on a terminal).",
    )
    parser.add_argument(
        "--input-device",
        metavar="NAME",
        help="the microphone for the noise check (a name or part of one; default: the system's)",
    )
    parser.set_defaults(handler=ui_command)


def ui_command(args: argparse.Namespace) -> int:
    # Textual loads only here, so `homeagent check` and scripts never pay for it.
    from ..ui.app import UiConfig, make_app

    lang = detect_lang(args.lang)
    enrolment = load_enrolment()
    config = UiConfig(
        lang=lang,
        gateway=gateway_endpoint(None, enrolment, lang),
        input_device=getattr(args, "input_device", None),
    )
    if enrolment is not None:
        from ..browser_trust import BrowserTrust, agent_home
        from ..session.service import ShiftService
        from ..ui.service_shift import ServiceShift
        from .check import thresholds_for

        # The gateway's limits for the agent's role; when it cannot be asked, the checks say so
        # in a dialog rather than judge under other limits.
        service = ShiftService(lang=lang)
        config = UiConfig(
            lang=lang,
            gateway=config.gateway,
            input_device=config.input_device,
            thresholds=lambda: thresholds_for(service, lang),
            shift=ServiceShift(service),
            browsers=BrowserTrust(Path(enrolment.ca_file), agent_home()),
        )
    make_app(config).run()
    return 0
