"""Building blocks for the client session tests: a real control API on loopback whose clock is
the real one (the client signs with the PC's clock), codes from its store, and check results
that pass the default policy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from homeagent.client.checks.result import CheckResult, Status
from homeagent.client.session.service import ShiftService
from homeagent.proxy.store.engine import sqlite_url

from .control_fixtures import (
    DEFAULT_POLICY,
    PASSING,
    Gateway,
    WallClock,
    make_ca,
    running_gateway,
)


@contextmanager
def wall_gateway(
    tmp: Path,
    *,
    ca: tuple[bytes, bytes] | None = None,
    port: int = 0,
    instance: str = "gw-test",
) -> Iterator[Gateway]:
    """The control API on SQLite in `tmp`, on the wall clock; the same `ca` and `port` (and
    another `instance`) restart it on the same database."""
    with running_gateway(
        sqlite_url(tmp / "gateway.db"),
        tmp,
        clock=WallClock(),
        ca=ca,
        port=port,
        instance=instance,
    ) as gateway:
        yield gateway


def new_code(gateway: Gateway, agent: str = "A1023", role: str = "inbound") -> str:
    """A one-time code for a new agent, or a new code for a known one."""
    if agent in {a.id for a in gateway.store.list_agents()}:
        return gateway.store.issue_code(agent, audit=gateway.audit).code
    return gateway.store.add_agent(agent, role, audit=gateway.audit).code


def passing_results(**failing: dict[str, object]) -> list[CheckResult]:
    """Results of every check as measured on a good home setup; `failing` replaces some
    measurements (the client's own status then says fail)."""
    results = []
    for name, measured in PASSING.items():
        changed = failing.get(name)
        status = Status.FAIL if changed else Status.PASS
        results.append(CheckResult(name, status, measured={**measured, **(changed or {})}))
    return results


def enrolled_service(gateway: Gateway, home: Path, agent: str = "A1023") -> ShiftService:
    service = ShiftService(home, "en")
    service.enrol(new_code(gateway, agent), gateway.server.url, ca_pem=gateway.ca_pem.decode())
    return service


def on_shift(gateway: Gateway, home: Path, agent: str = "A1023") -> ShiftService:
    service = enrolled_service(gateway, home, agent)
    assert service.send_posture(passing_results()).passed
    service.clock_in(gateway.notice_version)
    return service


OTHER_THAN_CPU = ("memory", "network", "noise", "audio_devices", "removable_storage", "processes")


def cpu_only_policy(path: Path, min_cores: int) -> None:
    """Write the default policy with only the cpu check on (the others are slow or depend on
    this machine), needing `min_cores` logical cores and any load: 512 fails here."""
    off = "".join(f"    {name}: {{level: 'off'}}\n" for name in OTHER_THAN_CPU)
    path.write_text(
        "version: 1\n"
        f"include: ['{DEFAULT_POLICY}']\n"
        "posture:\n"
        "  checks:\n"
        f"    cpu: {{level: required, min_logical_cores: {min_cores}, max_load_percent: 100}}\n"
        f"{off}",
        encoding="utf-8",
    )


__all__ = ["make_ca"]
