"""The gateway's throughput and latency against bare mitmproxy (issue 3): the same ~100 KB CRM JSON
body full of personal data, the same upstream, 32 keep-alive connections from wrk.

Each proxy runs in its own process (benchmarks/gateway_rig.py), one after the other:
`mitmdump` (mitmproxy's DumpMaster with its default addons, as users run it: the issue's
baseline), `core` (the mitmproxy set-up the gateway embeds, without the homeagent chain) and the
gateway with policies/examples/acme.yaml and clocked-in inbound agents (one per connection).
wrk, in another process, sends absolute-form `GET https://crm.acme.test/…` to each as an HTTP
proxy, so every proxy opens TLS to the upstream. Afterwards a few responses are fetched through
each with httpx and every phone, ID, card, policy number, e-mail, name and address of the body
is looked for. Goal: gateway >= 0.25x mitmdump's req/s (aim 0.4x), 0 personal values left,
added single-connection median <= 5 ms per 100 KB. The machine is shared: the load average is
printed with each run. Everything on 127.0.0.1; every run bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from homeagent.proxy.gateway.native_build import masking_build
from homeagent.proxy.gateway.server import GatewayConfig
from homeagent.proxy.sample_app.dataset import build_dataset
from homeagent.proxy.sample_app.ground_truth import PiiValue, ground_truth

ROOT = Path(__file__).resolve().parent.parent
LOAD_SCRIPT = Path(__file__).resolve().parent / "proxy_load.lua"
HOST = "crm.acme.test"
URL = f"https://{HOST}/tickets/recent"
"""inbound's crm-tickets rule; acme's per-agent limit here (600 per 10 min) is not reached."""
TARGET_BODY = 100 * 1024
CUSTOMERS = 400
SEED = 20261204
START_TIMEOUT_S = 60.0
PII_SAMPLES = 8
PROXIES = ("mitmdump", "core", "gateway")
"""mitmdump: mitmproxy as users run it (the issue's baseline); core: the mitmproxy set-up the
gateway embeds, without its chain (what the chain alone costs)."""
FULL_WIDTH_DIGITS = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    bytes: int
    status_errors: int
    socket_errors: int
    timeouts: int
    p50_ms: float
    p99_ms: float
    cpu_s: float
    """CPU seconds of the proxy and its worker processes during the run."""
    worker_cpu_s: float
    """Of which in the worker processes."""
    load_average: float
    """The machine's 1-minute load average when the run ended (other work shares the cores)."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms(self) -> float:
        """CPU per request, proxy and workers together."""
        return self.cpu_s * 1000 / max(1, self.requests)

    @property
    def worker_cpu_ms(self) -> float:
        return self.worker_cpu_s * 1000 / max(1, self.requests)

    @property
    def failures(self) -> int:
        return self.status_errors + self.socket_errors + self.timeouts


@dataclass(frozen=True)
class Figures:
    name: str
    many: Load
    one: Load
    pii_left: int
    pii_looked_for: int
    pii_refused: int
    """Of the responses fetched to look for personal data, those the proxy refused."""

    @property
    def failures(self) -> int:
        return self.many.failures + self.one.failures + self.pii_refused


# -- the body and what must not come back ---------------------------------------------------


def crm_body() -> tuple[bytes, list[PiiValue]]:
    """Recent tickets with their customers' records: the first N that make ~100 KB of JSON."""
    dataset = build_dataset(CUSTOMERS, seed=SEED)
    customers = {c.id: c for c in dataset.customers}
    items: list[dict[str, object]] = []
    for ticket in dataset.tickets:
        item = {**ticket.as_json(), "customer": customers[ticket.customer_id].as_json()}
        encoded = json.dumps({"tickets": [*items, item]}, ensure_ascii=False).encode()
        if len(encoded) > TARGET_BODY:
            break
        items.append(item)
    body = {"page": 1, "size": len(items), "tickets": items}
    shown = {int(str(i["customer_id"])) for i in items}
    truth = ground_truth(CUSTOMERS, seed=SEED)
    text = json.dumps(body, ensure_ascii=False)
    # A customer's second and third policies are not in their record: look only for what is.
    return text.encode(), visible(text, [v for v in truth.pii if v.customer_id in shown])


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate(FULL_WIDTH_DIGITS))


