"""What several subcommands share: loading a policy for the officer, printing JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..core.policy.errors import PolicyError
from ..core.policy.loader import LoadedPolicy, load_policy


class CommandError(Exception):
    """A problem to report to the officer and exit with status 1 (no traceback)."""


def load_or_explain(path: str | Path) -> LoadedPolicy:
    """The policy, or CommandError with every problem as FILE:LINE:COL: message."""
    try:
        return load_policy(path)
    except PolicyError as err:
        raise CommandError(str(err)) from None


def print_json(value: Any, *, pretty: bool = False) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2 if pretty else None)
    sys.stdout.write("\n")
