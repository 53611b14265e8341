"""Compiles the gateway's masking and watermarking code with mypyc, in place: C extension modules
next to their sources, which Python then imports instead of the sources. Same code, typed
already (mypy --strict), about a fifth less CPU per body (benchmarks/bench_gateway.py).

    python scripts/native.py           build, unless the last build is of these very sources
    python scripts/native.py --check   exit 1, naming them, if compiled modules are older than
                                       their sources (a stale build would run old code)
    python scripts/native.py --clean   remove the compiled modules: the sources run as written

scripts/setup runs the first; HOMEAGENT_NATIVE=0 makes it run the last. A failed build leaves
the sources to run (slower, same results) and says so.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("proxy/core/masking", "proxy/core/watermark")
"""Where a gateway spends its CPU per body: detectors, JSON walk, replacement, marks."""
GROUP = "homeagent.proxy.core.protect_native"
"""The shared library of the compiled modules: homeagent/proxy/core/protect_native__mypyc."""
LINKS = ROOT / "build" / "typecheck"
"""A tree where client/, proxy/ and policies/ appear as homeagent.* (as scripts/typecheck
makes it), so that mypy names the modules as they are imported."""
STAMP = ROOT / "build" / "native.stamp"
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def sources() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).glob("*.py")
        if path.name != "__init__.py"
    )


def compiled(source: Path) -> Path:
    return source.with_name(source.stem + SUFFIX)


def all_compiled() -> list[Path]:
    """Every extension module a build leaves in the tree (the modules and their library)."""
    found = [p for package in PACKAGES for p in (ROOT / package).glob(f"*{SUFFIX}")]
    return sorted(found + list((ROOT / "proxy" / "core").glob(f"*__mypyc{SUFFIX}")))


def digest() -> str:
    import mypy.version

    hashed = hashlib.sha256(f"{sys.version} {mypy.version.__version__}".encode())
    for path in sources():
        hashed.update(path.relative_to(ROOT).as_posix().encode())
        hashed.update(path.read_bytes())
    return hashed.hexdigest()


def stale() -> list[Path]:
    """Sources newer than their compiled module, or without one while others are compiled; and
    compiled modules whose source is gone (Python would still import them)."""
    built = all_compiled()
    if not built:
        return []
    found = []
    for source in sources():
        module = compiled(source)
        if not module.exists() or module.stat().st_mtime < source.stat().st_mtime:
            found.append(source)
    modules = {compiled(source) for source in sources()}
    found += [p for p in built if p not in modules and not p.name.endswith(f"__mypyc{SUFFIX}")]
    return found


def clean() -> None:
    for path in all_compiled():
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
    if STAMP.exists() and STAMP.read_text() == digest() and not stale():
        return True
    clean()
    link_tree()
    target = ROOT / "build" / "native"
    target.mkdir(parents=True, exist_ok=True)
    setup = target / "setup.py"
    paths = [f"homeagent/{p.relative_to(ROOT).as_posix()}" for p in sources()]
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
    missing = [s for s in sources() if not compiled(s).exists()]
    if result.returncode != 0 or missing:
        clean()
        log = target / "build.log"
        log.write_text(result.stdout + result.stderr)
        print(f"mypyc build failed (the sources will run, slower); its output: {log}")
        return False
    for module in all_compiled():
        module.touch()  # copied with the time they were first built: newer than their sources now
    STAMP.write_text(digest())
    return True


def main() -> int:
    if "--clean" in sys.argv[1:]:
        clean()
        return 0
    if "--check" in sys.argv[1:]:
        old = stale()
        for path in old:
            print(f"{path.relative_to(ROOT)}: its compiled module is out of date")
        return 1 if old else 0
    return 0 if build() else 1


if __name__ == "__main__":
    sys.exit(main())
