"""The forbidden-word matcher: every phrase of every list in one Aho-Corasick automaton over
folded text, scoped per request by role, method and URL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick_rs

from ..policy.base import Mode
from ..policy.loader import LoadedPolicy
from ..policy.words import WordList
from ..urls import RequestURL, URLPattern, parse_pattern, parse_request_url
from .body_text import BodyText, body_text
from .fold import OTHER, FoldedText, char_class, fold

SCOPE_CACHE_SIZE = 4096
"""How many (role, method, URL) scope decisions a scanner remembers."""
DFA_MAX_PHRASES = 5000


@dataclass(frozen=True, slots=True)
class Match:
    """One phrase found in a request body."""

    rule: str
    """The word list's name: it reaches the audit log and the agent's screen."""
    phrase: str
    """The phrase as the policy writes it."""
    start: int
    end: int
    """Offsets into the scanned text (`ScanResult.text`); for a plain-text body, the body."""
    matched_text: str
    """text[start:end]: what the agent actually wrote."""
    field: str
    """Where in the body: `body`, a JSON path such as `$.message`, `form:reply`…"""
    mode: Mode


class ScanResult(NamedTuple):
    blocked: bool
    """True when a list in `enforce` mode matched; `report` lists only record."""
    matches: list[Match]
    text: str
    """The texts read from the body, one per line (see body_text); empty when no list applies
    to the request, as the body is then not read at all."""


@dataclass(frozen=True, slots=True)
class _Entry:
    """What a folded key in the automaton stands for."""

    list_index: int
    phrase: str
    needs_start_boundary: bool
    needs_end_boundary: bool


@dataclass(frozen=True, slots=True)
class _Scope:
    rule: WordList
    pattern: URLPattern
    methods: frozenset[str]
    roles: frozenset[str]

    def applies(self, role: str, method: str, url: RequestURL) -> bool:
        return (
            (not self.roles or role in self.roles)
            and ("*" in self.methods or method in self.methods)
            and self.pattern.matches(url)
        )


def _needs_boundary(folded_char: str) -> bool:
    """Phrases edged by a letter or digit of a spaced script match only at word boundaries,
    so `refund` does not fire inside `refunds` once spaces are folded away."""
    return char_class(folded_char) != OTHER


class PhraseScanner:
    """Finds the policy's forbidden phrases in request bodies. Build once per policy."""

    def __init__(self, lists: Sequence[tuple[WordList, Sequence[str]]]) -> None:
        self._scopes = [
            _Scope(
                rule=rule,
                pattern=parse_pattern(rule.url),
                methods=frozenset(m.upper() for m in rule.methods),
                roles=frozenset(rule.roles),
            )
            for rule, _ in lists
        ]
        entries: dict[str, list[_Entry]] = {}
        for index, (rule, phrases) in enumerate(lists):
            for phrase in phrases:
                key = fold(phrase)
                if not key:
                    raise ValueError(
                        f"forbidden_words {rule.name!r}: phrase {phrase!r} has no letters or "
                        "digits to match"
                    )
                entries.setdefault(key, []).append(
                    _Entry(index, phrase, _needs_boundary(key[0]), _needs_boundary(key[-1]))
                )
        self._scope_cache: dict[tuple[str, str, str | RequestURL], frozenset[int]] = {}
        self._keys = list(entries)
        self._entries = [tuple(entries[key]) for key in self._keys]
        # a full DFA is fastest but its size grows with the lists; past a few thousand phrases
        # the library picks a compact automaton itself
        implementation = (
            ahocorasick_rs.Implementation.DFA if len(self._keys) <= DFA_MAX_PHRASES else None
        )
        self._automaton = (
            ahocorasick_rs.AhoCorasick(self._keys, implementation=implementation)
            if self._keys
            else None
        )

    @classmethod
    def from_policy(cls, loaded: LoadedPolicy) -> PhraseScanner:
        return cls([(rule, loaded.words[rule.name]) for rule in loaded.policy.forbidden_words])

    def applicable(self, *, role: str, method: str, url: str | RequestURL) -> list[str]:
        """Names of the word lists that apply to this request. AmbiguousURLError propagates."""
        return [self._scopes[i].rule.name for i in sorted(self._active(role, method, url))]

    def _active(self, role: str, method: str, url: str | RequestURL) -> frozenset[int]:
        # agents post to the same few URLs over and over: remember the last few thousand
        key = (role, method, url)
        active = self._scope_cache.get(key)
        if active is None:
            request_url = parse_request_url(url) if isinstance(url, str) else url
            upper = method.upper()
            active = frozenset(
                i for i, scope in enumerate(self._scopes) if scope.applies(role, upper, request_url)
            )
            if len(self._scope_cache) >= SCOPE_CACHE_SIZE:
                self._scope_cache.pop(next(iter(self._scope_cache)))
            self._scope_cache[key] = active
        return active

    def scan(
        self,
        body: bytes | str,
        *,
        role: str,
        method: str,
        url: str | RequestURL,
        content_type: str | None = None,
    ) -> ScanResult:
        """Forbidden phrases in a request body (Content-Encoding already undone).

        Raises AmbiguousURLError for a URL that can be read two ways and UndecodableBodyError for
        a body that is not text in its declared type and charset; the gateway blocks on both.
        """
        active = self._active(role, method, url)
        if not active or self._automaton is None:
            return ScanResult(blocked=False, matches=[], text="")
        readable = body_text(body, content_type)
        matches = self.find(readable, active)
        blocked = bool(matches) and any(m.mode is Mode.ENFORCE for m in matches)
        return ScanResult(blocked, matches, readable.text)

    def find(self, readable: BodyText, active: frozenset[int]) -> list[Match]:
        """Matches of the active lists' phrases in a body's text, in text order."""
        text = FoldedText.of(readable.text)
        matches: list[Match] = []
        if self._automaton is None:
            return matches
        for key, start, stop in self._automaton.find_matches_as_indexes(
            text.folded, overlapping=True
        ):
            for entry in self._entries[key]:
                if entry.list_index not in active:
                    continue
                if entry.needs_start_boundary and not text.is_boundary(start):
                    continue
                if entry.needs_end_boundary and not text.is_boundary(stop):
                    continue
                begin, end = text.original_span(start, stop)
                rule = self._scopes[entry.list_index].rule
                matches.append(
                    Match(
                        rule=rule.name,
                        phrase=entry.phrase,
                        start=begin,
                        end=end,
                        matched_text=readable.text[begin:end],
                        field=readable.field_at(begin),
                        mode=rule.mode,
                    )
                )
        if len(matches) > 1:
            matches.sort(key=lambda m: (m.start, m.end, m.rule))
        return matches


__all__ = ["Match", "PhraseScanner", "ScanResult"]
