"""The store's schema and connections: the shipped migrations build exactly the tables the code
uses, several instances may open (and migrate) one database at once, SQLite is set for
durability."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from homeagent.proxy.store import SchemaTooNew, Store
from homeagent.proxy.store.engine import make_engine, sqlite_url
from homeagent.proxy.store.migrate import current_revision
from homeagent.proxy.store.schema import metadata

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_build_the_schema_the_code_uses(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    with store.engine.connect() as conn:
        assert current_revision(conn) == "0004"


@pytest.mark.slow
def test_instances_opening_a_fresh_database_together_all_succeed(db_url: str) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.store_child", "open", db_url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    assert [child.communicate(timeout=60)[0].strip() for child in children] == ["opened"] * 4
    with Store.open(db_url) as store:
        store.add_agent("A1", "inbound")
        assert [a.id for a in store.list_agents()] == ["A1"]


def test_threads_opening_stores_at_once_all_succeed(tmp_path: Path) -> None:
    urls = [sqlite_url(tmp_path / f"{n}.db") for n in range(4)]
    start = threading.Barrier(len(urls))
    errors: list[BaseException] = []

    def open_store(url: str) -> None:
        start.wait()
        try:
            Store.open(url).close()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=open_store, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_database_from_a_newer_release_is_refused(db_url: str) -> None:
    Store.open(db_url).close()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaTooNew, match="upgrade homeagent"):
        Store.open(db_url)


def test_sqlite_is_set_for_durability(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "data" / "homeagent.db")
    with Store.open(url) as store, store.engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "foreign_keys": 1,
        "busy_timeout": 10_000,
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "needs a SQLite file"),
        ("sqlite:///:memory:", "needs a SQLite file"),
        ("mysql://u@h/db", "unsupported database 'mysql'"),
    ],
)
def test_unsupported_databases_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_engine(url)
