"""The masking and watermarking code compiled with mypyc (scripts/native.py builds it, as extension
modules beside the sources): which modules a build leaves, whether they are stale (older than
their sources, missing beside compiled ones, or left without a source: Python would import old
code under the sources' name), and whether this process runs them. One definition for the build
script, the tests' rebuild and the gateway's refusal to start on a stale build; the staleness
check reads files only, so it runs before any masking module is imported."""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""Where proxy/ stands: the checkout (an editable install) or the installed homeagent package."""
PACKAGES = ("proxy/core/masking", "proxy/core/watermark")
"""The folders compiled (their __init__ stays a source): where a gateway spends its CPU per body."""
MODULE_PACKAGES = tuple(f"homeagent.{p.replace('/', '.')}" for p in PACKAGES)
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
LIBRARY_SUFFIX = f"__mypyc{SUFFIX}"
"""The compiled modules' shared library, in proxy/core."""


class StaleBuildError(Exception):
    """Compiled masking modules that do not match their sources."""


def sources(root: Path = ROOT) -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (root / package).glob("*.py")
        if path.name != "__init__.py"
    )


def compiled(source: Path) -> Path:
    return source.with_name(source.stem + SUFFIX)


def all_compiled(root: Path = ROOT) -> list[Path]:
    """Every extension module a build leaves in the tree (the modules and their library)."""
    found = [p for package in PACKAGES for p in (root / package).glob(f"*{SUFFIX}")]
    return sorted(found + list((root / "proxy" / "core").glob(f"*{LIBRARY_SUFFIX}")))


def stale(root: Path = ROOT) -> list[Path]:
    """Sources newer than their compiled module, or without one while others are compiled; and
    compiled modules whose source is gone (Python would still import them)."""
    built = all_compiled(root)
    if not built:
        return []
    found = []
    for source in sources(root):
        module = compiled(source)
        if not module.exists() or module.stat().st_mtime < source.stat().st_mtime:
            found.append(source)
    modules = {compiled(source) for source in sources(root)}
    found += [p for p in built if p not in modules and not p.name.endswith(LIBRARY_SUFFIX)]
    return found


def check_build(root: Path = ROOT) -> None:
    """StaleBuildError naming what is stale, if anything is."""
    old = stale(root)
    if old:
        names = ", ".join(str(path.relative_to(root)) for path in old)
        raise StaleBuildError(
            f"the compiled masking modules do not match their sources ({names}): "
            "build them again with scripts/setup (or python scripts/native.py), or remove them "
            "with python scripts/native.py --clean"
        )


def compiled_modules() -> list[str]:
    """The modules of the compiled packages that this process runs from extension modules."""
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name.rpartition(".")[0] in MODULE_PACKAGES
        and isinstance(
            getattr(getattr(module, "__spec__", None), "loader", None),
            importlib.machinery.ExtensionFileLoader,
        )
    )


def masking_build() -> str:
    """`compiled` or `interpreted` (same results, about a fifth more CPU per body)."""
    importlib.import_module("homeagent.proxy.core.masking.scanner")
    return "compiled" if compiled_modules() else "interpreted"
