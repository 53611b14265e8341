"""The TUI on the real shift: an enrolled ShiftService behind ServiceShift, against the real
control API (and, for the forwarder, the whole gateway in front of the sample app): the
checklist sent as the posture report with the gateway's verdict shown, clock-in through the
notice, status keys recorded by the gateway, changes queued while it is away and delivered when
it is back, activity, and the local forwarder carrying a page from clock-in to clock-out."""

from __future__ import annotations

import ssl
import time
from contextlib import AbstractContextManager, ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from textual.widgets import DataTable, Static

from homeagent.client.session.service import RECHECK_FILE, ShiftService
from homeagent.client.ui.app import HomeagentApp, UiConfig, make_app
from homeagent.client.ui.confirm_dialog import ConfirmDialog
from homeagent.client.ui.notice_dialog import NoticeDialog
from homeagent.client.ui.service_shift import ServiceShift
from homeagent.proxy.store.engine import sqlite_url

from .control_fixtures import Gateway, WallClock, make_ca, running_gateway
from .gateway_harness import GatewayHarness
from .session_fixtures import cpu_only_policy, enrolled_service, passing_results
from .ui_pilot import run_bounded, shown, wait_for

SIZE = (80, 24)


def real_app(service: ShiftService, **changes: Any) -> HomeagentApp:
    """The app as `homeagent ui` builds it for an enrolled PC, with `changes` to its config."""
    config = UiConfig(
        lang="en",
        shift=ServiceShift(service),
        thresholds=lambda: service.settings().posture,
        shift_poll_seconds=0.3,
        forward_port=0,
    )
    return make_app(replace(config, **changes))


def status_text(app: HomeagentApp) -> str:
    return shown(app.work_screen.query_one("#status-box", Static))


def idle(app: HomeagentApp) -> bool:
    return not app.work_screen.busy and app.screen is app.work_screen


def cpu_only_gateway(
    folder: Path, ca: tuple[bytes, bytes], port: int = 0, instance: str = "gw-a"
) -> AbstractContextManager[Gateway]:
    """The control API with only the CPU check on (the others depend on this machine's
    microphone and line), on the wall clock; the same `ca` and `port` restart it."""
    policy = folder / "cpu-only.yaml"
    cpu_only_policy(policy, min_cores=1)
    return running_gateway(
        sqlite_url(folder / "gateway.db"),
        folder,
        policy,
        clock=WallClock(),
        ca=ca,
        port=port,
        instance=instance,
    )


def test_checks_reach_the_gateway_then_clock_in_status_keys_and_the_queue(
    tmp_path: Path,
) -> None:
    ca = make_ca()
    with ExitStack() as running:
        gateway = running.enter_context(cpu_only_gateway(tmp_path, ca))
        port = gateway.server.port
        service = enrolled_service(gateway, tmp_path / "home")
        app = real_app(service)

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:
                # the checklist runs under the gateway's limits and goes to it as the report
                await wait_for(pilot, lambda: app.check_screen.verdict is not None)
                summary = shown(app.check_screen.query_one("#checks-summary", Static))
                assert "Gateway: passed" in summary
                await pilot.press("w")
                await wait_for(pilot, lambda: idle(app) and status_text(app) == "Clocked out")
                await pilot.press("i")
                await wait_for(pilot, lambda: isinstance(app.screen, NoticeDialog))
                await pilot.press("enter")
                await wait_for(
                    pilot, lambda: idle(app) and status_text(app).startswith("Not ready")
                )
                await pilot.press("1")
                await wait_for(pilot, lambda: idle(app) and status_text(app) == "Ready")
                assert service.gateway_status()["status"] == "ready"
                # the gateway goes away: the change waits on this PC and is shown waiting
                running.close()
                await pilot.press("3")
                await wait_for(pilot, lambda: idle(app) and status_text(app) == "Break")
                assert [c.status for c in app.work_screen.pending] == ["break"]
                assert "kept on this PC" in shown(app.work_screen.query_one("#pending", Static))
                # back again: the look the app takes by itself delivers it
                back = running.enter_context(cpu_only_gateway(tmp_path, ca, port, "gw-b"))
                await wait_for(pilot, lambda: app.work_screen.pending == ())
                history = [e.status.value for e in back.store.status_history("A1023")]
                assert history == ["not_ready", "ready", "break"]
                await pilot.press("a")
                await wait_for(pilot, lambda: not app.activity_screen.loading_entries)

        run_bounded(scenario())


