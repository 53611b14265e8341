"""What counting rate limits in the store costs each proxied request: one limit's count (an
upsert) on SQLite and PostgreSQL, against the in-memory count a single process would keep.
Bounded: COUNT requests per figure. Prints median and p99 in microseconds."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from homeagent.proxy.core.limits import RateLimits
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.gateway.shared_limits import SharedRateLimits
from homeagent.proxy.store import Store
from homeagent.proxy.store.engine import sqlite_url
from tests.pg import PostgresCluster, PostgresUnavailableError

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "policies" / "examples" / "acme.yaml"
URL = "https://crm.acme.test/customers/1001.json"
COUNT = 2000
AGENTS = 50


def timed(step: object) -> list[float]:
    assert callable(step)
    spent = []
    for n in range(COUNT):
        start = time.perf_counter()
        step(n)
        spent.append((time.perf_counter() - start) * 1e6)
    return spent


def show(name: str, spent: list[float]) -> None:
    p99 = statistics.quantiles(spent, n=100)[98]
    print(f"{name:<34} median {statistics.median(spent):7.0f} µs   p99 {p99:7.0f} µs")


def main() -> None:
    policy = load_policy(ACME).policy
    memory = RateLimits(policy)
    rules = memory.applicable("inbound", "GET", URL)
    print(f"{len(rules)} limits match a customer read in acme.yaml; {COUNT} requests each")
    t0 = time.time()
    show(
        "in memory (one process)",
        timed(lambda n: memory.hit(f"B{n % AGENTS}", "inbound", "GET", URL, t0 + n * 0.001)),
    )
    with tempfile.TemporaryDirectory() as tmp, Store.open(sqlite_url(Path(tmp) / "h.db")) as st:
        shared = SharedRateLimits(st)
        show("SQLite store", timed(lambda n: shared.hit(f"B{n % AGENTS}", rules, time.time())))
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailableError as err:
        print(f"PostgreSQL  skipped: {err}")
        return
    try:
        with Store.open(cluster.new_database()) as st:
            shared = SharedRateLimits(st)
            show(
                "PostgreSQL store (loopback)",
                timed(lambda n: shared.hit(f"B{n % AGENTS}", rules, time.time())),
            )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
