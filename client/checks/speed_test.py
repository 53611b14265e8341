"""Download and upload against the gateway's speed-test endpoints, each for a few seconds, over
HTTPS trusting only the gateway's pinned CA. The figures come from throughput.py; this module
moves the bytes and keeps the time."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator

import httpx

from ..pinned_tls import pinned_context
from .context import GatewayEndpoint
from .throughput import Sample, mbps, recent_rate_mbps, transfer_rate_mbps

MAX_BYTES = 64 * 1024 * 1024
"""The most the gateway sends or takes in one test (proxy/control/speedtest.py)."""
CHUNK = 32 * 1024
UNSENT_LIMIT = 32 * 1024
"""Bytes an upload may leave queued unsent in the socket: the count of bytes handed over then
follows what the line really carries, and the last ones drain quickly at the deadline."""
PROGRESS_EVERY = 0.25
TIMEOUT = httpx.Timeout(10.0)
"""Per connect, read or write: a line that stalls this long is not measured further."""

RateProgress = Callable[[float, float | None], None]
"""(share of the test's time gone, live Mbit/s)."""

# Incompressible, made once: the figures measure the line, not a compressor.
_NOISE = os.urandom(1024 * 1024)


def gateway_client(endpoint: GatewayEndpoint) -> httpx.Client:
    """HTTPS to the gateway's control API, trusting its pinned CA and nothing else, and going
    straight there (no proxy from the environment: the line itself is measured)."""
    trust = pinned_context(endpoint.ca_file)
    options: list[tuple[int, int, int]] = []
    if hasattr(socket, "TCP_NOTSENT_LOWAT"):  # Linux and macOS
        options.append((socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, UNSENT_LIMIT))
    transport = httpx.HTTPTransport(verify=trust, socket_options=options, retries=0)
    return httpx.Client(
        base_url=endpoint.control_url, transport=transport, trust_env=False, timeout=TIMEOUT
    )


class _Ticker:
    """Reports a live rate at most every PROGRESS_EVERY seconds."""

    def __init__(self, seconds: float, progress: RateProgress | None) -> None:
        self._seconds = seconds
        self._progress = progress
        self._last = -PROGRESS_EVERY

    def __call__(self, samples: list[Sample]) -> None:
        t = samples[-1][0]
        if self._progress is not None and t - self._last >= PROGRESS_EVERY:
            self._last = t
            self._progress(min(1.0, t / self._seconds), recent_rate_mbps(samples))


def measure_download(
    client: httpx.Client, seconds: float, progress: RateProgress | None = None
) -> float | None:
    """Mbit/s received from `GET /v1/speedtest/download` over about `seconds` (less when the
    gateway's most is sent sooner). httpx.HTTPError when the gateway cannot be reached."""
    samples: list[Sample] = []
    tick = _Ticker(seconds, progress)
    with client.stream(
        "GET",
        "/v1/speedtest/download",
        params={"bytes": MAX_BYTES},
        headers={"Accept-Encoding": "identity"},
    ) as response:
        response.raise_for_status()
        start, total = time.perf_counter(), 0
        for chunk in response.iter_raw():  # as the socket gives it, so slow lines tick too
            total += len(chunk)
            samples.append((time.perf_counter() - start, total))
            tick(samples)
            if samples[-1][0] >= seconds:
                break  # leaving the stream closes the connection, which stops the gateway
    return transfer_rate_mbps(samples)


def measure_upload(
    client: httpx.Client, seconds: float, progress: RateProgress | None = None
) -> float | None:
    """Mbit/s that reached the gateway through `POST /v1/speedtest/upload`, sending for about
    `seconds` (less when the gateway's most is sent sooner). The gateway's count of bytes
    received over the time from the first byte sent to its answer: bytes handed to the socket
    run ahead of the line by whatever the buffers hold, and a slope of them wobbles with TCP's
    losses at the bottleneck. httpx.HTTPError when the gateway cannot be reached or refuses
    the upload; ValueError when its answer does not say how much it received."""
    samples: list[Sample] = []
    tick = _Ticker(seconds, progress)
    started: list[float] = []

    def body() -> Iterator[bytes]:
        # Pulled by httpx once the connection is up: the clock starts with the first byte.
        started.append(time.perf_counter())
        total, offset = 0, 0
        for _ in range(MAX_BYTES // CHUNK):
            samples.append((time.perf_counter() - started[0], total))
            tick(samples)
            if samples[-1][0] >= seconds:
                return
            yield _NOISE[offset : offset + CHUNK]
            total += CHUNK
            offset = (offset + CHUNK) % len(_NOISE)

    response = client.post(
        "/v1/speedtest/upload",
        content=body(),
        headers={"Content-Type": "application/octet-stream"},
    )
    answered = time.perf_counter()
    response.raise_for_status()
    answer = response.json()
    received = answer.get("bytes") if isinstance(answer, dict) else None
    if not isinstance(received, int) or received < 0 or not started:
        raise ValueError(f"the gateway's upload answer says no byte count: {response.text[:100]}")
    return mbps(received, answered - started[0])
