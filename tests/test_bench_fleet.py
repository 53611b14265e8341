"""The fleet load tool works end to end: a handful of agents against two real gateways on a
throwaway PostgreSQL for a few seconds, and its figures are sane (requests of every kind made and
answered, no errors, gateway memory measured)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .pg import PostgresUnavailableError, _bin_dir

ROOT = Path(__file__).resolve().parent.parent


def _postgres_missing() -> bool:
    try:
        _bin_dir()
    except PostgresUnavailableError:
        return True
    return False


@pytest.mark.skipif(_postgres_missing(), reason="PostgreSQL server not installed")
def test_a_small_floor_runs_and_reports_sane_figures(tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_fleet", "--agents", "4", "--duration", "4",
         "--saturate", "1.5", "--warmup", "1", "--processes", "2", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    phases = {p["name"]: p for p in json.loads(out.read_text())["phases"]}
    assert list(phases) == [
        "shift start",
        "steady, 1 proc",
        "flat out, 1 proc",
        "steady, 2 proc",
        "flat out, 2 proc",
        "clock out",
    ]
    for phase in phases.values():
        assert phase["errors"] == {}, phase
    start = phases["shift start"]["kinds"]
    for kind in ("enrol", "posture", "settings", "clock-in", "status"):
        assert start[kind]["count"] == 4, (kind, start)
    assert phases["clock out"]["kinds"]["clock-out"]["count"] == 4
    for name in ("steady, 1 proc", "steady, 2 proc", "flat out, 1 proc", "flat out, 2 proc"):
        phase = phases[name]
        page = phase["kinds"]["page"]
        assert page["count"] > 0 and 0 < page["p50_ms"] <= page["p99_ms"] < 30_000, phase
        assert phase["requests_per_s"] > 0
        assert all(50 < rss < 2000 for rss in phase["gateway_rss_mb"]), phase
        assert len(phase["gateway_rss_mb"]) == phase["processes"]
    # 4 agents at ~1 req/s for 4 s: about 16 answered; a few is Poisson, none would be a fault.
    assert phases["steady, 1 proc"]["answered"] >= 4
    # Flat out with no pause carries more than the realistic rate.
    assert phases["flat out, 1 proc"]["requests_per_s"] > phases["steady, 1 proc"]["requests_per_s"]
    assert "goal: gateway memory" in done.stdout
