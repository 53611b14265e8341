"""How fast the gateway watermarks a response: MB/s for 1 MB of HTML, JSON and plain text."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.core.watermark import BodyKind, MarkReader, Watermarker, new_reference

SIZE = 1_000_000
ROUNDS = 5
KEY = bytes(range(32))
NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
ENGLISH = (
    "customer called about the late delivery refund order parcel damaged replacement please call"
    " back tomorrow morning account balance invoice complaint escalated resolved"
)
CHINESE = "客户来电反映快递延误了三天，要求退款。已告知客户会在两个工作日内处理完毕，请注意跟进。"


def prose(rng: random.Random, length: int) -> str:
    if rng.random() < 0.4:
        return (CHINESE * (length // len(CHINESE) + 1))[:length]
    out: list[str] = []
    while sum(len(w) + 1 for w in out) < length:
        out.append(rng.choice(ENGLISH.split()))
    return " ".join(out).capitalize() + "."


def html_page(rng: random.Random) -> str:
    rows: list[str] = []
    while sum(map(len, rows)) < SIZE - 2000:
        rows.append(
            f'<tr class="ticket" data-id="T-{rng.randrange(10**6)}"><td>张*</td>'
            f"<td>138****{rng.randrange(10**4):04d}</td>"
            f'<td><a href="/tickets/{rng.randrange(10**6)}">open</a></td>'
            f"<td>{prose(rng, rng.randrange(20, 300))}</td></tr>\n"
        )
    return (
        "<!DOCTYPE html><html><head><title>Tickets</title>"
        "<script>var cfg = {a: 1};</script></head><body><table>\n"
        + "".join(rows)
        + "</table></body></html>"
    )


def json_body(rng: random.Random) -> str:
    records = []
    size = 0
    while size < SIZE - 500:
        record = {
            "id": f"T-{rng.randrange(10**6)}",
            "customer": {"name": "张*", "phone": f"138****{rng.randrange(10**4):04d}"},
            "status": rng.choice(["open", "closed", "pending"]),
            "amount": round(rng.random() * 1000, 2),
            "note": prose(rng, rng.randrange(20, 300)),
        }
        records.append(record)
        size += len(json.dumps(record, ensure_ascii=False)) + 2
    return json.dumps({"tickets": records}, ensure_ascii=False)


def best_of(run: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = random.Random(7)
    bodies: dict[BodyKind, str] = {
        "html": html_page(rng),
        "json": json_body(rng),
        "text": "\n".join(prose(rng, rng.randrange(50, 400)) for _ in range(5000))[:SIZE],
    }
    policy = load_policy(Path(str(files("homeagent.policies") / "default.yaml"))).policy
    marker = Watermarker(policy, KEY)
    reader = MarkReader(KEY)
    columns = ("MB", "mark MB/s", "ms", "trace MB/s", "marks", "growth")
    print(f"{'body':<6}" + "".join(f"{c:>11}" for c in columns))
    for kind, body in bodies.items():
        megabytes = len(body.encode()) / 1e6
        reference = new_reference()

        def mark(kind: BodyKind = kind, body: str = body, reference: str = reference) -> str:
            return marker.watermark_body(
                body, kind=kind, agent="A1023", now=NOW, reference=reference
            )

        marked = mark()
        seconds = best_of(mark)

        def trace(marked: str = marked) -> object:
            return reader.trace(marked)

        trace_seconds = best_of(trace)
        found = reader.trace(marked)
        assert found and found[0].verified
        growth = len(marked.encode()) / len(body.encode()) - 1
        print(
            f"{kind:<6}{megabytes:>11.2f}{megabytes / seconds:>11.1f}{seconds * 1000:>11.1f}"
            f"{megabytes / trace_seconds:>11.1f}{found[0].count:>11}{growth:>11.1%}"
        )


if __name__ == "__main__":
    main()