def test_the_forwarder_carries_pages_from_clock_in_to_clock_out(
    harness: GatewayHarness, tmp_path: Path
) -> None:
    control = harness.gateway.control
    assert control is not None
    code = harness.gateway.store.add_agent("A7201", "inbound").code
    service = ShiftService(tmp_path / "home", "en")
    service.enrol(code, control.url, ca_pem=harness.config.ca_cert.read_text())
    assert service.send_posture(passing_results()).passed  # the acme checks need a microphone
    app = real_app(service, run_checks_at_start=False, first_mode="work")

    trust = ssl.create_default_context(cafile=str(harness.config.ca_cert))

    async def fetch(proxy: str, url: str = "https://kb.acme.test/") -> httpx.Response:
        async with httpx.AsyncClient(proxy=proxy, verify=trust, timeout=30) as browser:
            return await browser.get(url)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "Clocked out")
            assert app.forwarder is None
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, NoticeDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: idle(app) and app.forwarder is not None)
            forwarder = app.forwarder
            assert forwarder is not None
            note = shown(app.work_screen.query_one("#work-note", Static))
            assert forwarder.pac_url in note and str(forwarder.port) in note
            page = await fetch(forwarder.proxy_url)
            assert page.status_code == 200
            assert page.headers.get("X-Homeagent-Reference")  # the gateway audited it
            refused = await fetch(forwarder.proxy_url, "https://crm.acme.test/admin/export.jsonl")
            assert refused.status_code == 403
            # what the gateway refused is on the activity screen, with its rule
            await pilot.press("a")
            await wait_for(pilot, lambda: bool(app.activity_screen.entries))
            entries = app.activity_screen.entries or ()
            assert any(e.path == "/admin/export.jsonl" and e.rule for e in entries)
            table = app.activity_screen.query_one(DataTable)
            assert "blocked" in [str(cell) for cell in table.get_row_at(0)]
            await pilot.press("w")
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "Clocked out")
            await wait_for(pilot, lambda: app.forwarder is None)
            assert "proxy.pac" not in shown(app.work_screen.query_one("#work-note", Static))
            try:
                await fetch(forwarder.proxy_url)
            except httpx.TransportError:
                pass  # nobody listens any more: nothing passes after clock-out
            else:
                raise AssertionError("the forwarder still answered after clock-out")

    run_bounded(scenario())


def test_heartbeat_and_the_scheduled_recheck_run_by_themselves(tmp_path: Path) -> None:
    with cpu_only_gateway(tmp_path, make_ca()) as gateway:
        service = enrolled_service(gateway, tmp_path / "home")
        assert service.send_posture(passing_results()).passed
        service.clock_in(gateway.notice_version)
        session = gateway.store.open_session("A1023")
        assert session is not None
        assert gateway.store.last_heartbeat(session.id) is None
        first = gateway.store.latest_posture("A1023")
        assert first is not None
        # no report known on this PC: the re-check is due at once
        (service.home / RECHECK_FILE).unlink()
        due = service.next_recheck_at()
        assert due is not None and due <= time.time()
        app = real_app(service, run_checks_at_start=False, first_mode="work", heartbeat_seconds=0.2)

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: gateway.store.last_heartbeat(session.id) is not None)
                # the re-check ran the checks under the gateway's limits and sent them
                await wait_for(pilot, lambda: _latest_report_id(gateway) > first.id)
                report = gateway.store.latest_posture("A1023")
                assert report is not None and report.passed
                # the schedule is saved once the gateway's answer is back: a moment after the
                # report is in the store
                await wait_for(pilot, lambda: (service.next_recheck_at() or 0) > time.time())
                await wait_for(pilot, lambda: not app.ticking)
                assert app.screen is app.work_screen  # no dialog: it happened in the background
                assert status_text(app).startswith("Not ready")  # a pass never sets ready

        run_bounded(scenario())


def _latest_report_id(gateway: Gateway) -> int:
    report = gateway.store.latest_posture("A1023")
    return report.id if report is not None else -1
