"""The supervisor's reports over what a real gateway recorded: an agent clocked in, one page
allowed and one refused through the proxy, then read back with `report` and `agents watch`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from homeagent.proxy.cli import main

from .gateway_harness import GatewayHarness


def test_a_refused_request_through_the_gateway_is_in_the_security_report(
    harness: GatewayHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    _, token = harness.clock_in("R5001", "inbound")
    with harness.client(token) as client:
        allowed = client.get("https://crm.acme.test/customers/1001")
        refused = client.get("https://crm.acme.test/admin/export.jsonl")
    assert (allowed.status_code, refused.status_code) == (200, 403)
    now = dt.datetime.now(dt.UTC)
    window = [
        "--from", (now - dt.timedelta(hours=1)).isoformat(),
        "--to", (now + dt.timedelta(hours=1)).isoformat(),
        "--tz", "UTC", "--db", harness.config.db_url,
    ]  # fmt: skip

    assert main(["report", "security", *window, "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out)["rows"] if r["agent"] == "R5001"]
    assert [(r["rule"], r["outcome"], r["count"]) for r in rows] == [("default-deny", "blocked", 1)]
    assert rows[0]["example"] == refused.headers["X-Homeagent-Reference"]

    assert main(["report", "attendance", *window]) == 0
    shifts = [r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))]
    assert [(r["agent"], r["state"]) for r in shifts if r["agent"] == "R5001"] == [
        ("R5001", "open")
    ]

    assert main(["agents", "watch", "--once", "--format", "csv", "--db", window[-1]]) == 0
    floor = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["agent"], r["status"]) for r in floor if r["agent"] == "R5001"] == [
        ("R5001", "no_status")
    ]
