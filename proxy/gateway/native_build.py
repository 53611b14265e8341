"""Whether the masking and watermarking code runs compiled (scripts/native.py builds it with
mypyc, as extension modules beside the sources) and, if so, whether from modules at least as new
as their sources: a stale module would mask with old code while the sources say otherwise."""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import sysconfig
from pathlib import Path

PACKAGES = ("homeagent.proxy.core.masking", "homeagent.proxy.core.watermark")
"""The packages scripts/native.py compiles (its PACKAGES, by module name)."""
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"


class StaleBuildError(Exception):
    """Compiled masking modules are older than their sources."""


def compiled_modules() -> list[tuple[str, Path, Path]]:
    """(module name, extension module, source) of each module of PACKAGES loaded compiled."""
    found = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        folder = Path(package.__path__[0])
        for name, module in list(sys.modules.items()):
            parent, _, leaf = name.rpartition(".")
            loader = getattr(getattr(module, "__spec__", None), "loader", None)
            if parent == package_name and isinstance(
                loader, importlib.machinery.ExtensionFileLoader
            ):
                found.append((name, folder / f"{leaf}{SUFFIX}", folder / f"{leaf}.py"))
    return sorted(found)


def masking_build() -> str:
    """`compiled` or `interpreted` (same results, about a fifth more CPU per body)."""
    importlib.import_module("homeagent.proxy.core.masking.scanner")
    return "compiled" if compiled_modules() else "interpreted"


def check_build() -> None:
    """StaleBuildError naming the compiled modules whose source was changed after the build."""
    old = [
        name
        for name, module, source in compiled_modules()
        if source.exists() and module.exists() and source.stat().st_mtime > module.stat().st_mtime
    ]
    if old:
        raise StaleBuildError(
            f"the compiled masking modules are older than their sources ({', '.join(old)}): "
            "build them again with scripts/setup (or python scripts/native.py), or remove them "
            "with python scripts/native.py --clean"
        )
