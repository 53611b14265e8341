"""Simulated agents for bench_fleet: each enrols with a one-time code, reports posture, clocks in,
changes status, sends heartbeats (signed control API requests, as the real client signs them) and
browses the sample CRM through its own real forwarder (client/forward/) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import json
import random
import re
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.client.forward.gateway import GatewayTarget
from homeagent.client.forward.pages import FORWARDER_HEADER
from homeagent.client.forward.server import Forwarder
from homeagent.client.pinned_tls import pinned_context
from homeagent.proxy.core.device_auth import authorization
from homeagent.proxy.sample_app.articles import ARTICLES
from tests.control_fixtures import PASSING  # what a home PC passing acme.yaml reports

from .load_rig import Endpoint

REQUEST_TIMEOUT_S = 30.0
STATUS_CYCLE = ("busy", "after_call_work", "ready")
"""A contact, its wrap-up, ready again: the changes a floor sees most."""
CUSTOMERS = range(1001, 1201)
TICKETS = range(500001, 500201)
"""Within the sample app's default 200 customers and their tickets."""


def page_urls(rng: random.Random) -> str:
    """One page an inbound agent opens (acme.yaml's inbound role allows all of these): mostly
    tickets and knowledge base, customer records less often (acme allows 120 per 10 min)."""
    pick = rng.random()
    if pick < 0.10:
        return f"https://crm.acme.test/customers/{rng.choice(CUSTOMERS)}.json"
    if pick < 0.45:
        return f"https://crm.acme.test/tickets/{rng.choice(TICKETS)}.json"
    if pick < 0.55:
        return f"https://crm.acme.test/tickets/{rng.choice(TICKETS)}"  # the HTML page
    if pick < 0.85:
        return f"https://kb.acme.test/articles/{rng.choice(ARTICLES).slug}"
    return "https://kb.acme.test/api/articles"


@dataclass
class Recorder:
    """Latencies per kind of request and errors per kind and cause, for one phase."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    bytes_in: int = 0

    def ok(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def failed(self, kind: str, cause: str) -> None:
        self.errors[f"{kind}: {cause}"] += 1

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())


class Recording:
    """The recorder requests report to; swapped between phases (and after the warm-up)."""

    def __init__(self) -> None:
        self.current = Recorder()

    def swap(self) -> Recorder:
        done, self.current = self.current, Recorder()
        return done


@dataclass(frozen=True)
class Reply:
    status: int | None
    """None: no answer came (connection failed, timed out)."""
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400

    @property
    def worth_resending(self) -> bool:
        """No answer, or the gateway could not take it now: the client's queue sends it again."""
        return self.status is None or self.status >= 500


class ControlApi:
    """One gateway's control API: a shared keep-alive HTTPS client trusting the pinned CA."""

    def __init__(self, url: str, tls: ssl.SSLContext, recording: Recording) -> None:
        self.http = httpx.AsyncClient(
            base_url=url,
            verify=tls,
            timeout=REQUEST_TIMEOUT_S,
            limits=httpx.Limits(max_connections=48, max_keepalive_connections=48),
        )
        self.recording = recording

    async def call(
        self,
        kind: str,
        method: str,
        path: str,
        body: object = None,
        *,
        signer: tuple[Ed25519PrivateKey, str] | None = None,
    ) -> Reply:
        """The answer; a refusal or failure is recorded as an error of `kind`."""
        content = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signer is not None:
            key, agent = signer
            headers["Authorization"] = authorization(
                key, agent, method, path, content, int(time.time())
            )
        recorder = self.recording.current
        started = time.perf_counter()
        try:
            answer = await self.http.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as err:
            recorder.failed(kind, type(err).__name__)
            return Reply(None, {})
        elapsed = time.perf_counter() - started
        if answer.status_code >= 400:
            code = answer.json().get("error", "") if answer.content.startswith(b"{") else ""
            recorder.failed(kind, f"{answer.status_code} {code}".strip())
            return Reply(answer.status_code, {})
        recorder.ok(kind, elapsed)
        return Reply(answer.status_code, answer.json())

    async def close(self) -> None:
        await self.http.aclose()


_ERROR = re.compile(rb'"error": "([^"]*)"')
_RULE = re.compile(rb'"rule": "([^"]*)"|Rule: ([^<]*)<')


