"""Shared fixtures: the store's database, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from homeagent.proxy.sample_app import SampleApp, start_sample_app
from homeagent.proxy.store import Store
from homeagent.proxy.store.engine import sqlite_url

from .gateway_harness import GatewayHarness
from .pg import PostgresCluster, PostgresUnavailableError

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailableError as err:
        if os.environ.get("HOMEAGENT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (HOMEAGENT_REQUIRE_POSTGRES=1): {err}")
        pytest.skip(f"PostgreSQL unavailable: {err}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database's URL, once per backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "homeagent.db")
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url) as opened:
        yield opened


@pytest.fixture(scope="session")
def sample_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleApp]:
    """The bundled sample CRM on loopback, shared by the gateway tests."""
    app = start_sample_app(0, tmp_path_factory.mktemp("app-certs"))
    yield app
    app.stop()


@pytest.fixture(scope="module")
def harness(
    tmp_path_factory: pytest.TempPathFactory, sample_app: SampleApp
) -> Iterator[GatewayHarness]:
    """A gateway with the example policy in front of the sample app, one per test module."""
    gateway = GatewayHarness(tmp_path_factory.mktemp("gw"), sample_app)
    yield gateway
    gateway.stop()
