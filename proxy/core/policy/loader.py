"""Reading policy YAML: includes, strict validation, and errors with FILE:LINE:COL.

Includes are laid under the including file, so officers can predict the result: mappings merge
key by key (the including file wins), the `forbidden_words` and `limits` lists are joined, and any
other value the including file writes replaces the included one.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from .errors import PolicyError, Problem, did_you_mean
from .masking import BUILTIN_DETECTORS
from .model import Policy
from .posture import CHECK_NAMES, PostureChecks

Loc = tuple[str | int, ...]
JOINED_LISTS = ("forbidden_words", "limits")
MAX_INCLUDE_DEPTH = 8
MAX_NODES = 100_000
"""Mappings, lists and their items a policy may hold once aliases are spelt out (the bundled
ones hold a few hundred)."""


@dataclass(frozen=True)
class LoadedPolicy:
    """A valid policy and where it came from."""

    policy: Policy
    path: Path
    files: tuple[Path, ...]
    """Every file read: the policy, its includes, its word files."""
    words: dict[str, tuple[str, ...]]
    """Per forbidden-word list name: its inline words and those of its files."""


@dataclass
class _Origin:
    """Where each merged node came from, so any error can be put back at its line."""

    file_of: dict[int, str] = field(default_factory=dict)
    redirect: dict[tuple[int, str | int], tuple[Any, str | int, str]] = field(default_factory=dict)
    keep_alive: list[Any] = field(default_factory=list)

    def claim(self, node: Any, file: str) -> None:
        self.keep_alive.append(node)
        self.file_of[id(node)] = file

    def locate(self, root: Any, loc: Loc, *, at_key: bool = False) -> tuple[str, int, int]:
        """File, line and column of the node at `loc` (of its key, with at_key)."""
        node, file = root, self.file_of[id(root)]
        line, col = _start(node)
        for depth, step in enumerate(loc):
            container, key, source = self.redirect.get(
                (id(node), step), (node, step, self.file_of.get(id(node), file))
            )
            position = _position(container, key, key_side=at_key and depth == len(loc) - 1)
            if position is None:
                break
            (line, col), file = position, source
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
        return file, line, col


def _start(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 1, 1
    return lc.line + 1, lc.col + 1


def _position(container: Any, key: str | int, *, key_side: bool) -> tuple[int, int] | None:
    try:
        if isinstance(container, CommentedMap) and key in container:
            line, col = container.lc.key(key) if key_side else container.lc.value(key)
            return line + 1, col + 1
        if isinstance(container, CommentedSeq) and isinstance(key, int) and key < len(container):
            line, col = container.lc.item(key)
            return line + 1, col + 1
    except (KeyError, TypeError, AttributeError):
        return None
    return None


def _shown(path: Path) -> str:
    """The path as the officer would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _read(path: Path, origin: _Origin) -> CommentedMap:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError([Problem(_shown(path), 0, 0, "file not found")]) from None
    except OSError as err:
        raise PolicyError([Problem(_shown(path), 0, 0, f"cannot read: {err}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        row, col = _line_col(raw[: err.start].decode("utf-8", "replace"))
        message = f"byte 0x{raw[err.start]:02x} is not UTF-8; save the file as UTF-8"
        raise PolicyError([Problem(_shown(path), row, col, message)]) from None
    for number, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            raise PolicyError(
                [
                    Problem(
                        _shown(path),
                        number,
                        indent.index("\t") + 1,
                        "tab in indentation; use spaces",
                    )
                ]
            )
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = (err.problem or err.context or "invalid YAML").strip()
        if "duplicate key" in message or "found duplicate key" in str(err):
            message = f"duplicate key {_duplicate_key(str(err))}".strip()
        raise PolicyError([Problem(_shown(path), where[0], where[1], message)]) from None
    except ReaderError as err:
        row, col = _line_col(text[: err.position])
        message = f"character U+{ord(text[err.position]):04X} is not allowed in YAML"
        raise PolicyError([Problem(_shown(path), row, col, message)]) from None
    except YAMLError as err:
        # any other YAML error carries no position: the file as a whole, at its first line
        raise PolicyError([Problem(_shown(path), 1, 1, f"invalid YAML: {err}")]) from None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise PolicyError(
            [Problem(_shown(path), 1, 1, "a policy file must be a mapping of sections")]
        )
    _claim_tree(data, _shown(path), origin)
    return data


def _line_col(before: str) -> tuple[int, int]:
    """1-based line and column of what follows `before`, the text up to an offset."""
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _duplicate_key(text: str) -> str:
    for line in text.splitlines():
        if 'found duplicate key "' in line:
            return line.split('found duplicate key "', 1)[1].split('"', 1)[0].join("''")
    return ""


def _claim_tree(node: Any, file: str, origin: _Origin) -> None:
    # a node claimed already is an alias's: walking it again would spell every alias out
    if isinstance(node, CommentedMap | CommentedSeq) and id(node) not in origin.file_of:
        origin.claim(node, file)
        for child in node.values() if isinstance(node, CommentedMap) else node:
            _claim_tree(child, file, origin)


def _merged(path: Path, origin: _Origin, stack: tuple[Path, ...]) -> CommentedMap:
    """This file with its includes merged under it."""
    data = _read(path, origin)
    includes = data.get("include", [])
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        return data  # the schema reports the bad `include`
    merged = CommentedMap()
    origin.claim(merged, _shown(path))
    for index, name in enumerate(includes):
        target = (path.parent / name).resolve()
        if target in stack or len(stack) >= MAX_INCLUDE_DEPTH:
            line, col = data["include"].lc.item(index)
            cycle = " → ".join(p.name for p in (*stack, target))
            raise PolicyError([Problem(_shown(path), line + 1, col + 1, f"include loop: {cycle}")])
        try:
            included = _merged(target, origin, (*stack, target))
        except PolicyError as err:
            if not (len(err.problems) == 1 and err.problems[0].line == 0):
                raise
            line, col = data["include"].lc.item(index)
            message = f"cannot include {name!r}: {err.problems[0].message}"
            raise PolicyError([Problem(_shown(path), line + 1, col + 1, message)]) from None
        _merge_into(merged, included, origin)
    _merge_into(merged, data, origin)
    return merged


def _merge_into(
    target: CommentedMap, source: CommentedMap, origin: _Origin, depth: int = 0
) -> None:
    """Lay `source` over `target`: mappings merge key by key, the top-level `forbidden_words` and
    `limits` lists are joined, anything else in `source` replaces what `target` had."""
    file = origin.file_of[id(source)]

    def where(container: Any, key: str | int) -> tuple[Any, str | int, str]:
        return origin.redirect.get((id(container), key), (container, key, file))

    for key, value in source.items():
        if depth == 0 and key == "include":
            continue
        existing = target.get(key)
        if isinstance(value, CommentedMap) and isinstance(existing, CommentedMap):
            origin.redirect[(id(target), key)] = where(source, key)
            _merge_into(existing, value, origin, depth + 1)
            continue
        if (
            depth == 0
            and key in JOINED_LISTS
            and isinstance(value, CommentedSeq)
            and isinstance(existing, CommentedSeq)
        ):
            for index, item in enumerate(value):
                origin.redirect[(id(existing), len(existing))] = where(value, index)
                existing.append(item)
            continue
        target[key] = value
        origin.redirect[(id(target), key)] = where(source, key)


def load_policy(path: str | Path) -> LoadedPolicy:
    """Load and validate a policy file, or raise PolicyError listing every problem found."""
    path = Path(path)
    origin = _Origin()
    data = _merged(path.resolve(), origin, (path.resolve(),))
    read = {Path(p).resolve() for p in origin.file_of.values()}
    try:
        policy = Policy.model_validate(_plain(data, origin))
    except ValidationError as err:
        raise PolicyError(_problems_from(err, data, origin, ())) from None
    problems = list(_cross_check(policy, data, origin))
    words, word_files = _read_words(policy, path.resolve(), data, origin, problems)
    if problems:
        raise PolicyError(problems)
    files = read | word_files
    return LoadedPolicy(policy=policy, path=path, files=tuple(sorted(files)), words=words)


Locator = Callable[[Loc], tuple[str, int, int]]
"""Where (file, line, column) the value at a path of keys and indexes was written."""


def read_model[M: BaseModel](path: str | Path, model: type[M]) -> tuple[M, Locator]:
    """Any YAML file validated against `model`, with the same FILE:LINE:COL errors as policies,
    and a locator to point later messages at the line they are about."""
    origin = _Origin()
    data = _read(Path(path), origin)
    try:
        value = model.model_validate(_plain(data, origin))
    except ValidationError as err:
        raise PolicyError(_problems_from(err, data, origin, (), model)) from None
    return value, lambda loc: origin.locate(data, loc)


def _plain(root: Any, origin: _Origin) -> Any:
    """Plain dicts and lists of the YAML tree, aliases spelt out, within a budget: YAML anchors
    can make a few lines stand for billions of nodes, or for a node that holds itself."""
    budget = MAX_NODES
    inside: list[int] = []

    def refuse(node: Any, message: str) -> PolicyError:
        line, col = _start(node)
        return PolicyError([Problem(origin.file_of.get(id(node), "?"), line, col, message)])

    def plain(node: Any) -> Any:
        nonlocal budget
        if not isinstance(node, CommentedMap | CommentedSeq):
            return node
        budget -= len(node) + 1
        if budget < 0:
            raise refuse(node, f"aliases spell out more than {MAX_NODES} values; write it out")
        if id(node) in inside:
            raise refuse(node, "an alias stands for the mapping or list it is in")
        inside.append(id(node))
        try:
            if isinstance(node, CommentedMap):
                return {str(k): plain(v) for k, v in node.items()}
            return [plain(v) for v in node]
        finally:
            inside.pop()

    return plain(root)


def _problems_from(
    err: ValidationError, data: Any, origin: _Origin, prefix: Loc, root: type[BaseModel] = Policy
) -> Iterator[Problem]:
    for error in err.errors():
        loc: Loc = prefix + tuple(error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden":
            choices = _fields_at(root, loc[:-1])
            message = f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), choices)}"
            if choices:
                message += f"; expected one of: {', '.join(sorted(choices))}"
            file, line, col = origin.locate(data, loc, at_key=True)
        elif kind == "missing":
            message = f"missing required key {loc[-1]!r}"
            file, line, col = origin.locate(data, loc[:-1])
        elif kind == "string_pattern_mismatch" and loc[-1] == "name":
            message = f"{error['input']!r}: a name may hold only letters, digits, '_', '-' and '.'"
            file, line, col = origin.locate(data, loc)
        else:
            message = error["msg"].removeprefix("Value error, ")
            if "input" in error and kind not in ("model_type", "dict_type", "list_type"):
                message = (
                    f"{message} (got {error['input']!r})"
                    if not isinstance(error["input"], dict | list)
                    else message
                )
            file, line, col = origin.locate(data, loc)
        where = ".".join(str(s) for s in loc)
        yield Problem(file, line, col, f"{where}: {message}" if where else message)


def _fields_at(root: type[BaseModel], loc: Loc) -> list[str]:
    """Key names allowed at `loc`, by walking the model classes."""
    current: Any = root
    for step in loc:
        current = _step_type(current, step)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _step_type(current: Any, step: str | int) -> Any:
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        for name, info in current.model_fields.items():
            if step in (name, info.alias):
                return info.annotation
        return None
    origin = typing.get_origin(current)
    args = typing.get_args(current)
    if origin is dict and args:
        return args[1]
    if origin is list and args:
        return args[0]
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else annotation
            if len(options) != 1:
                return annotation
        else:
            return annotation


def _cross_check(policy: Policy, data: Any, origin: _Origin) -> Iterator[Problem]:
    """What the schema alone cannot see: names that refer to other parts of the policy."""
    roles = set(policy.roles)

    def problem(loc: Loc, message: str, *, at_key: bool = False) -> Problem:
        file, line, col = origin.locate(data, loc, at_key=at_key)
        return Problem(file, line, col, f"{'.'.join(str(s) for s in loc)}: {message}")

    def unknown_role(loc: Loc, name: str) -> Problem:
        return problem(loc, f"unknown role {name!r}{did_you_mean(name, roles)}")

    for name, role in policy.roles.items():
        for index, parent in enumerate(role.extends):
            if parent not in roles:
                yield unknown_role(("roles", name, "extends", index), parent)
        if _extends_loop(policy, name):
            yield problem(
                ("roles", name, "extends"),
                f"role {name!r} extends itself through {_extends_loop(policy, name)}",
            )
        for kind in ("allow", "deny"):
            seen: set[str] = set()
            for index, rule in enumerate(getattr(role, kind)):
                if rule.name in seen:
                    yield problem(
                        ("roles", name, kind, index, "name"),
                        f"rule name {rule.name!r} used twice in this list",
                    )
                seen.add(rule.name)

    for role_name, checks in policy.posture.roles.items():
        if role_name not in roles:
            yield problem(
                ("posture", "roles", role_name),
                f"unknown role {role_name!r}{did_you_mean(role_name, roles)}",
                at_key=True,
            )
            continue
        if not isinstance(checks, dict):
            yield problem(
                ("posture", "roles", role_name), "expected a mapping of check name to thresholds"
            )
            continue
        bad = False
        for check, fields in checks.items():
            if check not in CHECK_NAMES:
                bad = True
                yield problem(
                    ("posture", "roles", role_name, check),
                    f"unknown check {check!r}{did_you_mean(check, CHECK_NAMES)}",
                    at_key=True,
                )
            elif not isinstance(fields, dict):
                bad = True
                yield problem(
                    ("posture", "roles", role_name, check), "expected a mapping of thresholds"
                )
        if not bad:
            try:
                PostureChecks.model_validate(_role_checks(policy, role_name))
            except ValidationError as err:
                yield from _problems_from(err, data, origin, ("posture", "roles", role_name))

    detectors = set(BUILTIN_DETECTORS) | {c.name for c in policy.masking.custom}
    for name in policy.masking.detectors:
        if name not in detectors:
            yield problem(
                ("masking", "detectors", name),
                f"unknown detector {name!r}{did_you_mean(name, detectors)}",
                at_key=True,
            )
    for index, custom in enumerate(policy.masking.custom):
        if custom.name in BUILTIN_DETECTORS:
            yield problem(
                ("masking", "custom", index, "name"),
                f"{custom.name!r} is a built-in detector; choose another name",
            )
    for index, exemption in enumerate(policy.masking.exempt):
        for j, name in enumerate(exemption.detectors):
            if name not in detectors:
                yield problem(
                    ("masking", "exempt", index, "detectors", j),
                    f"unknown detector {name!r}{did_you_mean(name, detectors)}",
                )
        for j, name in enumerate(exemption.roles):
            if name not in roles:
                yield unknown_role(("masking", "exempt", index, "roles", j), name)
    for section in ("forbidden_words", "limits"):
        names: set[str] = set()
        for index, rule in enumerate(getattr(policy, section)):
            if rule.name in names:
                yield problem(
                    (section, index, "name"), f"name {rule.name!r} used twice in {section}"
                )
            names.add(rule.name)
            for j, name in enumerate(rule.roles):
                if name not in roles:
                    yield unknown_role((section, index, "roles", j), name)


def _role_checks(policy: Policy, role: str) -> dict[str, Any]:
    data = policy.posture.checks.model_dump()
    for check, fields in policy.posture.roles.get(role, {}).items():
        data[check] = {**data[check], **fields}
    return data


def _extends_loop(policy: Policy, start: str) -> str:
    path, todo = [start], list(policy.roles[start].extends)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name == start:
            return " → ".join([*path, start])
        if name in seen or name not in policy.roles:
            continue
        seen.add(name)
        path.append(name)
        todo.extend(policy.roles[name].extends)
    return ""


def _read_words(
    policy: Policy, path: Path, data: Any, origin: _Origin, problems: list[Problem]
) -> tuple[dict[str, tuple[str, ...]], set[Path]]:
    words: dict[str, tuple[str, ...]] = {}
    files: set[Path] = set()
    for index, rule in enumerate(policy.forbidden_words):
        phrases = [w for w in rule.words if w.strip()]
        for j, name in enumerate(rule.files):
            base = Path(origin.locate(data, ("forbidden_words", index, "files", j))[0]).parent
            target = (base / name).resolve()
            try:
                text = target.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                file, line, col = origin.locate(data, ("forbidden_words", index, "files", j))
                reason = "file not found" if isinstance(err, FileNotFoundError) else str(err)
                problems.append(
                    Problem(
                        file,
                        line,
                        col,
                        f"forbidden_words.{index}.files.{j}: cannot read {name!r}: {reason}",
                    )
                )
                continue
            files.add(target)
            phrases += [
                ln.strip()
                for ln in text.splitlines()
                if ln.strip() and not ln.lstrip().startswith("#")
            ]
        if not phrases:
            file, line, col = origin.locate(data, ("forbidden_words", index))
            problems.append(
                Problem(
                    file, line, col, f"forbidden_words.{index}: list {rule.name!r} has no words"
                )
            )
        words[rule.name] = tuple(dict.fromkeys(phrases))
    return words, files
