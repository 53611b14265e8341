"""A throwaway PostgreSQL cluster (Debian's server) for the store's tests and benchmark: its own
temp dir, unix socket there, 127.0.0.1 on a free port; stopped and removed at the end.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

BIN_GLOB = "/usr/lib/postgresql/*/bin"


class PostgresUnavailableError(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = sorted(Path("/").glob(BIN_GLOB.lstrip("/")), key=lambda p: int(p.parent.name))
    found = [p for p in found if (p / "initdb").exists()]
    if not found:
        raise PostgresUnavailableError(
            "PostgreSQL server not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "apt-get install -y postgresql, or run scripts/setup as root"
        )
    return found[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresCluster:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self._names = itertools.count(1)
        self._stopped = False

    @classmethod
    def start(cls) -> PostgresCluster:
        bin_dir = _bin_dir()
        root = Path(tempfile.mkdtemp(prefix="homeagent-pg-"))
        # postgres refuses to run as root; as root, run it as the postgres OS user.
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_user:
            shutil.chown(root, "postgres", "postgres")

        def run(*args: str) -> None:
            done = subprocess.run([*as_user, *args], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                log = root / "server.log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                name = Path(args[0]).name
                raise PostgresUnavailableError(
                    f"{name} failed ({done.returncode}): {done.stderr.strip()}\n{tail}"
                )

        data = root / "data"
        try:
            run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                "-E", "UTF8", "--no-sync", "--no-instructions")  # fmt: skip
            for attempt in range(3):
                port = _free_port()
                options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
                try:
                    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                        "-w", "-t", "60", "-o", options, "start")  # fmt: skip
                    break
                except PostgresUnavailableError:
                    if attempt == 2:
                        raise
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        cluster = cls(root, port)
        atexit.register(cluster.stop)
        return cluster

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def _pg_ctl(self, *args: str) -> None:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*as_user, str(_bin_dir() / "pg_ctl"), "-D", str(self.root / "data"), *args],
            capture_output=True, text=True, check=False, timeout=90,
        )  # fmt: skip
        if done.returncode != 0:
            raise PostgresUnavailableError(f"pg_ctl {args[-1]} failed: {done.stderr.strip()}")

    def stop_server(self) -> None:
        """Stop the server (fast: open connections are cut), keeping its data: an outage."""
        self._pg_ctl("-m", "fast", "-w", "-t", "60", "stop")

    def start_server(self) -> None:
        """Start it again after `stop_server`, on the same port."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._pg_ctl("-l", str(self.root / "server.log"), "-w", "-t", "60", "-o", options, "start")

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*as_user, str(_bin_dir() / "pg_ctl"), "-D", str(self.root / "data"),
             "-m", "immediate", "-w", "stop"],
            capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)