def refusal_of(fields: dict[str, str], body: bytes) -> str:
    """Who refused and why, so errors can be told apart: the forwarder's page code (its
    header), or the gateway's refusal code and rule (JSON or HTML page)."""
    forwarder = fields.get(FORWARDER_HEADER.lower())
    if forwarder:
        return f"forwarder {forwarder}"
    parts = []
    for pattern in (_ERROR, _RULE):
        found = pattern.search(body[:8192])
        if found is not None:
            text = next(g for g in (*found.groups(), b"") if g is not None)
            parts.append(text.decode(errors="replace").strip())
    if parts:
        return f"gateway {' '.join(parts)}"
    # Neither page: mitmproxy's own error answer, say; its first words tell what it was.
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", body[:300].decode(errors="replace")))[:80]


class Browser:
    """The agent's browser: one keep-alive connection to the forwarder, absolute-form requests
    (`GET https://crm.acme.test/… HTTP/1.1`) as to any HTTP proxy. The forwarder carries them
    over its TLS connection to the gateway, which inspects them as it does CONNECTed ones."""

    def __init__(self, port: int, recording: Recording) -> None:
        self.port = port
        self.recording = recording
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, url: str) -> None:
        recorder = self.recording.current
        started = time.perf_counter()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                status, fields, body = await self._exchange(url)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as err:
            await self.close()
            recorder.failed("page", type(err).__name__)
            return
        if status != 200:
            recorder.failed("page", f"{status} {refusal_of(fields, body)}".strip())
            return
        recorder.ok("page", time.perf_counter() - started)
        recorder.bytes_in += len(body)

    async def _exchange(self, url: str) -> tuple[int, dict[str, str], bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self._reader is not None
        host = url.split("/", 3)[2]
        accept = "application/json" if ".json" in url or "/api/" in url else "text/html"
        self._writer.write(
            f"GET {url} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n"
            "Accept-Encoding: gzip\r\nUser-Agent: bench-fleet\r\n\r\n".encode()
        )
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "chunked" in fields.get("transfer-encoding", "").lower():
            body = await self._chunked()
        else:
            body = await self._reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, fields, body

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while True:
            line = await self._reader.readuntil(b"\r\n")
            length = int(line.split(b";", 1)[0], 16)
            if length == 0:
                await self._reader.readuntil(b"\r\n")  # no trailers are sent here
                return b"".join(parts)
            parts.append((await self._reader.readexactly(length + 2))[:-2])

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = self._reader = None


class SimAgent:
    """One agent and its PC: device key, control API, forwarder, browser."""

    def __init__(self, name: str, code: str, seed: int, recording: Recording) -> None:
        self.name = name
        self.code = code
        self.key = Ed25519PrivateKey.generate()
        self.rng = random.Random(seed)
        self.recording = recording
        self.token: str | None = None
        self.status = "offline"
        self.control: ControlApi | None = None
        self.forwarder: Forwarder | None = None
        self.browser: Browser | None = None
        self._event_ids = itertools.count(1)
        self._cycle = itertools.cycle(STATUS_CYCLE)
        self._pending: tuple[str, str] | None = None
        """A status change sent without an answer: (status, client event ID)."""

    @property
    def _signer(self) -> tuple[Ed25519PrivateKey, str]:
        return self.key, self.name

    async def start_shift(self, control: ControlApi) -> bool:
        """Enrol, report posture, read settings, clock in, go ready: True when all went."""
        self.control = control
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        enrolled = await control.call(
            "enrol",
            "POST",
            "/v1/enrol",
            {"code": self.code, "public_key": base64.b64encode(public).decode()},
        )
        if not enrolled.ok or not await self.report_posture():
            return False
        settings = await control.call("settings", "GET", "/v1/settings", signer=self._signer)
        if not settings.ok:
            return False
        notice = settings.data["notice"]
        token = await control.call(
            "clock-in",
            "POST",
            "/v1/clock-in",
            {"notice_version": notice["version"]},
            signer=self._signer,
        )
        if not token.ok:
            return False
        self.token = str(token.data["token"])
        self.status = "offline"
        return await self.change_status("ready")

    async def report_posture(self) -> bool:
        assert self.control is not None
        report = json.dumps(
            {"version": 1, "checks": {
                name: {"status": "pass", "measurements": m}
                for name, m in PASSING.items()
            }}
        )  # fmt: skip
        signature = base64.b64encode(self.key.sign(report.encode())).decode()
        answer = await self.control.call(
            "posture",
            "POST",
            "/v1/posture",
            {"report_json": report, "signature": signature},
            signer=self._signer,
        )
        return answer.ok

    async def change_status(self, status: str | None = None) -> bool:
        """The next change of the cycle (or `status`). One that got no answer is sent again,
        with the same event ID, before any other: as the client's queue redelivers it."""
        assert self.control is not None
        if self._pending is None:
            target = status or next(self._cycle)
            self._pending = (target, f"{self.name}-{next(self._event_ids)}")
        target, event_id = self._pending
        answer = await self.control.call(
            "status",
            "POST",
            "/v1/status",
            {
                "status": target,
                "client_event_id": event_id,
                "client_time": dt.datetime.now(dt.UTC).isoformat(),
            },
            signer=self._signer,
        )
        if answer.ok:
            self.status = target
        if not answer.worth_resending:
            self._pending = None  # done, or refused for good (the agent would see why)
        return answer.ok

    async def heartbeat(self) -> None:
        assert self.control is not None
        await self.control.call("heartbeat", "POST", "/v1/heartbeat", signer=self._signer)

    async def clock_out(self) -> None:
        assert self.control is not None
        await self.control.call("clock-out", "POST", "/v1/clock-out", signer=self._signer)
        self.token = None

    async def attach(self, endpoint: Endpoint, control: ControlApi, tls: ssl.SSLContext) -> None:
        """Use this gateway (or front): the control API there and a new forwarder to its proxy."""
        await self.detach()
        self.control = control
        host, port = endpoint.proxy
        self.forwarder = Forwarder(GatewayTarget(host, port, tls), lambda: self.token)
        await self.forwarder.start()
        self.browser = Browser(self.forwarder.port, self.recording)

    async def detach(self) -> None:
        if self.browser is not None:
            await self.browser.close()
            self.browser = None
        if self.forwarder is not None:
            await self.forwarder.stop()
            self.forwarder = None

    async def work(self, until: float, rates: Rates) -> None:
        """Browse, beat and change status at `rates` (Poisson pages and status changes,
        periodic heartbeats from a random phase) until the monotonic time `until`."""
        assert self.browser is not None
        now = time.monotonic()
        next_page = now + self.rng.expovariate(rates.pages_per_s)
        next_beat = now + self.rng.uniform(0, rates.heartbeat_s)
        next_status = now + self.rng.expovariate(1 / rates.status_s)
        while True:
            due = min(next_page, next_beat, next_status)
            if due >= until:
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if due == next_page:
                await self.browser.get(page_urls(self.rng))
                next_page += self.rng.expovariate(rates.pages_per_s)
            elif due == next_beat:
                await self.heartbeat()
                next_beat += rates.heartbeat_s
            else:
                await self.change_status()
                next_status += self.rng.expovariate(1 / rates.status_s)

    async def browse_flat_out(self, until: float) -> None:
        """Pages back to back, no pause (to find what the gateways can carry)."""
        assert self.browser is not None
        while time.monotonic() < until:
            await self.browser.get(page_urls(self.rng))


@dataclass(frozen=True)
class Rates:
    """How often one agent does each thing."""

    pages_per_s: float
    heartbeat_s: float = 30.0
    status_s: float = 120.0

    @property
    def total_per_s(self) -> float:
        return self.pages_per_s + 1 / self.heartbeat_s + 1 / self.status_s

    @classmethod
    def for_total(cls, per_s: float) -> Rates:
        """Pages fill what heartbeats and status changes leave of `per_s`."""
        base = cls(pages_per_s=1.0)
        return cls(pages_per_s=max(0.01, per_s - (base.total_per_s - 1.0)))


def tls_for(ca_pem: str) -> ssl.SSLContext:
    """One pinned context per CA, shared by every simulated agent (as each real client has
    its own; sharing only saves the generator's memory)."""
    return pinned_context(ca_pem=ca_pem, alpn=["http/1.1"])
