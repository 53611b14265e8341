"""A separate process for the store's crash and race tests: `python -m tests.store_child MODE ...`.

- `audit URL BATCH`: appends audit records forever (BATCH per commit), printing each
  acknowledged seq, one per line, after its commit returned.
- `status URL AGENT SESSION`: records status changes forever, printing each acknowledged
  client event ID.
- `open URL`: prints `ready`, waits for a line on stdin, opens (and so migrates) the store and
  prints `opened`.
- `enrol URL CODE`: prints `ready`, waits for a line on stdin, redeems CODE with a fresh device
  key and prints `won` or the refusal's class name.
"""

from __future__ import annotations

import itertools
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.proxy.store import Store, StoreError

INSTANCE = "gw-crash"


def audit(url: str, batch: int) -> None:
    store = Store.open(url)
    writer = store.audit_writer(INSTANCE, Ed25519PrivateKey.generate())
    for n in itertools.count():
        entries = [
            ("flow", {"n": n, "i": i, "url": f"https://crm.test/c/{n}"}) for i in range(batch)
        ]
        for record in writer.append_many(entries):
            print(record["seq"], flush=True)


def status(url: str, agent: str, session: str) -> None:
    store = Store.open(url)
    for n in itertools.count():
        target, reason = ("ready", None) if n % 2 == 0 else ("not_ready", "meeting")
        event_id = f"e{n}"
        store.record_status(agent, session, target, reason, client_event_id=event_id)
        print(event_id, flush=True)


def open_(url: str) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    Store.open(url).close()
    print("opened", flush=True)


def enrol(url: str, code: str) -> None:
    store = Store.open(url)
    key = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    store.list_agents()  # a pooled connection is open before the start: a tight race
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        store.enrol(code, key)
    except StoreError as err:
        print(type(err).__name__, flush=True)
    else:
        print("won", flush=True)


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "audit":
        audit(rest[0], int(rest[1]))
    elif mode == "status":
        status(*rest)
    elif mode == "open":
        open_(rest[0])
    elif mode == "enrol":
        enrol(*rest)
    else:
        sys.exit(f"unknown mode {mode}")
