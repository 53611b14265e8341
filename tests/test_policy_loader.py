"""Broken policy files are refused with FILE:LINE:COL and a useful message; good ones load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from homeagent.proxy.core.policy.errors import PolicyError
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.core.policy.masking import BUILTIN_DETECTORS

POLICIES = Path(__file__).resolve().parent.parent / "policies"

MINIMAL = """\
version: 1
notice: {zh: 请保密, en: Keep it confidential}
roles:
  inbound:
    allow:
      - {name: crm, url: "https://crm.acme.test/**", methods: [GET]}
"""


def _write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("extra", "where", "message"),
    [
        (
            "masking:\n  detectors:\n    cn_mobil: {style: partial}\n",
            "9:5",
            "unknown detector 'cn_mobil' (did you mean 'cn_mobile'?)",
        ),
        ("watermrk: {}\n", "7:1", "unknown key 'watermrk' (did you mean 'watermark'?)"),
        (
            "limits:\n  - {name: x, max_requests: 0, per: 1m}\n",
            "8:29",
            "greater than or equal to 1",
        ),
        ("limits:\n  - {name: x, max_requests: 5, per: soon}\n", "8:37", "expected a duration"),
        ("limits:\n  - {name: x, max_requests: 5}\n", "8:5", "missing required key 'per'"),
        (
            "posture:\n  checks:\n    noise: {level: requird}\n",
            "9:20",
            "'required', 'warn' or 'off'",
        ),
        (
            "posture:\n  roles:\n    inbond: {}\n",
            "9:5",
            "unknown role 'inbond' (did you mean 'inbound'?)",
        ),
        (
            "posture:\n  roles:\n    inbound: {nois: {}}\n",
            "9:15",
            "unknown check 'nois' (did you mean 'noise'?)",
        ),
        ("posture:\n  roles:\n    inbound: {noise: {max_dba: -1}}\n", "9:32", "max_dba"),
        (
            "forbidden_words:\n  - {name: w, roles: [chatt], words: [x]}\n",
            "8:23",
            "unknown role 'chatt'",
        ),
        ("forbidden_words:\n  - {name: w, words: []}\n", "8:5", "has no words"),
        (
            "forbidden_words:\n  - {name: w, files: [missing.txt]}\n",
            "8:23",
            "cannot read 'missing.txt': file not found",
        ),
        (
            "masking:\n  custom:\n    - {name: x, pattern: '(unclosed'}\n",
            "9:26",
            "does not compile",
        ),
        (
            "masking:\n  custom:\n    - {name: x, pattern: 'a*'}\n",
            "9:26",
            "matches the empty string",
        ),
        (
            "masking:\n  exempt:\n    - {name: e, detectors: [emial]}\n",
            "9:29",
            "did you mean 'email'",
        ),
    ],
)
def test_problems_point_at_the_line_and_column(
    tmp_path: Path, extra: str, where: str, message: str
) -> None:
    path = _write(tmp_path, MINIMAL + extra)
    problems = _problems(path)
    assert any(p.startswith(f"{path}:{where}: ") and message in p for p in problems), problems


@pytest.mark.parametrize(
    ("rules", "where", "message"),
    [
        ("      - {name: a, url: 'ftp://x/', methods: [GET]}\n", "7:24", "not of the form"),
        (
            "      - {name: a, url: 'https://x/**', methods: [FETCH]}\n",
            "7:50",
            "unknown HTTP method 'FETCH'",
        ),
        (
            "      - {name: a, url: 'https://x/**', metods: [GET]}\n",
            "7:40",
            "unknown key 'metods' (did you mean 'methods'?)",
        ),
        ("      - {name: 'bad name', url: 'https://x/**'}\n", "7:16", "letters, digits"),
        ("      - {name: crm, url: 'https://x/**'}\n", "7:16", "rule name 'crm' used twice"),
    ],
)
def test_rule_problems(tmp_path: Path, rules: str, where: str, message: str) -> None:
    path = _write(tmp_path, MINIMAL + rules)
    problems = _problems(path)
    assert any(p.startswith(f"{path}:{where}: ") and message in p for p in problems), problems


def test_duplicate_keys_are_errors_with_their_location(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "roles:\n  chat: {}\n")
    assert _problems(path) == [f"{path}:7:1: duplicate key 'roles'"]


def test_tabs_are_errors_with_their_location(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.replace("    allow:", "\tallow:"))
    assert _problems(path) == [f"{path}:5:1: tab in indentation; use spaces"]


def test_yaml_syntax_errors_have_a_location(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "limits: [\n")
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:8:")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "watermrk: {}\nlimts: []\n")
    assert len(_problems(path)) == 2


def test_missing_sections_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: 1\n")
    problems = _problems(path)
    assert any("missing required key 'notice'" in p for p in problems)
    assert any("missing required key 'roles'" in p for p in problems)


def test_errors_in_an_included_file_name_that_file(tmp_path: Path) -> None:
    _write(tmp_path, "limits:\n  - {name: x, max_requests: 0, per: 1m}\n", "base.yaml")
    path = _write(tmp_path, "include: [base.yaml]\n" + MINIMAL)
    assert any(p.startswith(f"{tmp_path / 'base.yaml'}:2:29: ") for p in _problems(path))


def test_include_loops_and_missing_includes_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "include: [a.yaml]\n", "b.yaml")
    a = _write(tmp_path, "include: [b.yaml]\n" + MINIMAL, "a.yaml")
    assert any("include loop" in p for p in _problems(a))
    c = _write(tmp_path, "include: [nowhere.yaml]\n" + MINIMAL, "c.yaml")
    assert _problems(c) == [f"{c}:1:11: cannot include 'nowhere.yaml': file not found"]


def test_includes_merge_mappings_and_join_lists(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "posture:\n  checks:\n    noise: {max_dba: 45}\n"
        "limits:\n  - {name: base, max_requests: 9, per: 1m}\n",
        "base.yaml",
    )
    path = _write(
        tmp_path,
        "include: [base.yaml]\n"
        + MINIMAL
        + "posture:\n  checks:\n    cpu: {min_logical_cores: 2}\n"
        "limits:\n  - {name: own, max_requests: 3, per: 1m}\n",
    )
    policy = load_policy(path).policy
    assert policy.posture.checks.noise.max_dba == 45
    assert policy.posture.checks.cpu.min_logical_cores == 2
    assert [limit.name for limit in policy.limits] == ["base", "own"]


def test_role_overrides_layer_over_the_checks(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "posture:\n  roles:\n    inbound: {noise: {max_dba: 40}}\n")
    policy = load_policy(path).policy
    assert policy.posture.for_role("inbound").noise.max_dba == 40
    assert policy.posture.for_role("inbound").noise.seconds == policy.posture.checks.noise.seconds
    assert policy.posture.for_role("other").noise.max_dba == 50


def test_bundled_default_policy_has_secure_defaults() -> None:
    policy = load_policy(POLICIES / "default.yaml").policy
    checks = policy.posture.checks
    assert checks.cpu.min_logical_cores >= 4
    assert checks.memory.min_total_gb >= 8
    assert checks.noise.max_dba <= 50
    assert checks.network.max_rtt_ms <= 150
    assert checks.network.max_jitter_ms <= 30
    assert checks.network.max_loss_percent <= 1
    assert checks.network.min_mos >= 3.6
    assert checks.removable_storage.level == "required"
    assert any(name.lower().startswith("teamviewer") for name in checks.processes.forbidden)
    assert all(policy.masking.setting(d).enabled for d in BUILTIN_DETECTORS)
    assert policy.watermark.visible.enabled and policy.watermark.invisible.enabled
    bandwidth = {
        role: policy.posture.for_role(role).network.min_download_mbps for role in policy.roles
    }
    assert bandwidth["chat"] < bandwidth["outbound"] < bandwidth["inbound"]


def test_acme_example_has_exactly_its_roles_and_words() -> None:
    loaded = load_policy(POLICIES / "examples" / "acme.yaml")
    assert set(loaded.policy.roles) == {"inbound", "chat", "supervisor"}
    words = loaded.words["chat-off-platform"]
    for phrase in ("加我微信", "私下转账", "内部价格", "guaranteed refund"):
        assert phrase in words
    assert any(p.name == "acme-words.txt" for p in loaded.files)
