"""Attacks on revocation (issue 8, holes 4 and 5), each reproduced on a real SQLite ledger and a real
PostgreSQL ledger (issue 11: the same attacks through psycopg), then blocked.

A revoked approval must never pass because someone edited, truncated, rolled back or deleted the
ledger: the ledger is a signed hash chain, and a clearance whose revocation cannot be checked does
not clear a final deliverable (GP-REVOCATION-001).
"""

from __future__ import annotations

import gc
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI_COMMAND, DISCLOSURES, ERROR_PREFIX, MEDIA, CliResult, IdentityFiles
from ledger_db import LedgerDb

from genai_provenance.clearances.ledger import Ledger
from genai_provenance.clearances.ledger_chain import sign_head
from genai_provenance.clearances.records import load_anchors
from genai_provenance.schemas import validator
from genai_provenance.workspace import Workspace, init_workspace

Run = Callable[..., CliResult]
PRODUCTION, SHOT, APPROVAL = "PRJ-0042", "EP101_SH010", "APR-REV-1"
REVOCATION_RULE, REVOCATION_WARN = "GP-REVOCATION-001", "GP-REVOCATION-002"


@dataclass
class Setup:
    ws: Workspace
    media: Path  # signed, with the (now revoked) approval embedded
    before_revocation: Path | str  # a copy of the ledger taken while the approval was still active
    folder: Path
    db: LedgerDb
    server: Any = None  # tests/pg.py PgServer, for the PostgreSQL ledger

    @property
    def home(self) -> list[Any]:
        return ["--home", self.ws.home, *self.db.args]


def _copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a WAL database (what a backup tool or an attacker would keep)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


def _disclosure(folder: Path, approvals: list[str]) -> Path:
    doc = json.loads((DISCLOSURES / "bg_replace.json").read_text())
    doc["genai"][0]["approvals"], doc["genai"][0]["consents"] = approvals, []
    path = folder / "disclosure.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def setup(cli: Run, tmp_path: Path, ledger_backend: str | None, request: pytest.FixtureRequest) -> Setup:
    ws = init_workspace(tmp_path / "ws", "Tamper Studio").workspace
    db = LedgerDb(ws, ledger_backend)
    home = ["--home", ws.home, *db.args]
    grant = ["approvals", "grant", "--production", PRODUCTION, "--asset", "EP101_SH0*"]
    assert cli(*grant, "--id", APPROVAL, "--covers", "background-element,final-deliverable", *home).code == 0
    assert cli(*grant, "--id", "APR-OTHER", "--covers", "ideation", *home).code == 0
    media = tmp_path / "delivery" / "shot.jpg"
    media.parent.mkdir()
    res = cli("sign", MEDIA / "plate.jpg", "-o", media, "--disclosure", _disclosure(tmp_path, [APPROVAL]), *home)
    assert res.code == 0 and APPROVAL in res.stdout, res.stderr
    assert cli("check", media, *home).code == 0  # approved and not (yet) revoked: passes
    server = request.getfixturevalue("postgres") if ledger_backend else None
    before: Path | str = tmp_path / "ledger-before-revocation.sqlite"
    if server is not None:
        before = server.copy_database(ledger_backend)
    else:
        _copy_db(ws.ledger_path, before)
    assert cli("approvals", "revoke", APPROVAL, "--reason", "talent withdrew", *home).code == 0
    return Setup(ws, media, before, tmp_path, db, server)


def _check(setup: Setup, cli: Run, *extra: Any) -> tuple[int, dict[str, Any]]:
    res = cli("check", setup.media, *setup.home, "--format", "json", *extra)
    assert res.code in (0, 1), res.stderr
    doc = res.json()
    validator("check-report").validate(doc)
    return res.code, doc["assets"][0]


def _rules(verdict: dict[str, Any]) -> dict[str, str]:
    return {f["rule_id"]: f["severity"] for f in verdict["findings"]}


def _sql(setup: Setup, *statements: str) -> None:
    setup.db.sql(*statements)


def assert_fails_closed(setup: Setup, cli: Run, *why: str) -> dict[str, Any]:
    """The revoked approval must not clear the final deliverable; the reason names the problem."""
    code, verdict = _check(setup, cli)
    assert code == 1 and verdict["blocked"], verdict["findings"]
    assert _rules(verdict).get(REVOCATION_RULE) == "block", _rules(verdict)
    [clearance] = verdict["verification"]["clearances"]
    assert clearance["revocation_checked"] is False and clearance["revocation_source"] is None
    assert "revocation not checked" in clearance["detail"], clearance
    for needle in why:
        assert needle in clearance["detail"], (needle, clearance["detail"])
    [finding] = [f for f in verdict["findings"] if f["rule_id"] == REVOCATION_RULE]
    assert "--revocations" in finding["remedy"]
    return verdict


