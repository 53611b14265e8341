"""Where the gateway keeps its files when not told: `$HOMEAGENT_DATA_DIR`, else the user's
data folder."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    configured = os.environ.get("HOMEAGENT_DATA_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".local" / "share" / "homeagent-proxy"
