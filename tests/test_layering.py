"""The core stays pure: importing it pulls in neither mitmproxy nor textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE_MODULES = sorted(
    "homeagent.proxy." + ".".join(path.relative_to(ROOT / "proxy").with_suffix("").parts)
    for path in (ROOT / "proxy" / "core").rglob("*.py")
    if path.name != "__init__.py"
)


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_core_imports_neither_mitmproxy_nor_textual() -> None:
    assert len(CORE_MODULES) >= 5
    loaded = _modules_after_import(", ".join(CORE_MODULES))
    assert set(CORE_MODULES) <= loaded
    forbidden = {m for m in loaded if m.split(".")[0] in ("mitmproxy", "textual")}
    assert not forbidden, f"proxy/core pulls in {sorted(forbidden)}"


def test_client_never_imports_proxy() -> None:
    loaded = _modules_after_import("homeagent.client.cli")
    assert not {m for m in loaded if m.startswith("homeagent.proxy")}


def test_the_session_service_needs_neither_the_gateway_nor_the_ui() -> None:
    loaded = _modules_after_import(
        "homeagent.client.session.service, homeagent.client.commands.status"
    )
    assert "homeagent.client.session.service" in loaded
    assert not {m for m in loaded if m.startswith("homeagent.proxy") or m.startswith("textual")}
