"""Before any test module imports the masking code: compiled modules that do not match their
sources (scripts/native.py) would be tested instead of them, so they are built again first."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from homeagent.proxy.gateway.native_build import stale


def _rebuild_stale_native() -> None:
    path = Path(__file__).resolve().parent / "scripts" / "native.py"
    spec = importlib.util.spec_from_file_location("homeagent_native_build", path)
    assert spec is not None and spec.loader is not None
    native = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(native)
    native.build()


if stale():
    _rebuild_stale_native()
