"""A floor of simulated agents against `homeagent-proxy run` gateways on one PostgreSQL (issue 5,
"Load"): requests per second, p50/p99 per kind of request, errors, gateway memory, and how
throughput grows from one gateway process to two.

What runs: a throwaway PostgreSQL (tests/pg.py), the sample CRM (proxy/sample_app) in its own
process, and `--processes` gateways (`homeagent-proxy run`, policies/examples/acme.yaml, one
masking worker each, a shared data dir so all hold the same token key and CA, distinct
--instance). Everything listens on 127.0.0.1; every phase is bounded in time and the whole run
stops by itself.

Each simulated agent, as its real client would: enrols with a one-time code from the store API,
reports a passing posture (signed with its device key), reads its settings, clocks in, goes ready;
then, per agent, a heartbeat every 30 s (from a random phase), a status change on average every
120 s (busy -> after-call work -> ready) and pages of the sample CRM and knowledge base
(Poisson) at the rate that makes ~1 request/s per agent in all: a person opens a page every few
seconds, and each page brings its own API calls, so one request a second is the issue's
figure. Pages go through a real forwarder (client/forward/) per agent, in this process, on a
keep-alive connection from a minimal browser that sends absolute-form requests; the forwarder
carries them over TLS to the gateway with the agent's token. At the end every agent clocks out.

The scaling figure. On a 2-core machine the gateways share the cores with this generator, the
sample app and PostgreSQL, so the CPU each gets is fixed by pinning (sched_setaffinity):
gateway 1 (with its worker) on the first CPU, gateway 2 on the second, the generator, the sample
app and PostgreSQL on the last. Each process count gets a steady phase (the agents at their
realistic rate: req/s achieved against offered, p50/p99, errors) and a flat-out phase (every
agent sends pages back to back: the saturated req/s, i.e. the capacity of that set-up). The
ratio of the two saturated rates is the scaling figure; since gateway 2 shares its CPU with the
generator, PostgreSQL and the sample app, it is a lower bound of what a second machine's core
would give. CPU seconds per request of the gateways are printed so the cost can be compared
without that bias. Agents are spread round-robin over the gateways by `Front`: pointing them at
a load balancer instead is one `Front([endpoint])`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from homeagent.proxy.store import Store
from tests.pg import PostgresCluster

from .load_agents import ControlApi, Rates, Recorder, Recording, SimAgent, tls_for
from .load_rig import Front, GatewayProcess, SampleCrm, stop_all, tree_cpu_seconds

GOAL_AGENTS = 300
GOAL_P99_MS = 250.0
GOAL_SCALING = 1.7
GOAL_RSS_MB = 500.0
SHIFT_START_CONCURRENCY = 16
"""Agents starting their shifts at once (a floor clocking in at 9:00, bounded)."""


@dataclass
class Phase:
    name: str
    processes: int
    agents: int
    offered_per_s: float | None
    """None: flat out."""
    seconds: float
    recorder: Recorder
    generator_cpu_s: float
    gateway_cpu_s: float
    crm_cpu_s: float
    pg_cpu_s: float = 0.0
    rss_peak: list[int] = field(default_factory=list)
    """Per gateway process in use: its RSS with its workers' (bytes), the highest sampled."""
    pss_peak: list[int] = field(default_factory=list)
    """The same as proportional set size (shared pages counted once)."""
    load_average: float = field(default_factory=lambda: os.getloadavg()[0])
    """The machine's 1-minute load when the phase ended: other work shares the cores."""

    @property
    def answered(self) -> int:
        return sum(len(v) for v in self.recorder.latencies.values())

    @property
    def rate(self) -> float:
        return self.answered / self.seconds

    @property
    def errors(self) -> int:
        return sum(self.recorder.errors.values())

    def percentile(self, q: float, kind: str | None = None) -> float:
        """Milliseconds; all kinds together when `kind` is None."""
        if kind is None:
            values = sorted(v for vs in self.recorder.latencies.values() for v in vs)
        else:
            values = sorted(self.recorder.latencies.get(kind, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "processes": self.processes,
            "agents": self.agents,
            "offered_per_s": self.offered_per_s,
            "seconds": self.seconds,
            "requests_per_s": self.rate,
            "answered": self.answered,
            "errors": dict(self.recorder.errors),
            "p50_ms": self.percentile(0.5),
            "p99_ms": self.percentile(0.99),
            "kinds": {
                kind: {
                    "count": len(values),
                    "p50_ms": self.percentile(0.5, kind),
                    "p99_ms": self.percentile(0.99, kind),
                }
                for kind, values in sorted(self.recorder.latencies.items())
            },
            "generator_cpu_s": self.generator_cpu_s,
            "gateway_cpu_s": self.gateway_cpu_s,
            "crm_cpu_s": self.crm_cpu_s,
            "pg_cpu_s": self.pg_cpu_s,
            "gateway_rss_mb": [r / 1e6 for r in self.rss_peak],
            "gateway_pss_mb": [r / 1e6 for r in self.pss_peak],
            "load_average": self.load_average,
        }


@dataclass
class Floor:
    """The running rig and the simulated agents."""

    gateways: list[GatewayProcess]
    crm: SampleCrm
    agents: list[SimAgent]
    controls: dict[str, ControlApi]
    recording: Recording
    tls: ssl.SSLContext
    pg_pid: int
    me: psutil.Process = field(default_factory=psutil.Process)

    async def measured(
        self,
        name: str,
        processes: int,
        offered: float | None,
        warmup: float,
        seconds: float,
        work: Callable[[SimAgent, float], Awaitable[None]],
    ) -> Phase:
        """Run `work` for every agent for warmup + seconds; figures of the last `seconds`."""
        in_use = self.gateways[:processes]
        rss, pss = [0] * processes, [0] * processes
        start = time.monotonic()
        until = start + warmup + seconds
        runs = asyncio.gather(*(work(agent, until) for agent in self.agents))
        sampler = asyncio.create_task(_sample_memory(in_use, rss, pss, until))
        await asyncio.sleep(max(0.0, start + warmup - time.monotonic()))
        self.recording.swap()  # the warm-up's requests (new connections, first TLS) are not kept
        cpu = self.cpu()
        measured_from = time.monotonic()
        await runs
        await sampler
        recorder = self.recording.swap()
        elapsed = time.monotonic() - measured_from
        after = self.cpu()
        return Phase(
            name=name,
            processes=processes,
            agents=len(self.agents),
            offered_per_s=offered,
            seconds=elapsed,
            recorder=recorder,
            generator_cpu_s=after[0] - cpu[0],
            gateway_cpu_s=sum(after[1][:processes]) - sum(cpu[1][:processes]),
            crm_cpu_s=after[2] - cpu[2],
            pg_cpu_s=after[3] - cpu[3],
            rss_peak=rss,
            pss_peak=pss,
        )

    def cpu(self) -> tuple[float, list[float], float, float]:
        """CPU seconds so far: this generator, each gateway, the sample app, PostgreSQL."""
        mine = self.me.cpu_times()
        return (
            mine.user + mine.system,
            [g.cpu_seconds() for g in self.gateways],
            tree_cpu_seconds(self.crm.process.pid),
            tree_cpu_seconds(self.pg_pid),
        )


async def _sample_memory(
    gateways: list[GatewayProcess], rss: list[int], pss: list[int], until: float
) -> None:
    while time.monotonic() < until:
        for i, gateway in enumerate(gateways):
            rss[i] = max(rss[i], gateway.rss_bytes())
            pss[i] = max(pss[i], gateway.pss_bytes())
        await asyncio.sleep(min(2.0, max(0.0, until - time.monotonic())))


def _cpu_plan(processes: int, pin: bool) -> tuple[list[set[int] | None], set[int] | None]:
    """CPUs for each gateway and for everything else (generator, sample app, PostgreSQL)."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return [None] * processes, None
    return [{cpus[i % len(cpus)]} for i in range(processes)], {cpus[-1]}


async def start_shifts(floor: Floor, front: Front) -> Phase:
    """Every agent enrols, reports posture, clocks in and goes ready (bounded concurrency)."""
    gate = asyncio.Semaphore(SHIFT_START_CONCURRENCY)
    failed: list[str] = []

    async def one(number: int, agent: SimAgent) -> None:
        async with gate:
            control = floor.controls[front.pick(number).control_url]
            if not await agent.start_shift(control):
                failed.append(agent.name)

    before = floor.cpu()
    started = time.monotonic()
    await asyncio.gather(*(one(i, a) for i, a in enumerate(floor.agents)))
    elapsed = time.monotonic() - started
    after = floor.cpu()
    recorder = floor.recording.swap()
    if failed:
        print(f"  {len(failed)} agents could not start their shift: {recorder.errors}")
    return Phase(
        "shift start", len(front.endpoints), len(floor.agents), None, elapsed, recorder,
        after[0] - before[0], sum(after[1]) - sum(before[1]), after[2] - before[2],
        after[3] - before[3],
    )  # fmt: skip


async def attach_all(floor: Floor, front: Front) -> None:
    for number, agent in enumerate(floor.agents):
        endpoint = front.pick(number)
        await agent.attach(endpoint, floor.controls[endpoint.control_url], floor.tls)


async def run(args: argparse.Namespace) -> list[Phase]:
    counts = sorted({1, args.processes})
    gateway_cpus, other_cpus = _cpu_plan(args.processes, not args.no_pin)
    if other_cpus:
        os.sched_setaffinity(0, other_cpus)  # PostgreSQL and the sample app inherit it
    rates = Rates.for_total(args.rate)
    phases: list[Phase] = []
    began = time.monotonic()

    def say(text: str) -> None:
        print(f"  [{time.monotonic() - began:5.0f} s] {text}", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp_name:
        tmp = Path(tmp_name)
        say("starting PostgreSQL, the sample CRM and the gateways …")
        pg = PostgresCluster.start()
        children: list[SampleCrm | GatewayProcess] = []
        floor: Floor | None = None
        try:
            db = pg.new_database()
            crm = SampleCrm(tmp / "crm", other_cpus)
            children.append(crm)
            gateways = []
            for i in range(args.processes):
                gateways.append(
                    GatewayProcess(
                        f"fleet-gw{i + 1}", tmp / "gateway", db, crm, gateway_cpus[i], tmp
                    )
                )
                children.append(gateways[-1])
            _print_plan(gateways, other_cpus, rates, args)
            with Store.open(db) as store:
                codes = [
                    store.add_agent(f"L{10000 + i}", "inbound").code for i in range(args.agents)
                ]
            ca_pem = (tmp / "gateway" / "ca" / "mitmproxy-ca-cert.pem").read_text()
            tls = tls_for(ca_pem)
            recording = Recording()
            controls = {
                g.endpoint.control_url: ControlApi(g.endpoint.control_url, tls, recording)
                for g in gateways
            }
            agents = [
                SimAgent(f"L{10000 + i}", code, args.seed + i, recording)
                for i, code in enumerate(codes)
            ]
            pg_pid = int((pg.root / "data" / "postmaster.pid").read_text().split()[0])
            floor = Floor(gateways, crm, agents, controls, recording, tls, pg_pid)
            everywhere = Front([g.endpoint for g in gateways])
            say(f"{args.agents} agents start their shifts …")
            phases.append(await start_shifts(floor, everywhere))
            for count in counts:
                front = Front([g.endpoint for g in gateways[:count]])
                await attach_all(floor, front)
                say(
                    f"{count} gateway process(es): {args.agents} agents at "
                    f"{rates.total_per_s:.2f} req/s each for {args.warmup:g}+{args.duration:g} s …"
                )
                phases.append(
                    await floor.measured(
                        f"steady, {count} proc",
                        count,
                        rates.total_per_s * args.agents,
                        args.warmup,
                        args.duration,
                        lambda agent, until: agent.work(until, rates),
                    )
                )
                if args.saturate > 0:
                    say(f"{count} gateway process(es): flat out for {args.saturate:g} s …")
                    phases.append(
                        await floor.measured(
                            f"flat out, {count} proc",
                            count,
                            None,
                            min(args.warmup, 2.0),
                            args.saturate,
                            lambda agent, until: agent.browse_flat_out(until),
                        )
                    )
            await attach_all(floor, everywhere)
            say("every agent clocks out …")
            started = time.monotonic()
            gate = asyncio.Semaphore(SHIFT_START_CONCURRENCY)

            async def clock_out(agent: SimAgent) -> None:
                async with gate:
                    await agent.clock_out()

            await asyncio.gather(*(clock_out(agent) for agent in agents))
            elapsed = time.monotonic() - started
            out = Phase("clock out", args.processes, len(agents), None, elapsed,
                        recording.swap(), 0.0, 0.0, 0.0)  # fmt: skip
            phases.append(out)
        finally:
            if floor is not None:
                for agent in floor.agents:
                    await agent.detach()
                for control in floor.controls.values():
                    await control.close()
            stop_all(reversed(children))
            pg.stop()
            say("stopped")
    return phases


def _print_plan(
    gateways: list[GatewayProcess],
    other_cpus: set[int] | None,
    rates: Rates,
    args: argparse.Namespace,
) -> None:
    loads = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"  machine: {os.cpu_count()} cores, load {loads}")
    for gateway in gateways:
        where = f"CPU {sorted(gateway.cpus)}" if gateway.cpus else "any CPU"
        print(f"  {gateway.name}: proxy {gateway.endpoint.proxy[1]}, {where}, 1 masking worker")
    where = f"CPU {sorted(other_cpus)}" if other_cpus else "any CPU"
    print(f"  generator, sample app, PostgreSQL: {where}")
    print(
        f"  per agent: a page every {1 / rates.pages_per_s:.2f} s (Poisson), a heartbeat "
        f"every {rates.heartbeat_s:g} s, a status change every {rates.status_s:g} s on average"
        f" = {rates.total_per_s:.2f} req/s"
    )


def report(phases: list[Phase]) -> bool:
    """Prints the figures and the goals beside them; True when every goal measured was met."""
    print()
    print(
        f"{'phase':18s} {'agents':>6s} {'offered':>8s} {'req/s':>8s} {'p50 ms':>7s} "
        f"{'p99 ms':>7s} {'errors':>6s} {'gw CPU ms/req':>13s} {'CPU % gen':>9s} "
        f"{'crm':>4s} {'pg':>4s} {'gw RSS (PSS) MB':>16s} {'load':>5s}"
    )
    for p in phases:
        offered = f"{p.offered_per_s:8.1f}" if p.offered_per_s is not None else f"{'-':>8s}"
        per_request = p.gateway_cpu_s * 1000 / max(1, p.answered)
        memory = " ".join(
            f"{r / 1e6:.0f}({s / 1e6:.0f})" for r, s in zip(p.rss_peak, p.pss_peak, strict=True)
        )
        print(
            f"{p.name:18s} {p.agents:6d} {offered} {p.rate:8.1f} {p.percentile(0.5):7.1f} "
            f"{p.percentile(0.99):7.1f} {p.errors:6d} {per_request:13.2f} "
            f"{100 * p.generator_cpu_s / p.seconds:9.0f} {100 * p.crm_cpu_s / p.seconds:4.0f} "
            f"{100 * p.pg_cpu_s / p.seconds:4.0f} {memory or '-':>16s} {p.load_average:5.2f}"
        )
        for kind, values in sorted(p.recorder.latencies.items()):
            print(
                f"    {kind:14s} {len(values):7d} answered  p50 {p.percentile(0.5, kind):7.1f} "
                f"ms  p99 {p.percentile(0.99, kind):7.1f} ms"
            )
        for cause, count in sorted(p.recorder.errors.items()):
            print(f"    error {cause}: {count}")
    load = [p for p in phases if p.name.startswith(("steady", "flat out"))]
    if load:
        cost = sum(p.generator_cpu_s for p in load) * 1000 / max(1, sum(p.answered for p in load))
        busiest = max(100 * p.generator_cpu_s / p.seconds for p in load)
        print(
            f"  the generator (agents, their forwarders, browsers): {cost:.2f} ms CPU per "
            f"request, at most {busiest:.0f}% of a core"
        )
    print()
    return _goals(phases)


def _goals(phases: list[Phase]) -> bool:
    named = {p.name: p for p in phases}
    met = True

    def verdict(ok: bool) -> str:
        nonlocal met
        met = met and ok
        return "met" if ok else "MISSED"

    one = named.get("steady, 1 proc")
    if one is not None and one.offered_per_s is not None:
        achieved = one.rate / one.offered_per_s
        ok = one.percentile(0.99) <= GOAL_P99_MS and one.errors == 0 and achieved >= 0.95
        scale = "" if one.agents >= GOAL_AGENTS else f" (ran {one.agents} agents, not measured)"
        print(
            f"goal: one gateway process holds {GOAL_AGENTS} agents at 1 req/s, p99 <= "
            f"{GOAL_P99_MS:g} ms, no errors: {one.agents} agents, {one.rate:.1f} of "
            f"{one.offered_per_s:.1f} req/s offered, p99 {one.percentile(0.99):.1f} ms, "
            f"{one.errors} errors -> "
            + (verdict(ok) if one.agents >= GOAL_AGENTS else ("ok" if ok else "MISSED") + scale)
        )
        if one.agents < GOAL_AGENTS:
            met = met and ok
    flat = sorted((p for p in phases if p.name.startswith("flat out")), key=lambda p: p.processes)
    if len(flat) >= 2:
        ratio = flat[-1].rate / flat[0].rate
        cost = [p.gateway_cpu_s * 1000 / max(1, p.answered) for p in (flat[0], flat[-1])]
        print(
            f"goal: {flat[-1].processes} processes >= {GOAL_SCALING}x one (saturated req/s): "
            f"{flat[-1].rate:.1f} / {flat[0].rate:.1f} = {ratio:.2f}x -> "
            f"{verdict(ratio >= GOAL_SCALING)}"
        )
        # What the CPU cost says, free of who else shared the second core: N processes with a
        # core each would carry N / (cost with N / cost with one) times one.
        projected = flat[-1].processes * cost[0] / cost[1] if cost[1] else float("nan")
        print(
            f"      gateway CPU per request: {cost[0]:.2f} ms with one, {cost[1]:.2f} ms with "
            f"{flat[-1].processes}; with a core each that projects to {projected:.2f}x (not the "
            "goal's figure: the measured ratio above is)"
        )
    peak = max((r for p in phases for r in p.rss_peak), default=0) / 1e6
    pss = max((r for p in phases for r in p.pss_peak), default=0) / 1e6
    print(
        f"goal: gateway memory < {GOAL_RSS_MB:g} MB per process (RSS of the gateway plus its "
        f"worker's): peak {peak:.0f} MB (PSS {pss:.0f} MB) -> {verdict(peak < GOAL_RSS_MB)}"
    )
    print(f"goals {'met' if met else 'NOT all met'}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=GOAL_AGENTS)
    parser.add_argument(
        "--duration", type=float, default=45.0, help="seconds measured in each steady phase"
    )
    parser.add_argument(
        "--processes", type=int, default=2, help="gateway processes (measured with 1 and this)"
    )
    parser.add_argument(
        "--saturate", type=float, default=15.0, help="seconds flat out per process count (0: no)"
    )
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not counted")
    parser.add_argument("--rate", type=float, default=1.0, help="requests/s per agent, all kinds")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--no-pin", action="store_true", help="let every process use any CPU")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.agents < 1 or args.processes < 1 or args.duration <= 0:
        parser.error("--agents, --processes and --duration must be positive")
    print(
        f"a floor of {args.agents} simulated agents against 1"
        + (f" and {args.processes}" if args.processes > 1 else "")
        + " gateway process(es) on one PostgreSQL"
    )
    phases = asyncio.run(run(args))
    met = report(phases)
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json is not None:
        args.json.write_text(
            json.dumps({"goals_met": met, "phases": [p.as_json() for p in phases]}, indent=1)
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
