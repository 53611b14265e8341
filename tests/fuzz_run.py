"""Long fuzzing runs (`scripts/fuzz`): every property of tests/test_fuzz_*.py, run again and
again with fresh random inputs until its share of the time is spent; prints how many examples
each ran. Run with HOMEAGENT_FUZZ=long (scripts/fuzz sets it) for the long settings."""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fuzz_profile import LONG
from .test_fuzz_policy_loader import copy_policies

MODULES = sorted(p.stem for p in Path(__file__).parent.glob("test_fuzz_*.py"))


@dataclass
class Property:
    name: str
    test: Callable[..., None]
    examples: int = 0
    rounds: int = 0
    seconds: float = 0.0
    failure: str | None = None


def _properties(selected: list[str]) -> list[Property]:
    found = []
    for module_name in MODULES:
        module = importlib.import_module(f"tests.{module_name}")
        for name, value in vars(module).items():
            if name.startswith("test_") and hasattr(value, "hypothesis"):
                full = f"{module_name}::{name}"
                if not selected or any(s in full for s in selected):
                    found.append(Property(full, value))
    return found


def _counting(prop: Property) -> None:
    """Count every example hypothesis runs, by wrapping the test's inner function (the hook
    hypothesis documents for wrapping a test)."""
    hooks: Any = prop.test
    inner = hooks.hypothesis.inner_test

    def counted(*args: Any, **kwargs: Any) -> None:
        prop.examples += 1
        inner(*args, **kwargs)

    hooks.hypothesis.inner_test = counted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="time for all properties")
    parser.add_argument("only", nargs="*", help="run only properties whose name holds this")
    args = parser.parse_args()
    if not LONG:
        print("note: HOMEAGENT_FUZZ is not 'long': using the CI settings", file=sys.stderr)
    properties = _properties(args.only)
    if not properties:
        print("no property matches", file=sys.stderr)
        return 2
    share = args.minutes * 60 / len(properties)
    with tempfile.TemporaryDirectory(prefix="homeagent-fuzz-") as scratch:
        fixtures = {"tree": copy_policies(Path(scratch))}
        for prop in properties:
            _counting(prop)
            # the fixtures it asks for by name (hypothesis leaves them in the signature)
            wanted = {
                name: fixtures[name]
                for name in inspect.signature(prop.test).parameters
                if name in fixtures
            }
            start = time.monotonic()
            print(f"{prop.name}: up to {share:.0f} s", flush=True)
            while time.monotonic() - start < share and prop.failure is None:
                try:
                    prop.test(**wanted)
                except Exception:  # a falsified property: report it, go on to the next
                    prop.failure = traceback.format_exc()
                prop.rounds += 1
            prop.seconds = time.monotonic() - start
    print(f"\n{'property':<78} {'examples':>9} {'rounds':>6} {'s':>6}  result")
    for prop in properties:
        result = "ok" if prop.failure is None else "FAILED"
        print(f"{prop.name:<78} {prop.examples:>9} {prop.rounds:>6} {prop.seconds:>6.0f}  {result}")
    failed = [p for p in properties if p.failure is not None]
    for prop in failed:
        print(f"\n== {prop.name}\n{prop.failure}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
