"""The local forwarder's cost: the same keep-alive requests straight to the gateway (token set by
the client) and through the forwarder (token added by it), HTTPS through a CONNECT tunnel and
plain HTTP; and an upload's throughput both ways. All on loopback, bounded in count."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from homeagent.proxy.sample_app import start_sample_app
from tests.control_fixtures import LoopThread
from tests.forward_fixtures import ECHO_HOST, echo_server, enrolment_for, forwarding, plain_policy
from tests.gateway_harness import GatewayHarness

REQUESTS = 200
UPLOAD_BYTES = 4 * 1024 * 1024
UPLOADS = 5


def timed(step: Callable[[], httpx.Response], count: int) -> list[float]:
    """Milliseconds per call; each answer must be a 200."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        answer = step()
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.text[:300]
    return times


def show(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95)]
    print(f"  {name:<44} p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, echo_server() as echo_port:
        tmp = Path(folder)
        app = start_sample_app(0, tmp / "certs")
        gateway = GatewayHarness(
            tmp,
            app,
            policy=plain_policy(tmp),
            upstream={ECHO_HOST: ("127.0.0.1", echo_port)},
        )
        loop = LoopThread()
        agents = iter(f"B{n:04d}" for n in range(1, 100))
        current: list[str] = []  # the forwarder's token; each leg a fresh agent (rate limits)

        def fresh_token() -> str:
            token = gateway.clock_in(next(agents), "plain")[1]
            current[:] = [token]
            return token

        try:
            host, port = gateway.gateway.address
            enrolment = enrolment_for(f"{host}:{port}", gateway.config.ca_cert)
            ca = str(gateway.config.ca_cert)
            with forwarding(loop, enrolment, lambda: current[0]) as forwarder:
                for url, label in (
                    ("https://crm.acme.test/customers/1001.json", "HTTPS customer record"),
                    (f"http://{ECHO_HOST}/ping", "plain HTTP echo"),
                ):
                    for how in ("straight to gateway", "forwarded"):
                        token = fresh_token()
                        client = (
                            gateway.client(token)
                            if how == "straight to gateway"
                            else httpx.Client(proxy=forwarder.proxy_url, verify=ca, timeout=30)
                        )
                        with client:
                            client.get(url)  # connect once; keep-alive from here on
                            times = timed(partial(client.get, url), REQUESTS)
                        show(f"{label}, {how}", times)
                body = b"x" * UPLOAD_BYTES
                for how in ("straight to gateway", "forwarded"):
                    token = fresh_token()
                    client = (
                        gateway.client(token)
                        if how == "straight to gateway"
                        else httpx.Client(proxy=forwarder.proxy_url, verify=ca, timeout=30)
                    )
                    with client:
                        start = time.perf_counter()
                        for _ in range(UPLOADS):
                            answer = client.post(f"http://{ECHO_HOST}/upload", content=body)
                            assert answer.status_code == 200, answer.text[:300]
                        seconds = time.perf_counter() - start
                    rate = UPLOADS * UPLOAD_BYTES / seconds / 1e6
                    print(
                        f"  upload {UPLOAD_BYTES >> 20} MiB x{UPLOADS}, {how:<22} {rate:6.1f} MB/s"
                    )
                print(f"  browser connections accepted by the forwarder: {forwarder.accepted}")
        finally:
            loop.close()
            gateway.stop()
            app.stop()


if __name__ == "__main__":
    main()
