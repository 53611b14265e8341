"""Sample app speed: data generation and keep-alive HTTPS requests to its heaviest routes.

The sample app sits behind the gateway in every end-to-end test, so its own latency is a floor
under theirs; this keeps it visible (a missing TCP_NODELAY once added 40 ms to each request).
"""

from __future__ import annotations

import ssl
import statistics
import tempfile
import time

import httpx

from homeagent.proxy.sample_app import ground_truth, start_sample_app
from homeagent.proxy.sample_app.dataset import build_dataset

REQUESTS = 50
ROUTES = (
    ("crm.acme.test", "/customers/1001", "br"),
    ("crm.acme.test", "/customers?size=50", "gzip"),
    ("crm.acme.test", "/customers/1001/legacy", "identity"),
    ("crm.acme.test", "/customers/1001/legacy.json", "identity"),
    ("kb.acme.test", "/articles/privacy-at-home", "br"),
    ("chat.acme.test", "/messages/S9001", "identity"),
    ("crm.acme.test", "/admin/export.jsonl", "gzip"),
)


def generation() -> None:
    for count in (200, 2000):
        start = time.perf_counter()
        build_dataset(count, seed=count)
        built = time.perf_counter() - start
        start = time.perf_counter()
        truth = ground_truth(count, seed=count)
        listed = time.perf_counter() - start
        print(
            f"  {count:5d} customers: data {built * 1000:7.1f} ms, ground truth "
            f"{listed * 1000:6.1f} ms ({len(truth.pii)} PII values, "
            f"{len(truth.look_alikes)} look-alikes)"
        )


def requests() -> None:
    with tempfile.TemporaryDirectory() as certs:
        start = time.perf_counter()
        app = start_sample_app(0, certs)
        print(f"  start with new certificates: {(time.perf_counter() - start) * 1000:.0f} ms")
        trust = ssl.create_default_context(cafile=str(app.ca_path))
        with app, httpx.Client(verify=trust) as client:
            for host, path, coding in ROUTES:
                url = f"https://127.0.0.1:{app.port}{path}"
                headers = {"Host": host, "Accept-Encoding": coding}
                client.get(url, headers=headers)  # connect and warm up once
                times = []
                for _ in range(REQUESTS):
                    start = time.perf_counter()
                    response = client.get(url, headers=headers)
                    times.append(time.perf_counter() - start)
                response.raise_for_status()
                print(
                    f"  {host + path:42s} {coding:8s} median "
                    f"{statistics.median(times) * 1000:6.2f} ms, p90 "
                    f"{statistics.quantiles(times, n=10)[-1] * 1000:6.2f} ms, "
                    f"{len(response.content):7d} B"
                )


def main() -> None:
    print("sample app: data generation")
    generation()
    print(f"sample app: keep-alive HTTPS requests ({REQUESTS} each)")
    requests()


if __name__ == "__main__":
    main()
