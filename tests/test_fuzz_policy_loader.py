"""Fuzzing the policy loader: the bundled policies, mutated as text, as bytes and as YAML
structure, either load or fail with a PolicyError whose every problem points at a file, line
and column the officer can open; never another exception, never a hang."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from homeagent.proxy.core.policy.errors import PolicyError
from homeagent.proxy.core.policy.loader import load_policy

from .fuzz_profile import FUZZ

POLICIES = Path(__file__).resolve().parent.parent / "policies"
SOURCES = {
    path.relative_to(POLICIES).as_posix(): path.read_bytes()
    for path in sorted(POLICIES.rglob("*.yaml"))
    if not path.name.endswith("_test.yaml")
}
"""The policies officers start from, by their path under policies/."""

# What officers (and their editors) get wrong, and what YAML makes of it.
_TOKENS = [
    ":", ": ", "- ", "-", "{", "}", "[", "]", ",", "'", '"', "#", "&a ", "*a", "<<: *a\n",
    "!!python/object:os.system ", "!!binary ", "!!int ", "? ", "|", ">", "%YAML 1.1\n", "---\n",
    "...\n", "\t", "  ", "\n", "\r\n", "\\", "\x00", "\ufeff", "\u2028", "~", "null", "yes",
    "08:30", "1e9999", "-1", "0x10", ".nan", "[*]", "https://", "/**", "include:\n  - x.yaml\n",
    "roles:\n", "  inbound:\n", "    allow:\n", "      - name: x\n        url: ", "中文", "é",
]  # fmt: skip


def copy_policies(root: Path) -> Path:
    """A copy of policies/ in `root` to write mutants into, so includes and word files resolve."""
    shutil.copytree(POLICIES, root, dirs_exist_ok=True)
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_policies(tmp_path_factory.mktemp("policies"))


def _check(root: Path, name: str, data: bytes) -> None:
    """Load `data` written as policies/`name`; only a well-placed PolicyError may come out."""
    target = root / name
    target.write_bytes(data)
    try:
        load_policy(target)
    except PolicyError as err:
        assert err.problems, "a PolicyError names at least one problem"
        read = {p.resolve() for p in root.rglob("*")} | {target.resolve()}
        for problem in err.problems:
            assert Path(problem.file).resolve() in read, problem
            assert problem.message.strip(), problem
            lines = _lines(Path(problem.file).read_bytes())
            if problem.line == 0:
                # only for a file as a whole: one that cannot be found
                assert "not found" in problem.message, problem
                continue
            assert 1 <= problem.line <= lines + 1, (problem, lines)
            assert problem.column >= 1, problem
            assert str(problem).startswith(f"{problem.file}:{problem.line}:{problem.column}: ")
    finally:
        if name in SOURCES:
            target.write_bytes(SOURCES[name])


def _lines(data: bytes) -> int:
    return max(1, data.count(b"\n") + 1)


@st.composite
def text_mutants(draw: st.DrawFn) -> tuple[str, bytes]:
    """A bundled policy with a few spans of its text deleted, repeated, swapped or replaced."""
    name = draw(st.sampled_from(sorted(SOURCES)))
    text = SOURCES[name].decode()
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text)))
        span = draw(st.integers(0, 40))
        kind = draw(st.sampled_from(["insert", "delete", "repeat", "replace", "indent", "swap"]))
        piece = draw(st.sampled_from(_TOKENS) | st.text(max_size=6))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + span :]
        elif kind == "repeat":
            text = text[:at] + text[at : at + span] * draw(st.integers(2, 3)) + text[at:]
        elif kind == "replace":
            text = text[:at] + piece + text[at + span :]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if kind == "indent":
                lines[i] = draw(st.sampled_from(["", " ", "   ", "\t"])) + lines[i].lstrip(" ")
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return name, text.encode("utf-8", "surrogatepass")


@st.composite
def byte_mutants(draw: st.DrawFn) -> tuple[str, bytes]:
    """A bundled policy with some bytes flipped, dropped or inserted (invalid UTF-8 included)."""
    name = draw(st.sampled_from(sorted(SOURCES)))
    data = bytearray(SOURCES[name])
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "drop", "insert"]))
        if kind == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "drop":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            data[at:at] = draw(
                st.sampled_from([b"\xff", b"\xc3", b"\xef\xbb\xbf", b"\x00", b"\xe4\xb8"])
                | st.binary(max_size=4)
            )
    return name, bytes(data)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["*", "https://crm.acme.test/**", "inbound", "cn_mobile", "09:00", "mask"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*here, index))


@st.composite
def structure_mutants(draw: st.DrawFn) -> tuple[str, bytes]:
    """A bundled policy read as YAML, a few nodes dropped, retyped or renamed, written back."""
    name = draw(st.sampled_from(sorted(SOURCES)))
    yaml = YAML(typ="rt")
    data = yaml.load(SOURCES[name].decode())
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths[1:] or paths))
        if not path:
            break
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        kind = draw(st.sampled_from(["drop", "retype", "rename", "duplicate"]))
        if kind == "drop":
            del parent[key]
        elif kind == "retype":
            parent[key] = draw(_VALUES)
        elif kind == "rename" and isinstance(parent, dict):
            value = parent.pop(key)
            parent[draw(st.text(max_size=10) | st.sampled_from(["rolez", "alow", "deny"]))] = value
        elif kind == "duplicate" and isinstance(parent, list):
            parent.append(parent[key])
    out = io.StringIO()
    yaml.dump(data, out)
    return name, out.getvalue().encode()


def _laughs(levels: int) -> bytes:
    """A "billion laughs" document: each level an anchored list of nine aliases of the last."""
    lines = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines).encode()


@FUZZ
@given(text_mutants())
@example(("examples/acme.yaml", _laughs(8)))
@example(("default.yaml", b"\x1fversion: 1\n"))
@example(("examples/acme.yaml", b"notice: &a\n  version: x\n  zh: [*a]\n"))
@example(("examples/acme.yaml", b"roles: &r\n  x: *r\n"))
def test_text_mutants_load_or_say_where(tree: Path, mutant: tuple[str, bytes]) -> None:
    _check(tree, *mutant)


@FUZZ
@given(byte_mutants())
@example(("default.yaml", b'notice:\n  version: "\xff"\n'))
def test_byte_mutants_load_or_say_where(tree: Path, mutant: tuple[str, bytes]) -> None:
    _check(tree, *mutant)


@FUZZ
@given(structure_mutants())
def test_structure_mutants_load_or_say_where(tree: Path, mutant: tuple[str, bytes]) -> None:
    _check(tree, *mutant)


def test_the_bundled_policies_load() -> None:
    # the mutants start from policies that load: a failure above is the mutation's doing
    for name in SOURCES:
        if name != "common/call-center.yaml":
            load_policy(POLICIES / name)