def test_untouched_ledger_reports_the_revocation_and_its_signed_source(setup: Setup, cli: Run) -> None:
    code, verdict = _check(setup, cli)
    assert code == 1
    [clearance] = verdict["verification"]["clearances"]
    assert clearance["status"] == "revoked" and clearance["revocation_checked"] is True
    assert clearance["revocation_source"].startswith(f"ledger:{setup.db.where} head #")
    assert "signed by Tamper Studio Legal Approver" in clearance["revocation_source"]
    assert REVOCATION_RULE not in _rules(verdict)


def test_update_of_the_revokes_column_is_detected(setup: Setup, cli: Run) -> None:
    _sql(setup, "UPDATE records SET revokes = 'X' WHERE revokes IS NOT NULL")
    assert_fails_closed(setup, cli, "tampered", setup.db.where)


def test_delete_of_the_revocation_row_is_detected(setup: Setup, cli: Run) -> None:
    _sql(setup, "DELETE FROM records WHERE kind = 'revocation'")
    assert_fails_closed(setup, cli, "tampered")


def test_edited_envelope_is_detected(setup: Setup, cli: Run) -> None:
    [(text,)] = setup.db.query("SELECT envelope FROM records WHERE id = 'APR-OTHER'")
    envelope = json.loads(text)
    envelope["record"]["covers"] = ["background-element", "final-deliverable"]
    setup.db.query("UPDATE records SET envelope = ? WHERE id = 'APR-OTHER'", (json.dumps(envelope),))
    assert_fails_closed(setup, cli, "tampered")


def test_deleting_the_last_row_is_detected(setup: Setup, cli: Run) -> None:
    [(last,)] = setup.db.query("SELECT id FROM records ORDER BY seq DESC LIMIT 1")
    setup.db.query("DELETE FROM records WHERE id = ?", (last,))
    assert_fails_closed(setup, cli, "tampered")


