"""Signed requests taken once: two stores on one database (two gateway instances) take a request
once between them, however many threads present it at the same moment; a remembered request is
forgotten once its time has left the clock window."""

from __future__ import annotations

import datetime as dt
import threading

from homeagent.proxy.store import Store

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
UNTIL = NOW + dt.timedelta(seconds=301)


def test_a_request_is_taken_once_across_instances_and_threads(db_url: str) -> None:
    signed = b"POST\n/v1/clock-in\n1796374800\n" + b"ab" * 32
    taken: list[bool] = []
    lock = threading.Lock()
    with Store.open(db_url) as first, Store.open(db_url) as second:

        def present(store: Store) -> None:
            result = store.first_use("A1023", signed, until=UNTIL, now=NOW)
            with lock:
                taken.append(result)

        threads = [threading.Thread(target=present, args=(s,)) for s in (first, second) * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(taken) == [False] * 5 + [True]
        # the same text from another agent is another request
        assert second.first_use("A1024", signed, until=UNTIL, now=NOW) is True


def test_a_request_past_its_window_is_forgotten(store: Store) -> None:
    signed = b"POST\n/v1/session/renew\n1796374800\n" + b"cd" * 32
    assert store.first_use("A1023", signed, until=UNTIL, now=NOW) is True
    assert store.first_use("A1023", signed, until=UNTIL, now=UNTIL) is False
    # the clock check refuses such a request by then: keeping it would only fill the table
    later = UNTIL + dt.timedelta(seconds=1)
    assert store.first_use("A1024", b"another", until=later, now=later) is True
    assert store.first_use("A1023", signed, until=later, now=later) is True
