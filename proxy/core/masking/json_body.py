"""JSON and JSON Lines: every string, every number and every key is read decoded (`\\u`
escapes undone by the parser) and masked; a masked number becomes a string."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from .errors import UnmaskableBodyError
from .fields import JsonPathRule
from .run import MaskRun

_BIG = 1_000_000_000
"""No personal number has fewer than 10 digits; smaller JSON numbers are never looked at."""
_KEY_CACHE = 4096

Path = list[str | int]


def where_of(path: Path, key: str | int | None = None, prefix: str = "$") -> str:
    parts = [prefix]
    for step in [*path, key] if key is not None else path:
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")
    return "".join(parts)


def _key_where(path: Path, key: str, prefix: str) -> str:
    return where_of(path, key, prefix) + " (key)"


class JsonMasker:
    """Masks parsed JSON in place, guided by the run's JSON field rules."""

    def __init__(self, run: MaskRun, prefix: str = "$") -> None:
        self.run = run
        self.prefix = prefix
        self._by_key: dict[str, list[JsonPathRule]] = {}
        self._any_key: list[JsonPathRule] = []
        for rule in run.json_rules:
            last = rule.segments[-1]
            if last == "*":
                self._any_key.append(rule)
            else:
                self._by_key.setdefault(last, []).append(rule)
        self._has_rules = bool(run.json_rules)
        self._clean_keys: set[str] = set()

    def mask_text(self, text: str) -> str | None:
        """The masked document as text, or None when nothing in it needed masking."""
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise UnmaskableBodyError(f"body is not valid JSON: {err}") from err
        try:
            changed, document = self.mask_value(document)
        except RecursionError as err:
            raise UnmaskableBodyError("JSON body is nested too deeply to mask") from err
        if not changed:
            return None
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))

    def mask_value(self, document: Any) -> tuple[bool, Any]:
        """(changed, masked document); containers are changed in place."""
        if type(document) is dict:
            return self._dict(document, []), document
        if type(document) is list:
            return self._list(document, []), document
        new = self._leaf(document, [], None)
        return (True, new) if new is not None else (False, document)

    def _rule_for(self, path: Path, key: str | int) -> JsonPathRule | None:
        candidates: list[JsonPathRule] = self._by_key.get(key, []) if isinstance(key, str) else []
        for rule in (*candidates, *self._any_key):
            if rule.matches(path, key):
                return rule
        return None

    def _dict(self, node: dict[str, Any], path: Path) -> bool:
        changed = False
        for key, value in node.items():
            if self._has_rules and (rule := self._rule_for(path, key)) is not None:
                node[key] = self._field(rule, value, path, key)
                changed = True
                continue
            kind = type(value)
            if kind is str:
                if len(value) > 5:
                    new = self.run.text(
                        value, partial(where_of, path, key, self.prefix), entities=True
                    )
                    if new is not None:
                        node[key] = new
                        changed = True
            elif kind is dict:
                path.append(key)
                changed |= self._dict(value, path)
                path.pop()
            elif kind is list:
                path.append(key)
                changed |= self._list(value, path)
                path.pop()
            elif kind is int or kind is float:
                number = self._number(value, path, key)
                if number is not None:
                    node[key] = number
                    changed = True
        if self._keys_need_masking(node):
            self._mask_keys(node, path)
            changed = True
        return changed

    def _list(self, node: list[Any], path: Path) -> bool:
        changed = False
        any_key = self._any_key
        for index, value in enumerate(node):
            if any_key and (rule := self._rule_for(path, index)) is not None:
                node[index] = self._field(rule, value, path, index)
                changed = True
                continue
            kind = type(value)
            if kind is dict or kind is list:
                path.append(index)
                changed |= self._dict(value, path) if kind is dict else self._list(value, path)
                path.pop()
            else:
                new = self._leaf(value, path, index)
                if new is not None:
                    node[index] = new
                    changed = True
        return changed

    def _leaf(self, value: Any, path: Path, key: str | int | None) -> str | None:
        kind = type(value)
        if kind is str:
            return self.run.text(value, partial(where_of, path, key, self.prefix), entities=True)
        if kind is int or kind is float:
            return self._number(value, path, key)
        return None

    def _number(self, value: float, path: Path, key: str | int | None) -> str | None:
        """A JSON number holding personal data, as a masked string (JavaScript would show an
        integral float such as 13800138000.0 as 13800138000, so those count too)."""
        if type(value) is float:
            if not (value.is_integer() and 1e9 <= abs(value) < 1e20):
                return None
            digits = str(int(abs(value)))
        else:
            if -_BIG < value < _BIG:
                return None
            digits = str(abs(value))
        return self.run.text(digits, partial(where_of, path, key, self.prefix))

    def _field(self, rule: JsonPathRule, value: Any, path: Path, key: str | int) -> Any:
        """Every string and number at or under a field rule's path, masked by that rule."""
        kind = type(value)
        if kind is dict or kind is list:
            path.append(key)
            items = value.items() if kind is dict else enumerate(value)
            for inner_key, inner in list(items):
                value[inner_key] = self._field(rule, inner, path, inner_key)
            path.pop()
            return value
        if kind is str or kind is int or kind is float:
            text = value if kind is str else str(value)
            return self.run.field(rule.rule, text, where_of(path, key, self.prefix))
        return value

    def _keys_need_masking(self, node: dict[str, Any]) -> bool:
        clean = self._clean_keys
        dirty = False
        for key in node:
            if key in clean:
                continue
            if len(key) > 5 and self.run.scanner.scan(key):
                dirty = True
            elif len(clean) < _KEY_CACHE:
                clean.add(key)
        return dirty

    def _mask_keys(self, node: dict[str, Any], path: Path) -> None:
        """Keys holding personal data (objects keyed by phone number) are masked too; a masked
        key that collides with another gets a `~2` suffix rather than losing its value."""
        items = list(node.items())
        node.clear()
        for key, value in items:
            new_key = self.run.text(key, partial(_key_where, path, key, self.prefix))
            if new_key is None:
                new_key = key
            candidate, suffix = new_key, 2
            while candidate in node:
                candidate = f"{new_key}~{suffix}"
                suffix += 1
            node[candidate] = value


def mask_json_lines(run: MaskRun, text: str) -> str | None:
    """JSON Lines: each line one document; blank lines kept."""
    lines = text.split("\n")
    changed = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            new = JsonMasker(run, prefix=f"line {number}: $").mask_text(line)
        except UnmaskableBodyError as err:
            raise UnmaskableBodyError(f"line {number}: {err}") from err
        if new is not None:
            lines[number - 1] = new + ("\r" if line.endswith("\r") else "")
            changed = True
    return "\n".join(lines) if changed else None
