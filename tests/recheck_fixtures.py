"""The gateway the re-check tests run against: the real control API on loopback under a policy
that checks only the CPU (so a test can make this PC pass or fail it by editing one number),
and an empty client home. A test module imports the `*_fixture` functions; pytest knows them
by their short names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from homeagent.proxy.store.engine import sqlite_url

from .control_fixtures import Gateway, WallClock, running_gateway
from .session_fixtures import cpu_only_policy


@pytest.fixture(name="policy_file")
def policy_file_fixture(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    cpu_only_policy(path, min_cores=1)
    return path


@pytest.fixture(name="gateway")
def gateway_fixture(tmp_path: Path, policy_file: Path) -> Iterator[Gateway]:
    with running_gateway(
        sqlite_url(tmp_path / "gateway.db"), tmp_path, policy_file, clock=WallClock()
    ) as gw:
        yield gw


@pytest.fixture(name="home")
def home_fixture(tmp_path: Path) -> Path:
    path = tmp_path / "client"
    path.mkdir(mode=0o700)
    return path