def visible(text: str, values: list[PiiValue]) -> list[PiiValue]:
    """The values readable in a response in any written form (digits compared without
    separators or full-width forms, e-mail in any case)."""
    digits, lower = _digits(text), text.lower()
    left = []
    for value in values:
        if value.kind in ("person_name", "address"):
            found = value.shown in text
        elif value.kind == "email":
            found = value.canonical in lower
        elif value.kind == "acme_policy_no":
            found = value.canonical in text.upper()
        else:
            found = value.canonical.rstrip("X") in digits
        if found:
            left.append(value)
    return left


# -- the processes --------------------------------------------------------------------------


class Rig:
    """One process of benchmarks/gateway_rig.py; its JSON announcement in `info`."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.gateway_rig", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(START_TIMEOUT_S):
                self.stop()
                raise RuntimeError(f"gateway_rig {args[0]} did not start in {START_TIMEOUT_S} s")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"gateway_rig {args[0]} exited: {self.process.wait(10)}")
        self.info: dict[str, Any] = json.loads(line)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.info['port']}"

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time so far of the process with its children (masking workers), and of the
        children alone."""
        own = children = 0.0
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(self.process.pid)
            times = proc.cpu_times()
            own = times.user + times.system
            for child in proc.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = child.cpu_times()
                    children += times.user + times.system
        return own + children, children

    def stop(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@contextlib.contextmanager
def rig(*args: str) -> Iterator[Rig]:
    started = Rig(*args)
    try:
        yield started
    finally:
        started.stop()


def load(proxy: Rig, tokens: Path, connections: int, seconds: float) -> Load:
    """wrk against the proxy: `connections` threads of one keep-alive connection each."""
    env = {**os.environ, "BENCH_URL": URL, "BENCH_HOST": HOST, "BENCH_TOKENS": str(tokens)}
    cpu_before = proxy.cpu_seconds()
    done = subprocess.run(
        ["wrk", f"-t{connections}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
         "-s", str(LOAD_SCRIPT), proxy.url],
        env=env, capture_output=True, text=True, timeout=seconds + 60, check=True,
    )  # fmt: skip
    cpu_after = proxy.cpu_seconds()
    lines = done.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"wrk gave no figures: {done.stdout[-500:]!r} {done.stderr[-500:]!r}")
    figures = json.loads(lines[-1])
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        bytes=figures["bytes"],
        status_errors=figures["status_errors"],
        socket_errors=figures["socket_errors"],
        timeouts=figures["timeouts"],
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        cpu_s=cpu_after[0] - cpu_before[0],
        worker_cpu_s=cpu_after[1] - cpu_before[1],
        load_average=os.getloadavg()[0],
    )


def pii_left(
    proxy: Rig, token: str, values: list[PiiValue], expect_size: int
) -> tuple[int, int, int]:
    """Fetch PII_SAMPLES responses as an agent's client would (CONNECT, TLS): (personal values
    readable in them, values looked for, responses refused). A refusal is shown, not raised:
    it is a figure of the run like wrk's failures."""
    left = looked = refused = 0
    with httpx.Client(
        proxy=httpx.Proxy(proxy.url, headers={"Proxy-Authorization": f"Bearer {token}"}),
        verify=proxy.info["ca"],
        timeout=30,
    ) as client:
        for _ in range(PII_SAMPLES):
            response = client.get(URL)
            if response.status_code != 200:
                refused += 1
                print(f"    refused: {response.status_code} {response.text[:200]!r}")
                continue
            data = response.json()
            if len(data["tickets"]) != expect_size:
                raise RuntimeError(f"{len(data['tickets'])} tickets came back, not {expect_size}")
            left += len(visible(response.text, values))
            looked += len(values)
    return left, looked, refused


