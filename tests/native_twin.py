"""The masking and watermarking code run from its sources, beside its mypyc-compiled modules
(scripts/native.py): `python -m tests.native_twin` prints, as JSON, what the sources make of the
sample bodies; test_native.py sets that beside what the compiled modules make of them."""

from __future__ import annotations

import datetime as dt
import html
import importlib.abc
import importlib.machinery
import importlib.util
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from homeagent.proxy.gateway.native_build import MODULE_PACKAGES, compiled_modules, masking_build

POLICY = Path(__file__).resolve().parent.parent / "policies" / "examples" / "acme.yaml"
RECORDS = 160
NOW = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)


class SourcesFirst(importlib.abc.MetaPathFinder):
    """Imports the compiled packages' modules from their .py files, although an extension module
    of the same name stands beside each (which Python would otherwise prefer)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, leaf = fullname.rpartition(".")
        if package not in MODULE_PACKAGES or path is None:
            return None
        for folder in path:
            source = Path(folder) / f"{leaf}.py"
            if source.exists():
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def bodies() -> list[tuple[str, bytes]]:
    """(content type, body): JSON records with every spelling the masking benchmark makes, the
    CRM's tickets page, and the records' notes as a page and as plain text."""
    from benchmarks.bench_gateway import crm_body
    from benchmarks.bench_masking import make_record

    rng = random.Random(20261204)
    records = [make_record(rng, n) for n in range(RECORDS)]
    parts = []
    for record in records:
        text = json.dumps(record.data, ensure_ascii=False)
        for placeholder, escape in record.escapes.items():
            text = text.replace(f'"{placeholder}"', f'"{escape}"')
        parts.append(text)
    rows = "".join(
        f"<tr><td>{html.escape(str(r.data['name']))}</td><td>{html.escape(str(r.data['phone']))}"
        f"</td><td>{html.escape(r.data['notes'])}</td></tr>"
        for r in records
    )
    notes = "\n".join(
        f"{r.data['notes']} {r.data['landline']} {r.data['bank_card']}" for r in records
    )
    return [
        ("application/json", ("[" + ",".join(parts) + "]").encode()),
        ("application/json; charset=utf-8", crm_body()[0]),
        ("text/html; charset=utf-8", f"<html><body><table>{rows}</table></body></html>".encode()),
        ("text/plain; charset=utf-8", notes.encode()),
    ]


def protected() -> list[dict[str, object]]:
    """What an inbound agent is shown of each body: text, counts and marks."""
    from homeagent.proxy.core.masking import Masker
    from homeagent.proxy.core.policy.loader import load_policy
    from homeagent.proxy.core.watermark import Watermarker
    from homeagent.proxy.gateway.protect import Job, protect

    policy = load_policy(POLICY).policy
    masker, watermarker = Masker(policy, b"p" * 32), Watermarker(policy, b"w" * 32)
    shown = []
    for content_type, body in bodies():
        job = Job(
            body, content_type, None, None, "inbound", "https://crm.acme.test/tickets/recent",
            "A1001", "ABCDEFGH", NOW,
        )  # fmt: skip
        result = protect(masker, watermarker, job)
        shown.append({"body": result.body.decode(), "counts": result.counts, "marks": result.marks})
    return shown


if __name__ == "__main__":
    sys.meta_path.insert(0, SourcesFirst())
    shown = protected()
    said = {"compiled": compiled_modules(), "build": masking_build(), "shown": shown}
    print(json.dumps(said, ensure_ascii=False))
