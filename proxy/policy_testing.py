"""Runs policy test files: each case through the same engines the gateway uses, with a coverage
figure of the rules the cases exercised."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .core.access import AccessPolicy
from .core.forbidden.body_text import UndecodableBodyError
from .core.forbidden.scanner import PhraseScanner
from .core.limits import RateLimits
from .core.masking import BodyFormat, Masker, UnmaskableBodyError
from .core.policy.cases import DEFAULT_CASE_TIME, Case, CaseFile
from .core.policy.errors import PolicyError, Problem
from .core.policy.loader import LoadedPolicy, Locator, load_policy, read_model
from .core.urls import AmbiguousURLError

TEST_FILE_SUFFIX = "_test.yaml"
WORDS_PREFIX = "words."
MASKING_PREFIX = "masking."
TEST_PSEUDONYM_KEY = hashlib.sha256(b"homeagent policy tests").digest()
"""A fixed key, so that pseudonyms in test files are stable (never the deployment's key)."""


@dataclass
class CaseResult:
    file: str
    line: int
    column: int
    name: str
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class SuiteResult:
    """The outcome of one test file against its policy."""

    file: str
    policy: str
    results: list[CaseResult] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)
    """Every rule of the policy that can decide something."""
    exercised: set[str] = field(default_factory=set)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Test files named on the command line, or found below the folders named."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob(f"*{TEST_FILE_SUFFIX}") if ".venv" not in p.parts)
            )
        else:
            found.append(path)
    return found


class _Engines:
    """The gateway's engines for one policy, built once per test file."""

    def __init__(self, loaded: LoadedPolicy) -> None:
        self.loaded = loaded
        self.access = AccessPolicy(loaded.policy)
        self.words = PhraseScanner.from_policy(loaded)
        self.masker = Masker(loaded.policy, TEST_PSEUDONYM_KEY)

    def rules(self) -> set[str]:
        policy = self.loaded.policy
        words = {WORDS_PREFIX + w.name for w in policy.forbidden_words}
        masking = {MASKING_PREFIX + rule for rule in self.masker.active_rules(None, None)}
        return set(self.access.rule_ids()) | set(RateLimits(policy).rule_ids) | words | masking

    def check(self, case: Case) -> tuple[list[str], set[str]]:
        """Failures of one case, and the rules it exercised."""
        failures: list[str] = []
        exercised: set[str] = set()
        expect = case.expect
        if case.request is not None:
            method, url = case.request.split()
            verdict, rule, would_block = self._request(case, method, url)
            exercised.add(rule)
            exercised.update(would_block)
            if expect.decision is not None and verdict != expect.decision:
                failures.append(f"expected {expect.decision}, got {verdict} by rule {rule!r}")
            if expect.rule is not None and case.body is None and rule != expect.rule:
                failures.append(f"expected rule {expect.rule!r}, got {rule!r}")
            if expect.would_block is not None and sorted(would_block) != sorted(expect.would_block):
                failures.append(f"expected would_block {expect.would_block}, got {would_block}")
        if case.body is not None and case.request is not None:
            failures += self._body(case, exercised)
        if case.mask is not None:
            failures += self._mask(case, exercised)
        return failures, exercised

    def _mask(self, case: Case, exercised: set[str]) -> list[str]:
        assert case.mask is not None
        given, expect = case.mask, case.expect
        try:
            result = self.masker.mask_body(
                given.input.encode(),
                content_type=None,
                content_encoding=None,
                role=case.role,
                url=given.url,
                body_format=BodyFormat(given.format),
            )
        except UnmaskableBodyError as err:
            return [f"the gateway would block this body: {err}"]
        exercised.update(MASKING_PREFIX + rule for rule in result.counts)
        output = result.body.decode()
        failures = []
        if expect.output is not None and output != expect.output:
            failures.append(f"expected output {expect.output!r}, got {output!r}")
        failures += [
            f"expected {s!r} in the output {output!r}" for s in expect.contains if s not in output
        ]
        failures += [f"{s!r} is still visible in {output!r}" for s in expect.absent if s in output]
        return failures

    def _body(self, case: Case, exercised: set[str]) -> list[str]:
        assert case.body is not None and case.request is not None
        method, url = case.request.split()
        try:
            result = self.words.scan(
                case.body, role=case.role, method=method, url=url, content_type=case.content_type
            )
        except (UndecodableBodyError, AmbiguousURLError) as err:
            return [f"the body could not be scanned: {err}"]
        lists = sorted({m.rule for m in result.matches if m.mode == "enforce"})
        exercised.update(WORDS_PREFIX + m.rule for m in result.matches)
        failures = []
        expect = case.expect
        if expect.blocked is not None and result.blocked != expect.blocked:
            found = ", ".join(f"{m.phrase!r} ({m.rule})" for m in result.matches) or "no phrase"
            failures.append(f"expected blocked={expect.blocked}, found {found}")
        if expect.rule is not None and expect.rule not in lists:
            failures.append(f"expected word list {expect.rule!r} to match, matched {lists}")
        return failures

    def _request(self, case: Case, method: str, url: str) -> tuple[str, str, list[str]]:
        """The last of `repeat` requests: access first, then the rate limits (fresh per case)."""
        when = case.at or DEFAULT_CASE_TIME
        limits = RateLimits(self.loaded.policy)
        for count in range(case.repeat):
            decision = self.access.decide(case.role, method, url, when=when)
            if not decision.allowed:
                return decision.decision, decision.rule, list(decision.would_block)
            moment = when.timestamp() + count * case.every
            limit = limits.hit("policy-test-agent", case.role, method, url, moment)
            would_block = [*decision.would_block, *limit.would_block]
            if not limit.allowed and limit.rule is not None:
                return "deny", limit.rule, would_block
        return decision.decision, decision.rule, would_block


def run_file(path: Path) -> SuiteResult:
    """Run one test file; PolicyError when it or its policy does not load."""
    cases, locate = read_model(path, CaseFile)
    policy_path = path.parent / cases.policy
    try:
        loaded = load_policy(policy_path)
    except PolicyError as err:
        problems = [*err.problems, _at(locate, ("policy",), "the policy under test does not load")]
        raise PolicyError(problems) from None
    engines = _Engines(loaded)
    suite = SuiteResult(file=str(path), policy=str(policy_path), rules=engines.rules())
    for index, case in enumerate(cases.cases):
        file, line, col = locate(("cases", index))
        failures, exercised = engines.check(case)
        suite.exercised |= exercised & suite.rules
        suite.results.append(CaseResult(file, line, col, case.name, failures))
    return suite


def _at(locate: Locator, loc: tuple[str | int, ...], message: str) -> Problem:
    file, line, col = locate(loc)
    return Problem(file, line, col, message)


def format_suite(suite: SuiteResult) -> Iterator[str]:
    for result in suite.results:
        if not result.passed:
            for failure in result.failures:
                yield f"{result.file}:{result.line}:{result.column}: FAIL {result.name}: {failure}"
    passed = sum(r.passed for r in suite.results)
    share = 100 * len(suite.exercised) / len(suite.rules) if suite.rules else 100.0
    yield (
        f"{suite.file}: {passed}/{len(suite.results)} cases passed; "
        f"coverage {len(suite.exercised)}/{len(suite.rules)} rules ({share:.0f}%)"
    )
    missing = sorted(suite.rules - suite.exercised)
    if missing:
        yield f"  not exercised: {', '.join(missing)}"