def test_replacing_the_ledger_by_an_older_copy_is_detected(setup: Setup, cli: Run) -> None:
    if setup.server is not None:  # the database restored from a backup taken before the revocation
        setup.server.replace_database(setup.db.url, str(setup.before_revocation))
        assert_fails_closed(setup, cli, "rolled back", "ledger.postgresql.head.json")
        return
    setup.ws.ledger_path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{setup.ws.ledger_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(setup.before_revocation, setup.ws.ledger_path)
    assert_fails_closed(setup, cli, "rolled back")


def _swap_sqlite_ledger(ws: Workspace, replacement: Path) -> None:
    ws.ledger_path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{ws.ledger_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(replacement, ws.ledger_path)


@pytest.mark.parametrize("ledger_backend", ["sqlite"], indirect=True)
def test_a_rollback_that_also_deletes_the_guard_is_caught_on_receipt(setup: Setup, cli: Run) -> None:
    """The limit of a guard kept on the vendor's own disk, and the defence beyond it.

    Whoever controls a workspace can restore an old ledger *and* delete the guard file: the
    workspace then has no memory of a newer head, and its own gate judges by the old ledger. The
    signed package report names the ledger head it was judged by, and the studio's verify-package
    checks every asset again against its own, current ledger: the revoked approval blocks there.
    """
    current = setup.folder / "studio-ledger.sqlite"
    _copy_db(setup.ws.ledger_path, current)
    assert isinstance(setup.before_revocation, Path)
    _swap_sqlite_ledger(setup.ws, setup.before_revocation)
    Path(f"{setup.ws.ledger_path}.head.json").unlink()
    code, verdict = _check(setup, cli)
    assert code == 0, verdict["findings"]  # the vendor's own gate is fooled: this is the documented limit
    [clearance] = verdict["verification"]["clearances"]
    assert clearance["status"] == "valid" and "head #2" in str(clearance["revocation_source"]), clearance
    target = setup.folder / "out" / "pkg"
    res = cli("package", setup.media.parent, "-o", target, *setup.home, "--format", "json")
    assert res.code == 0 and res.json()["written"] is True, res.stdout
    signed = json.loads((target / "genai-provenance" / "package-report.json").read_text())
    [packaged] = signed["assets"][0]["clearances"]
    assert packaged["revocation_source"] and "head #2" in packaged["revocation_source"], packaged
    # At the studio: the same package, checked against the current ledger (head #3, the revocation).
    _swap_sqlite_ledger(setup.ws, current)
    res = cli("verify-package", target, *setup.home, "--format", "json")
    assert res.code == 1, res.stdout
    doc = res.json()
    validator("package-verification").validate(doc)
    [asset] = doc["assets"]
    assert asset["blocked"] and asset["verification"]["clearances"][0]["status"] == "revoked", asset
    assert "talent withdrew" in asset["verification"]["clearances"][0]["detail"]


# A PostgreSQL ledger that is gone is a connection error, tested in test_ledger_postgres.py.
@pytest.mark.parametrize("ledger_backend", ["sqlite"], indirect=True)
def test_deleted_ledger_fails_closed_in_check_and_package(setup: Setup, cli: Run) -> None:
    setup.ws.ledger_path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{setup.ws.ledger_path}{suffix}").unlink(missing_ok=True)
    assert_fails_closed(setup, cli, "no ledger available")
    text = cli("check", setup.media, *setup.home).stdout
    assert "revocation NOT checked for 1 valid clearance:" in text and "GP-REVOCATION-001" in text
    # verify still reports the clearance, saying what could not be checked.
    doc = cli("verify", setup.media, *setup.home, "--format", "json").json()
    [clearance] = doc["assets"][0]["clearances"]
    assert clearance["status"] == "valid" and "revocation not checked: no ledger available" in clearance["detail"]
    # temporary material: a warning, not a block.
    _code, verdict = _check(setup, cli, "--intended-use", "temporary")
    assert _rules(verdict).get(REVOCATION_WARN) == "warn" and REVOCATION_RULE not in _rules(verdict)
    # the gate writes nothing.
    target = setup.folder / "out" / "pkg"
    target.parent.mkdir()
    res = cli("package", setup.media.parent, "-o", target, "--home", setup.ws.home, "--format", "json")
    assert res.code == 1, res.stdout
    doc = res.json()
    validator("package-report").validate(doc)
    assert doc["written"] is False and REVOCATION_RULE in {f["rule_id"] for f in doc["assets"][0]["findings"]}
    assert list(target.parent.iterdir()) == []


def test_emptied_ledger_fails_closed(setup: Setup, cli: Run) -> None:
    _sql(setup, "DELETE FROM records")
    assert_fails_closed(setup, cli)


def test_tampered_ledger_is_named_by_approvals_list_and_refuses_writes(setup: Setup, cli: Run) -> None:
    _sql(setup, "DELETE FROM records WHERE kind = 'revocation'")
    res = cli("approvals", "list", *setup.home)
    assert res.code == 1 and "tampered" in res.stdout and setup.db.where in res.stdout
    doc = cli("approvals", "list", *setup.home, "--format", "json").json()
    validator("clearances-report").validate(doc)
    assert doc["ledger"]["verified"] is False and "tampered" in doc["ledger"]["problem"]
    grant = ["approvals", "grant", "--production", PRODUCTION, "--asset", "X", "--covers", "ideation"]
    res = cli(*grant, "--id", "APR-NEW", *setup.home)
    assert res.code == 2 and res.stderr.startswith(ERROR_PREFIX) and len(res.error_lines) == 1, res.stderr
    assert "tampered" in res.stderr and setup.db.where in res.stderr


# --------------------------------------------------------------------------- the chain and its head, directly


def _ledger(setup: Setup) -> Ledger:
    return Ledger(setup.db.location, load_anchors(setup.ws.approver_anchors()))


def test_intact_ledger_verifies_and_lists_its_signed_head(setup: Setup, cli: Run) -> None:
    with _ledger(setup) as ledger:
        assert ledger.integrity.verified and ledger.revocation_problem() is None
        head = ledger.integrity.head
        assert head is not None and (head.sequence, head.entries) == (3, 3)  # two grants and a revocation
        assert head.signer == setup.ws.approver_identity().subject
    doc = cli("approvals", "list", *setup.home, "--format", "json").json()
    validator("clearances-report").validate(doc)
    assert doc["ledger"]["verified"] is True and doc["ledger"]["head"]["entries"] == 3
    assert cli("approvals", "list", *setup.home).code == 0


def test_missing_head_is_detected(setup: Setup) -> None:
    _sql(setup, "DELETE FROM head")
    with _ledger(setup) as ledger:
        assert ledger.integrity.problem and "no signed head" in ledger.integrity.problem


def test_head_signed_by_an_outsider_is_detected(setup: Setup, outsider: IdentityFiles) -> None:
    with _ledger(setup) as ledger:
        head = ledger.integrity.head
        assert head is not None
        forged = sign_head(head.ledger_id, head.sequence + 1, head.entries, head.head_hash, outsider.identity)
    _sql(setup, f"UPDATE head SET document = '{forged}'")
    with _ledger(setup) as ledger:
        assert ledger.integrity.problem and "approver roots" in ledger.integrity.problem


def test_head_with_an_edited_count_is_detected(setup: Setup) -> None:
    [(text,)] = setup.db.query("SELECT document FROM head")
    document = json.loads(text)
    document["head"]["entries"] = 2
    setup.db.query("UPDATE head SET document = ?", (json.dumps(document),))
    with _ledger(setup) as ledger:
        assert ledger.integrity.problem and "does not verify" in ledger.integrity.problem


def test_reordered_rows_are_detected(setup: Setup) -> None:
    _sql(
        setup,
        "UPDATE records SET seq = 100 WHERE seq = 1",
        "UPDATE records SET seq = 1 WHERE seq = 2",
        "UPDATE records SET seq = 2 WHERE seq = 100",
    )
    with _ledger(setup) as ledger:
        assert ledger.integrity.problem and "does not follow" in ledger.integrity.problem


def test_a_deleted_ledger_is_not_silently_recreated(setup: Setup, cli: Run) -> None:
    if setup.server is not None:  # dropped and created again, empty: the next open makes a new ledger
        setup.server.replace_database(setup.db.url, None)
    else:
        setup.ws.ledger_path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{setup.ws.ledger_path}{suffix}").unlink(missing_ok=True)
    guard = "ledger.postgresql.head.json" if setup.server is not None else "ledger.sqlite.head.json"
    grant = ["approvals", "grant", "--production", PRODUCTION, "--asset", "X", "--covers", "ideation"]
    res = cli(*grant, "--id", "APR-NEW", *setup.home)
    assert res.code == 2 and len(res.error_lines) == 1, res.stderr
    assert "replaced by a different ledger" in res.stderr and guard in res.stderr


def test_ledger_of_the_old_format_is_refused(cli: Run, tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", "Old Studio").workspace
    db = sqlite3.connect(ws.ledger_path)
    with db:
        db.execute(
            "CREATE TABLE records (id TEXT PRIMARY KEY, kind TEXT NOT NULL, production TEXT, revokes TEXT, "
            "issued_at TEXT NOT NULL, expires_at TEXT, digest TEXT NOT NULL, envelope TEXT NOT NULL, added_at TEXT)"
        )
    db.close()
    res = cli("approvals", "list", "--home", ws.home)
    assert res.code == 2 and len(res.error_lines) == 1 and "older version" in res.stderr, res.stderr
    code = cli("check", MEDIA / "plate.jpg", "--home", ws.home).code
    assert code == 2


def test_readers_never_mistake_concurrent_writers_for_tampering(setup: Setup) -> None:
    """Real writer processes append while this process keeps opening and verifying the ledger."""
    base = ["approvals", "grant", "--production", PRODUCTION, "--asset", "X", "--covers", "ideation"]
    procs = [
        subprocess.Popen(
            [*CLI_COMMAND, *base, "--id", f"APR-RACE-{i}", "--home", str(setup.ws.home), *setup.db.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    opened = 0
    while any(p.poll() is None for p in procs) or opened == 0:
        with _ledger(setup) as ledger:
            assert ledger.integrity.problem is None, ledger.integrity.problem
        opened += 1
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with _ledger(setup) as ledger:
        assert ledger.integrity.verified and ledger.count() == 3 + 6


@pytest.mark.parametrize("ledger_backend", ["sqlite"], indirect=True)  # an attack on the SQLite file itself
def test_truncated_ledger_file_is_detected(setup: Setup, cli_process: Run) -> None:
    """Real processes: an in-process run would keep its own (stale) connection to the old file."""
    gc.collect()  # close this process's finished connections to the file before it is cut
    cli = cli_process
    for suffix in ("-wal", "-shm"):
        Path(f"{setup.ws.ledger_path}{suffix}").unlink(missing_ok=True)
    setup.ws.ledger_path.write_bytes(b"")  # an empty file is an empty SQLite database
    assert_fails_closed(setup, cli, "replaced by a different ledger")
    half = setup.before_revocation.read_bytes()
    setup.ws.ledger_path.write_bytes(half[: len(half) // 2])
    res = cli("check", setup.media, *setup.home)
    assert res.code == 2 and len(res.error_lines) == 1 and str(setup.ws.ledger_path) in res.stderr, res.stderr
