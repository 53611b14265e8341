"""The core stays pure: importing it pulls in neither mitmproxy nor textual."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "homeagent.proxy.core.urls",
    "homeagent.proxy.core.policy.loader",
    "homeagent.proxy.core.masking",
]


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_core_imports_neither_mitmproxy_nor_textual() -> None:
    for module in CORE_MODULES:
        loaded = _modules_after_import(module)
        assert module in loaded
        forbidden = {m for m in loaded if m.split(".")[0] in ("mitmproxy", "textual")}
        assert not forbidden, f"{module} pulls in {sorted(forbidden)}"


def test_client_never_imports_proxy() -> None:
    loaded = _modules_after_import("homeagent.client.cli")
    assert not {m for m in loaded if m.startswith("homeagent.proxy")}
