"""`homeagent-proxy agents …` and `audit …`: what the officer types and reads, on both
databases; the default database lives in the data dir."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from homeagent.proxy.cli import main
from homeagent.proxy.store import Store
from homeagent.proxy.store.codes import ALPHABET
from homeagent.proxy.store.schema import audit_records

from .store_fixtures import T0, raw_public

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "policies" / "examples" / "acme.yaml"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_agents_add_prints_the_code_last_and_it_enrols(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _run(capsys, "agents", "add", "A1023", "--role", "inbound", "--db", db_url)
    assert status == 0
    code = out.splitlines()[-1]
    assert len(code) == 14 and set(code.replace("-", "")) <= set(ALPHABET)
    with Store.open(db_url) as store:
        assert store.enrol(code, raw_public(Ed25519PrivateKey.generate())).agent.id == "A1023"


def test_agents_add_json_for_scripts(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys,
        "agents",
        "add",
        "A1",
        "--role",
        "inbound",
        "--json",
        "--expires",
        "2",
        "--db",
        db_url,
    )
    answer = json.loads(out.splitlines()[-1])
    assert status == 0 and (answer["agent"], answer["role"]) == ("A1", "inbound")
    assert len(answer["code"]) == 14 and answer["expires_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--role", "inbond", "--policy", str(ACME)], "no role 'inbond' (did you mean 'inbound'?)"),
        (["--role", "inbound", "--expires", "0"], "--expires must be a positive"),
    ],
)
def test_agents_add_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = _run(capsys, "agents", "add", "A1", *argv, "--data-dir", str(tmp_path))
    assert status == 1 and message in err and out == ""


def test_adding_an_agent_twice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, "agents", "add", "A1", "--role", "inbound", "--data-dir", str(tmp_path))
    status, _, err = _run(
        capsys, "agents", "add", "A1", "--role", "inbound", "--data-dir", str(tmp_path)
    )
    assert status == 1 and "agent A1 already exists" in err


def test_the_default_database_is_in_the_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOMEAGENT_DB", raising=False)
    monkeypatch.setenv("HOMEAGENT_DATA_DIR", str(tmp_path / "data"))
    assert _run(capsys, "agents", "add", "A1", "--role", "inbound")[0] == 0
    assert (tmp_path / "data" / "homeagent.db").exists()


def test_agents_list_and_disable(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for agent, role in [("B2", "outbound"), ("A1", "inbound")]:
        _run(capsys, "agents", "add", agent, "--role", role, "--db", db_url)
    assert _run(capsys, "agents", "disable", "B2", "--db", db_url)[0] == 0
    status, out, _ = _run(capsys, "agents", "list", "--db", db_url)
    lines = out.splitlines()
    assert status == 0 and lines[0].split() == ["ID", "ROLE", "STATE", "STATUS", "SINCE", "DEVICE"]
    assert lines[1].split()[:4] == ["A1", "inbound", "enabled", "offline"]
    assert lines[2].split()[:4] == ["B2", "outbound", "disabled", "offline"]
    listed = json.loads(_run(capsys, "agents", "list", "--json", "--db", db_url)[1])
    assert [(a["id"], a["enabled"]) for a in listed] == [("A1", True), ("B2", False)]
    status, _, err = _run(capsys, "agents", "disable", "Z9", "--db", db_url)
    assert status == 1 and "no agent Z9" in err


def _audited(db_url: str, n: int = 4) -> None:
    with Store.open(db_url) as store:
        writer = store.audit_writer("gw-1", Ed25519PrivateKey.generate())
        for i in range(n):
            writer.append("flow", {"url": f"https://crm.test/c/{i}"}, now=T0.replace(hour=8 + i))


def test_audit_verify_passes_then_names_the_changed_record(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _audited(db_url)
    status, out, _ = _run(capsys, "audit", "verify", "--db", db_url)
    assert status == 0 and out.strip() == "gw-1: 4 records, intact"
    with Store.open(db_url) as store, store.engine.begin() as conn:
        row = (audit_records.c.instance == "gw-1") & (audit_records.c.seq == 2)
        data = conn.execute(select(audit_records.c.data).where(row)).scalar_one()
        conn.execute(update(audit_records).where(row).values(data=data.replace("c/1", "c/7")))
    status, out, _ = _run(capsys, "audit", "verify", "--db", db_url)
    assert status == 1
    assert "gw-1: record 2: content does not match its hash" in out
    report = json.loads(_run(capsys, "audit", "verify", "--json", "--db", db_url)[1])
    assert (report["instance"], report["first_bad_seq"], report["intact"]) == ("gw-1", 2, False)


def test_audit_export_jsonl_and_csv_by_time(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _audited(db_url)
    window = ["--from", "2026-12-03T09:00:00Z", "--to", "2026-12-03T11:00:00"]
    status, out, _ = _run(capsys, "audit", "export", *window, "--db", db_url)
    records = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and [r["seq"] for r in records] == [2, 3]
    assert records[0]["data"] == {"url": "https://crm.test/c/1"}
    target = tmp_path / "audit.csv"
    status, _, err = _run(
        capsys, "audit", "export", "--format", "csv", "-o", str(target), "--db", db_url
    )
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert status == 0 and "4 records written" in err
    assert [int(r["seq"]) for r in rows] == [1, 2, 3, 4]
    assert json.loads(rows[3]["data"]) == {"url": "https://crm.test/c/3"}


def test_audit_export_refuses_an_empty_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["audit", "export", "--from", "2026-12-03T10:00Z", "--to", "2026-12-03T09:00Z"]
    status, _, err = _run(capsys, *argv, "--data-dir", str(tmp_path))
    assert status == 1 and "--from must be before --to" in err
