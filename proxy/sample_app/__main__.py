"""`python -m homeagent.proxy.sample_app --port N --cert-dir DIR`: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .certificates import SYSTEM_HOSTS, CertificateError
from .dataset import DEFAULT_CUSTOMERS, DEFAULT_SEED
from .server import SampleAppError, start_sample_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m homeagent.proxy.sample_app",
        description="ACME's sample business systems on 127.0.0.1, routed by Host header.",
    )
    parser.add_argument("--port", type=int, default=8443, help="HTTPS port (0: any free one)")
    parser.add_argument("--http-port", type=int, help="also serve plain HTTP on this port")
    parser.add_argument(
        "--cert-dir", required=True, help="folder for the demo CA and server certificate"
    )
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS, metavar="N")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        app = start_sample_app(
            args.port,
            args.cert_dir,
            http_port=args.http_port,
            customer_count=args.customers,
            seed=args.seed,
        )
    except (SampleAppError, CertificateError, ValueError) as err:
        print(f"sample app: {err}", file=sys.stderr)
        return 1
    print(f"sample app on https://127.0.0.1:{app.port} for {', '.join(SYSTEM_HOSTS)}")
    if app.http_port is not None:
        print(f"plain HTTP on http://127.0.0.1:{app.http_port}")
    print(f"demo CA: {app.ca_path}", flush=True)
    stopping = threading.Event()
    # Explicit handlers: a shell may start us with SIGINT ignored, and SIGTERM is what
    # process managers send.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        stopping.wait()
    finally:
        app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
