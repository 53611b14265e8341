"""Compiles the gateway's masking and watermarking code with mypyc, in place: C extension modules
next to their sources, which Python then imports instead of the sources. Same code, typed
already (mypy --strict), about a fifth less CPU per body (benchmarks/bench_gateway.py).

    python scripts/native.py           build, unless the last build is of these very sources
    python scripts/native.py --check   exit 1, naming them, if compiled modules do not match
                                       their sources (native_build.stale: old code would run)
    python scripts/native.py --clean   remove the compiled modules: the sources run as written

scripts/setup runs the first; HOMEAGENT_NATIVE=0 makes it run the last. A failed build leaves
the sources to run (slower, same results) and says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from homeagent.proxy.gateway.native_build import all_compiled, compiled, sources, stale

ROOT = Path(__file__).resolve().parent.parent
GROUP = "homeagent.proxy.core.protect_native"
"""The shared library of the compiled modules: homeagent/proxy/core/protect_native__mypyc."""
LINKS = ROOT / "build" / "typecheck"
"""A tree where client/, proxy/ and policies/ appear as homeagent.* (as scripts/typecheck
makes it), so that mypy names the modules as they are imported."""
STAMP = ROOT / "build" / "native.stamp"
"""The digest of the sources last built, or `failed DIGEST`."""
LOG = ROOT / "build" / "native" / "build.log"


def digest() -> str:
    import mypy.version

    hashed = hashlib.sha256(f"{sys.version} {mypy.version.__version__}".encode())
    for path in sources(ROOT):
        hashed.update(path.relative_to(ROOT).as_posix().encode())
        hashed.update(path.read_bytes())
    return hashed.hexdigest()


def clean() -> None:
    for path in all_compiled(ROOT):
        path.unlink()
    STAMP.unlink(missing_ok=True)


def link_tree() -> None:
    tree = LINKS / "homeagent"
    tree.mkdir(parents=True, exist_ok=True)
    for name in ("client", "proxy", "policies"):
        link = tree / name
        if not link.is_symlink():
            link.symlink_to(Path("..", "..", "..", name))


SETUP = """\
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="homeagent-native",
    ext_modules=mypycify(
        {paths!r} + ["--config-file", {config!r}, "--explicit-package-bases"],
        group_name={group!r},
        target_dir={target!r},
    ),
)
"""


def build() -> bool:
    """Build unless the last build is of these sources and all its modules are there; one build
    at a time (a lock), and a failed build is not tried again until a source changes."""
    LINKS.mkdir(parents=True, exist_ok=True)
    with (ROOT / "build" / "native.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build()


def _build() -> bool:
    wanted = digest()
    last = STAMP.read_text() if STAMP.exists() else ""
    if last == f"failed {wanted}":
        print(
            f"the last mypyc build of these sources failed ({LOG}); the sources run. "
            "To try again: python scripts/native.py --clean, then scripts/setup"
        )
        return False
    if last == wanted and all(compiled(s).exists() for s in sources(ROOT)) and not stale(ROOT):
        return True
    started = time.time()
    clean()
    link_tree()
    target = LOG.parent
    target.mkdir(parents=True, exist_ok=True)
    setup = target / "setup.py"
    paths = [f"homeagent/{p.relative_to(ROOT).as_posix()}" for p in sources(ROOT)]
    setup.write_text(
        SETUP.format(
            paths=paths, config=str(ROOT / "pyproject.toml"), group=GROUP, target=str(target)
        )
    )
    print(
        f"compiling {len(paths)} masking and watermarking modules with mypyc (about 30 s) …",
        flush=True,
    )
    # Run from the link tree: --inplace puts each module by its dotted name under the working
    # directory, which there is the source tree itself.
    result = subprocess.run(  # noqa: S603 - this Python, a setup.py written here
        [sys.executable, str(setup), "build_ext", "--inplace"],
        cwd=LINKS,
        env={**os.environ, "MYPYPATH": str(LINKS)},
        capture_output=True,
        text=True,
    )
    missing = [s for s in sources(ROOT) if not compiled(s).exists()]
    if result.returncode != 0 or missing:
        clean()
        LOG.write_text(result.stdout + result.stderr)
        STAMP.write_text(f"failed {wanted}")
        print(f"mypyc build failed (the sources will run, slower); its output: {LOG}")
        return False
    for module in all_compiled(ROOT):
        # Copied with the time they were first compiled; dated from the build's start instead, a
        # source saved while it ran counts as newer than its module, and is built again.
        os.utime(module, (started, started))
    STAMP.write_text(wanted)
    return True


def main() -> int:
    if "--clean" in sys.argv[1:]:
        clean()
        return 0
    if "--check" in sys.argv[1:]:
        old = stale(ROOT)
        for path in old:
            print(f"{path.relative_to(ROOT)}: its compiled module is out of date")
        return 1 if old else 0
    return 0 if build() else 1


if __name__ == "__main__":
    sys.exit(main())
