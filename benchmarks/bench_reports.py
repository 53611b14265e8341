"""The supervisor's reports over a month of a 300-agent call center, on SQLite and PostgreSQL:
seconds per report (query and computation), rows out, and the floor view's read.

The month is written straight into the tables in bulk (the store's API would take an hour to
record it one change at a time); agents, devices and the audit chain go through the API.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert

from homeagent.proxy.reports.attendance import attendance
from homeagent.proxy.reports.floor import floor_rows
from homeagent.proxy.reports.security import security_events
from homeagent.proxy.reports.status_time import status_time
from homeagent.proxy.store import Store
from homeagent.proxy.store.engine import sqlite_url
from homeagent.proxy.store.schema import sessions, status_events
from tests.pg import PostgresCluster, PostgresUnavailableError
from tests.store_fixtures import raw_public

AGENTS = 300
DAYS = 22
CONTACTS = 15
"""Contacts per agent per shift: ready → busy → after-call work each, 45 changes a shift."""
FLOWS_PER_SHIFT = 20
START = dt.datetime(2026, 11, 2, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai, a Monday
BATCH = 5000


def fill(store: Store, rng: random.Random) -> dict[str, int]:
    devices = {}
    for n in range(AGENTS):
        agent = f"A{1000 + n}"
        code = store.add_agent(agent, "inbound", now=START - dt.timedelta(hours=1))
        key = raw_public(Ed25519PrivateKey.generate())
        devices[agent] = store.enrol(code.code, key, now=START).device.fingerprint
    writer = store.audit_writer("bench", Ed25519PrivateKey.generate(), now=START)
    shift_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    flows: list[tuple[dt.datetime, dict[str, Any]]] = []
    for day in range(DAYS):
        for agent, device in devices.items():
            begin = START + dt.timedelta(days=day, minutes=rng.randint(0, 40))
            end = begin + dt.timedelta(hours=8, minutes=rng.randint(0, 30))
            session = secrets.token_urlsafe(24)
            last_day = day == DAYS - 1
            shift_rows.append(
                {
                    "id": session,
                    "agent_id": agent,
                    "device_fingerprint": device,
                    "role": "inbound",
                    "started_at": begin,
                    "token_expires_at": end,
                    "ended_at": None if last_day else end,
                    "end_reason": None if last_day else "clock_out",
                }
            )
            at = begin + dt.timedelta(minutes=1)
            event_rows.append(_event(agent, session, "ready", None, at))
            for _ in range(CONTACTS):
                for status, minutes in (("busy", 6), ("after_call_work", 2), ("ready", 20)):
                    at += dt.timedelta(minutes=rng.uniform(0.5, minutes * 2))
                    event_rows.append(_event(agent, session, status, None, min(at, end)))
            if not last_day:
                event_rows.append(_event(agent, session, "offline", "clock_out", end))
            for _ in range(FLOWS_PER_SHIFT):
                when = begin + dt.timedelta(seconds=rng.uniform(0, 8 * 3600))
                denied = rng.random() < 0.05
                flows.append(
                    (
                        when,
                        {
                            "agent": agent,
                            "decision": "deny" if denied else "allow",
                            "rule": "default-deny" if denied else "crm-read",
                            "would_block": ["after-hours"] if rng.random() < 0.02 else [],
                            "reference": secrets.token_hex(6),
                            "method": "GET",
                        },
                    )
                )
    with store.engine.begin() as conn:
        for table, rows in ((sessions, shift_rows), (status_events, event_rows)):
            for i in range(0, len(rows), BATCH):
                conn.execute(insert(table), rows[i : i + BATCH])
    flows.sort(key=lambda flow: flow[0])
    for i in range(0, len(flows), 1000):
        chunk = flows[i : i + 1000]
        writer.append_many([("flow", data) for _, data in chunk], now=chunk[-1][0])
    return {"shifts": len(shift_rows), "status changes": len(event_rows), "flows": len(flows)}


def _event(
    agent: str, session: str, status: str, reason: str | None, at: dt.datetime
) -> dict[str, Any]:
    return {
        "agent_id": agent,
        "session_id": session,
        "status": status,
        "reason": reason,
        "client_event_id": None,
        "client_time": None,
        "server_time": at,
    }


def timed(work: Callable[[], int]) -> tuple[float, int, float]:
    """Seconds (a plain run), rows out, and peak MB of Python allocations (a second run under
    tracemalloc, which slows allocation-heavy code several times over)."""
    start = time.perf_counter()
    rows = work()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, rows, peak


def measure(name: str, url: str) -> None:
    rng = random.Random(7)
    with Store.open(url) as store:
        start = time.perf_counter()
        sizes = fill(store, rng)
        print(f"{name}: filled {sizes} in {time.perf_counter() - start:.0f} s")
        month = (START - dt.timedelta(hours=1), START + dt.timedelta(days=DAYS))
        day = (START + dt.timedelta(days=10, hours=-1), START + dt.timedelta(days=11, hours=-1))
        now = START + dt.timedelta(days=DAYS - 1, hours=4)
        cases: dict[str, Callable[[], int]] = {
            "attendance, month": lambda: len(attendance(store.shifts_started(*month), now)),
            "status, month": lambda: len(status_time(store.status_changes(*month), *month, now)),
            "status, one day": lambda: len(status_time(store.status_changes(*day), *day, now)),
            "security, month": lambda: len(security_events(store.security_flows(*month))),
            "floor read": lambda: len(floor_rows(store.on_shift(), now)),
        }
        for case, work in cases.items():
            seconds, rows, peak = timed(work)
            print(f"  {case:<18} {seconds * 1000:8.0f} ms  {rows:5d} rows  peak {peak:6.1f} MB")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", sqlite_url(Path(tmp) / "homeagent.db"))
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailableError as err:
        print(f"PostgreSQL skipped: {err}")
        return
    try:
        measure("PostgreSQL", cluster.new_database())
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
