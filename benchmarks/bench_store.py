"""Store speed on SQLite (WAL, synchronous=FULL) and PostgreSQL (a throwaway local cluster,
fsync on): audit appends per second, one commit each and batched, and the per-flow session check.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homeagent.proxy.store import Store
from homeagent.proxy.store.engine import sqlite_url
from tests.pg import PostgresCluster, PostgresUnavailableError
from tests.store_fixtures import on_shift

SECONDS = 3.0
BATCH = 100
FLOW = {
    "agent": "A1023",
    "method": "GET",
    "url": "https://crm.acme.test/customers/4711?tab=orders",
    "decision": "allow",
    "rule": "crm-read",
    "masked": {"cn_mobile": 3, "cn_id_card": 1},
    "watermark": "wm-7f3a9c",
    "sizes": {"request": 612, "response": 48213},
}


def rate(step: Callable[[], int]) -> float:
    """Items per second over about SECONDS (step returns how many items it did)."""
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < SECONDS:
        done += step()
    return done / elapsed


def measure(url: str) -> dict[str, float]:
    with Store.open(url) as store:
        writer = store.audit_writer("bench", Ed25519PrivateKey.generate())
        single = rate(lambda: len([writer.append("flow", FLOW)]))
        batched = rate(lambda: len(writer.append_many([("flow", FLOW)] * BATCH)))
        session = on_shift(store).session.id
        checks = rate(lambda: sum(store.is_session_active(session) for _ in range(100)))
        start = time.perf_counter()
        reports = store.verify_audit()
        verify = reports[0].records / (time.perf_counter() - start)
        assert all(r.intact for r in reports)
    return {"single": single, "batched": batched, "session_check": checks, "verify": verify}


def show(name: str, figures: dict[str, float]) -> None:
    print(
        f"{name:<11} audit append {figures['single']:8.0f}/s one commit each, "
        f"{figures['batched']:8.0f}/s in batches of {BATCH} "
        f"(x{figures['batched'] / figures['single']:.0f}); "
        f"session check {figures['session_check']:7.0f}/s; "
        f"verify {figures['verify']:7.0f} records/s"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        show("SQLite", measure(sqlite_url(Path(tmp) / "homeagent.db")))
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailableError as err:
        print(f"PostgreSQL  skipped: {err}")
        return
    try:
        show("PostgreSQL", measure(cluster.new_database()))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
