"""The masking and watermarking modules compiled with mypyc (scripts/native.py): they show an agent
exactly what their sources show, and a source edited or removed after a build is not left
behind."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from homeagent.proxy.gateway import native_build
from homeagent.proxy.gateway.native_build import masking_build

from . import native_twin

ROOT = Path(__file__).resolve().parent.parent


def _native_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("native_build", ROOT / "scripts" / "native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compiled_modules_show_what_their_sources_show() -> None:
    shown = native_twin.protected()
    compiled = native_twin.compiled_modules()
    if not compiled:
        if os.environ.get("HOMEAGENT_REQUIRE_NATIVE") == "1":
            pytest.fail("the masking modules are not compiled: see build/native/build.log")
        pytest.skip("the masking modules are not compiled here (scripts/native.py)")
    assert "homeagent.proxy.core.masking.scanner" in compiled
    twin = subprocess.run(
        [sys.executable, "-m", "tests.native_twin"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    sources = json.loads(twin.stdout)
    assert sources["compiled"] == [], "the twin ran compiled modules, not the sources"
    assert (masking_build(), sources["build"]) == ("compiled", "interpreted")
    assert len(shown) == len(sources["shown"]) == len(native_twin.bodies())
    for mine, theirs in zip(shown, sources["shown"], strict=True):
        assert mine["counts"], "nothing was masked: the bodies test nothing"
        assert mine == theirs


def test_a_source_edited_after_the_build_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    native = _native_build()
    monkeypatch.setattr(native, "ROOT", tmp_path)
    sources = []
    for package in native.PACKAGES:
        (tmp_path / package).mkdir(parents=True)
        for name in ("__init__.py", "scanner.py"):
            (tmp_path / package / name).write_text("")
        sources.append(tmp_path / package / "scanner.py")
    assert native.stale() == [], "nothing compiled: the sources run, nothing is stale"
    for source in sources:
        native.compiled(source).write_bytes(b"")
        os.utime(native.compiled(source), (source.stat().st_mtime + 10,) * 2)
    assert native.stale() == []
    os.utime(sources[1], (sources[1].stat().st_mtime + 20,) * 2)
    assert native.stale() == [sources[1]]
    native.compiled(sources[0]).unlink()
    assert native.stale() == sources
    orphan = native.compiled(sources[1].with_name("gone.py"))
    orphan.write_bytes(b"")
    assert native.stale() == [*sources, orphan], "a module whose source was removed"


def test_the_gateway_refuses_to_start_on_compiled_modules_older_than_their_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, source = tmp_path / f"scanner{native_build.SUFFIX}", tmp_path / "scanner.py"
    module.write_bytes(b"")
    source.write_text("")
    name = "homeagent.proxy.core.masking.scanner"
    monkeypatch.setattr(native_build, "compiled_modules", lambda: [(name, module, source)])
    os.utime(module, (source.stat().st_mtime + 5,) * 2)
    native_build.check_build()  # built after the source was written: fine
    os.utime(source, (module.stat().st_mtime + 5,) * 2)
    with pytest.raises(native_build.StaleBuildError, match=r"scanner.*scripts/setup"):
        native_build.check_build()