# -- profiling ------------------------------------------------------------------------------


def profile_start(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("  (py-spy not installed: HOMEAGENT_EXTRAS=bench source scripts/setup)")
        return None
    return subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--subprocesses", "--gil", "--rate", "250",
         "--duration", str(int(seconds)), "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def profile_report(out: Path, top: int = 25) -> None:
    """Where the samples fell: per process (the proxy, each masking worker), the leaf functions,
    and homeagent's own functions inclusive of what they call."""
    if not out.exists():
        print("  (no profile written)")
        return
    leaf: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    procs: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        owner = [f for f in frames if f.startswith("process ")][-1]
        procs["worker" if "multiprocessing" in owner else "proxy (event loop, threads)"] += count
        leaf[frames[-1]] += count
        for frame in dict.fromkeys(f for f in frames if re.search(r"\(proxy/", f)):
            ours[frame] += count
    if not total:
        print("  (no samples)")
        return
    print(f"  {total} samples; by process:")
    for name, count in procs.most_common():
        print(f"    {count / total:6.1%}  {name}")
    print("  leaf functions (self time):")
    for name, count in leaf.most_common(top):
        print(f"    {count / total:6.1%}  {name[:110]}")
    print("  homeagent functions (inclusive):")
    for name, count in ours.most_common(top):
        print(f"    {count / total:6.1%}  {name[:110]}")


# -- the run --------------------------------------------------------------------------------


def measure(
    name: str,
    proxy: Rig,
    tokens: Path,
    args: argparse.Namespace,
    values: list[PiiValue],
    size: int,
    profile: Path | None = None,
) -> Figures:
    token = tokens.read_text().split()[0]
    print(f"  {name}: warm-up {args.warmup:g} s …", flush=True)
    load(proxy, tokens, args.connections, args.warmup)
    print(f"  {name}: {args.connections} connections for {args.seconds:g} s …", flush=True)
    spy = profile_start(proxy.process.pid, args.seconds, profile) if profile else None
    many = load(proxy, tokens, args.connections, args.seconds)
    if spy is not None:
        spy.wait(args.seconds + 30)
    print(f"  {name}: 1 connection for {args.single:g} s …", flush=True)
    one = load(proxy, tokens, 1, args.single)
    left, looked, refused = pii_left(proxy, token, values, size)
    return Figures(name, many, one, left, looked, refused)


def report(figures: list[Figures], body_bytes: int) -> None:
    print()
    print(
        f"{'':10s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'1-conn p50':>11s} "
        f"{'CPU ms/req (workers)':>21s} {'failed':>7s} {'PII left':>12s} {'load':>5s}"
    )
    for f in figures:
        print(
            f"{f.name:10s} {f.many.rate:8.1f} {f.many.p50_ms:8.2f} {f.many.p99_ms:8.2f} "
            f"{f.one.p50_ms:11.2f} {f.many.cpu_ms:13.2f} ({f.many.worker_cpu_ms:5.2f}) "
            f"{f.failures:7d} {f.pii_left:5d}/{f.pii_looked_for:<6d} "
            f"{f.many.load_average:5.2f}"
        )
    named = {f.name: f for f in figures}
    gateway = named.get("gateway")
    if gateway is None:
        return
    print()
    verdict = gateway.pii_left == 0 and gateway.failures == 0
    for baseline, goal in (("mitmdump", True), ("core", False)):
        bare = named.get(baseline)
        if bare is None:
            continue
        ratio = gateway.many.rate / bare.many.rate
        added = (gateway.one.p50_ms - bare.one.p50_ms) * (100 * 1024) / body_bytes
        print(
            f"gateway/{baseline}: {ratio:.2f}x throughput, {added:+.2f} ms single-connection "
            f"median per 100 KB" + (" (goal >= 0.25x, aim 0.4x; <= 5 ms)" if goal else "")
        )
        if goal:
            verdict = verdict and ratio >= 0.25 and added <= 5
    print(f"personal values left through the gateway: {gateway.pii_left} (goal 0)")
    if "mitmdump" in named:
        print(f"goal {'met' if verdict else 'NOT met'}")


def one_round(
    tmp: Path, upstream: Rig, args: argparse.Namespace, values: list[PiiValue], size: int
) -> dict[str, Figures]:
    """Each proxy in turn, started afresh (the gateway with new agents, so no rate limit
    carries over), with the same upstream."""
    tmp.mkdir()
    port, ca = str(upstream.info["port"]), str(upstream.info["ca"])
    figures: dict[str, Figures] = {}
    for kind in ("mitmdump", "core"):
        if kind not in args.only:
            continue
        with rig("bare", kind, port, ca, str(tmp / kind)) as bare:
            tokens = tmp / f"{kind}-tokens"
            tokens.write_text("\n".join(f"none-{i}" for i in range(args.connections)))
            figures[kind] = measure(kind, bare, tokens, args, values, size)
        seen = figures[kind]
        if seen.pii_looked_for == 0 or seen.pii_left != seen.pii_looked_for:
            raise RuntimeError(f"bare {kind} did not show all the personal data: check broken")
    if "gateway" in args.only:
        agents = str(max(args.connections, 1))
        gw_args = ("gateway", port, ca, str(tmp / "gw"), "--workers", str(args.workers))
        out = args.profile / f"gateway-{tmp.name}.raw" if args.profile else None
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        with rig(*gw_args, "--agents", agents) as gateway:
            tokens = tmp / "gw-tokens"
            tokens.write_text("\n".join(gateway.info["tokens"]))
            figures["gateway"] = measure("gateway", gateway, tokens, args, values, size, out)
        if out is not None:
            profile_report(out)
    return figures


def _median_run(runs: list[Figures]) -> Figures:
    return sorted(runs, key=lambda f: f.many.rate)[(len(runs) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--single", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=GatewayConfig.workers)
    parser.add_argument("--profile", type=Path, help="py-spy the gateway's run into this folder")
    parser.add_argument(
        "--rounds", type=int, default=1, help="run every proxy this many times, alternating"
    )
    parser.add_argument(
        "--only", nargs="+", choices=PROXIES, default=PROXIES, help="measure only these proxies"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_gateway needs wrk (Debian's 'wrk'): HOMEAGENT_EXTRAS=bench scripts/setup")
    body, values = crm_body()
    kinds = Counter(v.kind for v in values)
    print(
        f"gateway vs bare mitmproxy: {len(body) / 1024:.0f} KB JSON body with {len(values)} "
        f"personal values ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})"
    )
    loads = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"  machine: {os.cpu_count()} cores, load {loads}; gateway --workers {args.workers}, "
        f"masking {masking_build()}"
    )
    size = json.loads(body)["size"]
    rounds: list[dict[str, Figures]] = []
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "body.json").write_bytes(body)
        with rig("upstream", str(tmp / "certs"), str(tmp / "body.json")) as upstream:
            for number in range(1, args.rounds + 1):
                if args.rounds > 1:
                    print(f"  round {number} of {args.rounds}")
                rounds.append(one_round(tmp / f"round{number}", upstream, args, values, size))
    middle = {name: _median_run([r[name] for r in rounds]) for name in rounds[0]}
    if args.rounds > 1:
        for name in rounds[0]:
            rates = ", ".join(f"{r[name].many.rate:.1f}" for r in rounds)
            print(f"  {name} req/s by round: {rates} (the median run is shown)")
    report(list(middle.values()), len(body))
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
