"""The masking and watermarking modules compiled with mypyc (scripts/native.py): they show an agent
exactly what their sources show, and a source edited or removed after a build is not left
behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from homeagent.proxy.gateway import native_build

from . import native_twin

ROOT = Path(__file__).resolve().parent.parent


def test_compiled_modules_show_what_their_sources_show() -> None:
    shown = native_twin.protected()
    compiled = native_build.compiled_modules()
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
    assert (native_build.masking_build(), sources["build"]) == ("compiled", "interpreted")
    assert len(shown) == len(sources["shown"]) == len(native_twin.bodies())
    for mine, theirs in zip(shown, sources["shown"], strict=True):
        assert mine["counts"], "nothing was masked: the bodies test nothing"
        assert mine == theirs


def test_a_source_edited_or_removed_after_the_build_is_stale(tmp_path: Path) -> None:
    sources = []
    for package in native_build.PACKAGES:
        (tmp_path / package).mkdir(parents=True)
        for name in ("__init__.py", "scanner.py"):
            (tmp_path / package / name).write_text("")
        sources.append(tmp_path / package / "scanner.py")
    stale = native_build.stale
    assert stale(tmp_path) == [], "nothing compiled: the sources run, nothing is stale"
    native_build.check_build(tmp_path)
    for source in sources:
        native_build.compiled(source).write_bytes(b"")
        os.utime(native_build.compiled(source), (source.stat().st_mtime + 10,) * 2)
    assert stale(tmp_path) == []
    native_build.check_build(tmp_path)  # built after the sources were written: fine
    os.utime(sources[1], (sources[1].stat().st_mtime + 20,) * 2)
    assert stale(tmp_path) == [sources[1]]
    # the gateway refuses to start on it, naming it and the way out
    with pytest.raises(native_build.StaleBuildError, match=r"watermark/scanner.py.*scripts/setup"):
        native_build.check_build(tmp_path)
    native_build.compiled(sources[0]).unlink()
    assert stale(tmp_path) == sources
    orphan = native_build.compiled(sources[1].with_name("gone.py"))
    orphan.write_bytes(b"")
    assert stale(tmp_path) == [*sources, orphan], "a module whose source was removed"
