"""The protect step on its own: mask then watermark one body, inline or in a worker process;
whatever cannot be read is refused, never passed on."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from homeagent.proxy.core.masking import Masker
from homeagent.proxy.core.policy.loader import LoadedPolicy, load_policy
from homeagent.proxy.core.watermark import MarkReader, Watermarker
from homeagent.proxy.gateway.protect import (
    INLINE_BYTES,
    WORKER_GC_THRESHOLD,
    CannotProtectError,
    Job,
    ProtectPool,
    protect,
)
from homeagent.proxy.sample_app.dataset import build_dataset

ACME = Path(__file__).resolve().parent.parent / "policies" / "examples" / "acme.yaml"
PSEUDONYM_KEY = b"test-pseudonym-key-0123456789abc"
WATERMARK_KEY = bytes(range(32))
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
URL = "https://crm.acme.test/tickets/recent"


@pytest.fixture(scope="module")
def loaded() -> LoadedPolicy:
    return load_policy(ACME)


@pytest.fixture(scope="module")
def engines(loaded: LoadedPolicy) -> tuple[Masker, Watermarker]:
    return Masker(loaded.policy, PSEUDONYM_KEY), Watermarker(loaded.policy, WATERMARK_KEY)


@pytest.fixture(scope="module")
def pool(loaded: LoadedPolicy) -> Iterator[ProtectPool]:
    workers = ProtectPool(loaded, PSEUDONYM_KEY, WATERMARK_KEY, 1)
    yield workers
    workers.close()


def tickets(count: int) -> tuple[bytes, list[str]]:
    """A ticket list with each ticket's customer record, and the customers' mobile numbers."""
    dataset = build_dataset(40, seed=7)
    customers = {c.id: c for c in dataset.customers}
    items = [
        {**t.as_json(), "customer": customers[t.customer_id].as_json()}
        for t in dataset.tickets[:count]
    ]
    mobiles = [customers[t.customer_id].mobile.canonical for t in dataset.tickets[:count]]
    return json.dumps({"tickets": items}, ensure_ascii=False).encode(), mobiles


def job(body: bytes, content_type: str = "application/json; charset=utf-8") -> Job:
    return Job(body, content_type, None, None, "inbound", URL, "A1023", "ABCDEFGH", NOW)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def test_a_json_body_comes_back_masked_valid_and_marked_for_the_agent(
    engines: tuple[Masker, Watermarker],
) -> None:
    body, mobiles = tickets(30)
    protected = protect(*engines, job(body))
    text = protected.body.decode()
    json.loads(text)
    assert not [m for m in mobiles if m in _digits(text)]
    assert protected.counts["cn_mobile"] >= len(set(mobiles))
    assert protected.marks > 0
    marks = MarkReader(WATERMARK_KEY).trace(text)
    assert [(m.agent, m.reference, m.verified) for m in marks] == [("A1023", "ABCDEFGH", True)]


@pytest.mark.parametrize(
    "body",
    [
        b'{"mobile": "13800138000", "note": "call back"',
        b'{"mobile": "13800138000"} trailing',
        b"\xff\xfe{}",
    ],
)
def test_a_json_body_that_does_not_parse_is_refused(
    engines: tuple[Masker, Watermarker], body: bytes
) -> None:
    with pytest.raises(CannotProtectError):
        protect(*engines, job(body))


def test_a_worker_gives_what_the_event_loop_would(
    engines: tuple[Masker, Watermarker], pool: ProtectPool
) -> None:
    body, _ = tickets(30)
    assert len(body) > INLINE_BYTES  # so it goes to the worker
    inline = protect(*engines, job(body))
    in_worker = asyncio.run(pool.run(*engines, job(body)))
    assert in_worker.body == inline.body
    assert in_worker.counts == inline.counts and in_worker.marks == inline.marks


def test_a_worker_refuses_what_it_cannot_read(
    engines: tuple[Masker, Watermarker], pool: ProtectPool
) -> None:
    body, _ = tickets(30)
    broken = body[: len(body) // 2]
    assert len(broken) > INLINE_BYTES
    with pytest.raises(CannotProtectError):
        asyncio.run(pool.run(*engines, job(broken)))


def test_a_worker_collects_garbage_seldom(pool: ProtectPool) -> None:
    """Each body leaves hundreds of thousands of short-lived objects: a worker does not stop to
    collect every 700 of them."""
    assert pool._pool is not None
    threshold = pool._pool.submit(gc.get_threshold).result(timeout=60)
    assert threshold[0] == WORKER_GC_THRESHOLD
    assert pool._pool.submit(gc.get_freeze_count).result(timeout=60) > 0


def _workers_running() -> set[int]:
    return {
        p.pid
        for p in psutil.Process().children()
        if any("spawn_main" in part for part in p.cmdline())
    }


def test_workers_start_with_the_pool_not_with_the_first_large_body(loaded: LoadedPolicy) -> None:
    before = _workers_running()
    started = ProtectPool(loaded, PSEUDONYM_KEY, WATERMARK_KEY, 2)
    try:
        deadline = time.monotonic() + 30
        while len(_workers_running() - before) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_workers_running() - before) == 2
    finally:
        started.close()


ORPHAN_SCRIPT = """
import sys
from pathlib import Path
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.gateway.protect import ProtectPool, _ready

pool = ProtectPool(load_policy(Path(sys.argv[1])), b"k" * 32, bytes(32), 2)
for _ in range(4):
    pool._pool.submit(_ready).result(timeout=60)
print(" ".join(str(pid) for pid in pool._pool._processes), flush=True)
sys.stdin.read()  # until the test kills this process
"""


def test_workers_of_a_gateway_killed_outright_do_not_outlive_it() -> None:
    gateway = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT, str(ACME)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert gateway.stdout is not None
        workers = [psutil.Process(int(pid)) for pid in gateway.stdout.readline().split()]
        assert len(workers) == 2 and all(w.is_running() for w in workers)
        gateway.kill()  # SIGKILL: no shutdown, no chance to stop its workers
        gateway.wait(timeout=10)
        # a worker still starting (importing) when its gateway died goes as soon as it is up
        _, alive = psutil.wait_procs(workers, timeout=60)
        for worker in alive:  # a failing run leaves nothing behind
            worker.kill()
        assert alive == [], f"orphaned masking workers still running: {alive}"
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait(timeout=10)
