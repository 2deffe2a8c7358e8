"""The shared ledger in PostgreSQL (issue 11 item 3): how a ledger is chosen (--ledger, environment,
workspace.json), schema migrations on both backends, one-line errors that never show a password,
and the final-deliverable gate reading revocations from a PostgreSQL ledger."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import DISCLOSURES, ERROR_PREFIX, MEDIA, CliResult
from ledger_db import ENV_LEDGER, LedgerDb

from genai_provenance.clearances.ledger import Ledger
from genai_provenance.clearances.ledger_store import LedgerLocation, redact
from genai_provenance.clearances.records import load_anchors
from genai_provenance.schemas import validator
from genai_provenance.workspace import MARKER, Workspace, init_workspace

Run = Callable[..., CliResult]
PRODUCTION = "PRJ-0042"
GRANT = ["approvals", "grant", "--production", PRODUCTION, "--asset", "EP101_*", "--covers", "ideation"]


def _workspace(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws", "Shared Ledger Studio").workspace


def _one_line(res: CliResult, *needles: str) -> None:
    assert res.code == 2 and len(res.error_lines) == 1 and res.stderr.startswith(ERROR_PREFIX), res.stderr
    for needle in needles:
        assert needle in res.stderr, (needle, res.stderr)


def test_redact_strips_the_password_only() -> None:
    assert redact("postgresql://legal:s3cret@db.studio:5433/ledger") == "postgresql://legal@db.studio:5433/ledger"
    assert redact("postgres://db/ledger?password=s3cret&sslmode=require") == "postgres://db/ledger?sslmode=require"
    assert LedgerLocation.parse("postgresql://db/l", Path("/ws")).guard == Path("/ws/ledger.postgresql.head.json")
    assert LedgerLocation.parse("shared.sqlite", Path("/ws")).target == "/ws/shared.sqlite"


def test_a_database_newer_than_the_code_is_refused(cli: Run, tmp_path: Path, ledger_backend: str | None) -> None:
    ws = _workspace(tmp_path)
    db = LedgerDb(ws, ledger_backend)
    assert cli(*GRANT, "--id", "APR-1", "--home", ws.home, *db.args).code == 0
    assert db.query("SELECT version FROM schema_version") == [(1,)]
    db.query("INSERT INTO schema_version VALUES (2, '2030-01-01')")
    res = cli("approvals", "list", "--home", ws.home, *db.args)
    _one_line(res, "schema version 2 is newer than this genai-provenance supports (1)", db.where)
    _one_line(cli("check", MEDIA / "plate.jpg", "--home", ws.home, *db.args), "schema version 2")


def test_a_ledger_from_before_schema_versions_is_migrated_in_place(cli: Run, tmp_path: Path) -> None:
    """The SQLite layout of earlier releases is version 1: adopted, records and chain kept."""
    ws = _workspace(tmp_path)
    db = LedgerDb(ws, None)
    assert cli(*GRANT, "--id", "APR-1", "--home", ws.home).code == 0
    [(ledger_id,)] = db.query("SELECT value FROM ledger_info WHERE key = 'ledger_id'")
    db.sql("DROP TABLE schema_version")  # as an earlier release left it
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        assert ledger.integrity.verified and ledger.ledger_id == ledger_id and ledger.get("APR-1") is not None
    assert db.query("SELECT version FROM schema_version") == [(1,)]


def test_connection_errors_name_the_host_never_the_password(cli: Run, tmp_path: Path, postgres: Any) -> None:
    ws = _workspace(tmp_path)
    port = postgres.port + 1 if postgres.port < 65535 else postgres.port - 1  # nothing listens there
    url = f"postgresql://legal:s3cret-pw@127.0.0.1:{port}/ledger"
    for args in (["approvals", "list"], ["check", MEDIA / "plate.jpg"], ["verify", MEDIA / "plate.jpg"]):
        res = cli(*args, "--home", ws.home, "--ledger", url)
        _one_line(res, "cannot connect to PostgreSQL at 127.0.0.1", f"postgresql://legal@127.0.0.1:{port}/ledger")
        assert "s3cret-pw" not in res.stderr + res.stdout
    missing = postgres.url("no_such_database", password="s3cret-pw")
    res = cli("approvals", "list", "--home", ws.home, "--ledger", missing)
    _one_line(res, "no_such_database")
    assert "s3cret-pw" not in res.stderr


def test_password_never_shown_in_reports(cli: Run, tmp_path: Path, postgres: Any) -> None:
    ws = _workspace(tmp_path)
    url = postgres.new_database().replace(f"{postgres.user}@", f"{postgres.user}:s3cret-pw@")  # trust auth: ignored
    assert cli(*GRANT, "--id", "APR-1", "--home", ws.home, "--ledger", url).code == 0
    LedgerDb(ws, url).sql("UPDATE records SET kind = 'consent'")
    listed = cli("approvals", "list", "--home", ws.home, "--ledger", url, "--format", "json")
    validator("clearances-report").validate(listed.json())
    assert listed.json()["ledger"]["path"] == redact(url) and "tampered" in listed.json()["ledger"]["problem"]
    refused = cli(*GRANT, "--id", "APR-2", "--home", ws.home, "--ledger", url)
    _one_line(refused, "tampered", redact(url))
    assert "s3cret-pw" not in listed.stdout + refused.stderr


def test_environment_and_workspace_config_choose_the_ledger(
    cli: Run, cli_process: Run, tmp_path: Path, postgres: Any
) -> None:
    ws = _workspace(tmp_path)
    url = postgres.new_database()
    assert cli_process(*GRANT, "--id", "APR-ENV", "--home", ws.home, env={ENV_LEDGER: url}).code == 0
    assert not ws.ledger_path.exists()  # nothing went to the workspace's SQLite file
    meta = json.loads((ws.home / MARKER).read_text())
    (ws.home / MARKER).write_text(json.dumps({**meta, "ledger": url}))
    res = cli("approvals", "list", "--home", ws.home, "--format", "json")
    assert [r["id"] for r in res.json()["records"]] == ["APR-ENV"] and res.json()["ledger"]["verified"]
    other = tmp_path / "elsewhere.sqlite"
    res = cli("approvals", "list", "--home", ws.home, "--ledger", other, "--format", "json")  # the flag wins
    assert res.json()["records"] == [] and not ws.ledger_path.exists()
    (ws.home / MARKER).write_text(json.dumps({**meta, "ledger": 42}))
    _one_line(cli("approvals", "list", "--home", ws.home), '"ledger" must be')


def test_the_gate_reads_revocations_from_a_postgresql_ledger(cli: Run, tmp_path: Path, postgres: Any) -> None:
    """sign embeds from, and check/package/explain check revocation against, the shared ledger."""
    ws = _workspace(tmp_path)
    home = ["--home", ws.home, "--ledger", postgres.new_database()]
    grant = ["approvals", "grant", "--production", PRODUCTION, "--asset", "EP101_SH0*", "--id", "APR-PG"]
    assert cli(*grant, "--covers", "background-element,final-deliverable", *home).code == 0
    doc = json.loads((DISCLOSURES / "bg_replace.json").read_text())
    doc["genai"][0]["approvals"], doc["genai"][0]["consents"] = ["APR-PG"], []
    disclosure = tmp_path / "disclosure.json"
    disclosure.write_text(json.dumps(doc))
    media = tmp_path / "delivery" / "shot.jpg"
    media.parent.mkdir()
    assert cli("sign", MEDIA / "plate.jpg", "-o", media, "--disclosure", disclosure, *home).code == 0
    assert cli("check", media, *home).code == 0
    assert cli("approvals", "revoke", "APR-PG", "--reason", "talent withdrew", *home).code == 0
    res = cli("check", media, *home, "--format", "json")
    [clearance] = res.json()["assets"][0]["verification"]["clearances"]
    assert res.code == 1 and clearance["status"] == "revoked" and clearance["revocation_checked"] is True
    assert clearance["revocation_source"].startswith("ledger:postgresql://")
    target = tmp_path / "out" / "pkg"
    target.parent.mkdir()
    assert cli("package", media.parent, "-o", target, *home).code == 1 and not target.exists()
    assert cli("explain", media, *home).code == 1
    listed = tmp_path / "revocations.json"  # exported from the shared ledger, used without it
    assert cli("revocations", "export", "-o", listed, *home).code == 0
    res = cli("check", media, "--home", ws.home, "--revocations", listed, "--format", "json")
    assert res.code == 1 and res.json()["assets"][0]["verification"]["clearances"][0]["status"] == "revoked"
    shutil.rmtree(media.parent)


def test_rights_as_the_readme_lists_them(cli: Run, tmp_path: Path, postgres: Any) -> None:
    """QC needs only SELECT; an approver needs INSERT/UPDATE too, never DELETE; both as real roles."""
    ws = _workspace(tmp_path)
    owner = postgres.new_database()
    assert cli(*GRANT, "--id", "APR-1", "--home", ws.home, "--ledger", owner).code == 0  # the owner migrates
    database = owner.rsplit("/", 1)[1]
    tables = "records, head, ledger_info, schema_version"
    LedgerDb(ws, owner).sql(
        f"CREATE ROLE qc_{database} LOGIN",
        f"GRANT SELECT ON {tables} TO qc_{database}",
        f"CREATE ROLE legal_{database} LOGIN",
        f"GRANT SELECT ON {tables} TO legal_{database}",
        f"GRANT INSERT, UPDATE ON records, head, ledger_info TO legal_{database}",
    )
    qc = owner.replace(f"//{postgres.user}@", f"//qc_{database}@")
    legal = owner.replace(f"//{postgres.user}@", f"//legal_{database}@")
    listed = cli("approvals", "list", "--home", ws.home, "--ledger", qc, "--format", "json")
    assert listed.code == 0 and listed.json()["ledger"]["verified"], listed.stderr
    _one_line(cli(*GRANT, "--id", "APR-2", "--home", ws.home, "--ledger", qc), "permission denied")
    assert cli(*GRANT, "--id", "APR-3", "--home", ws.home, "--ledger", legal).code == 0
    assert cli("approvals", "revoke", "APR-3", "--reason", "withdrawn", "--home", ws.home, "--ledger", legal).code == 0
    listed = cli("approvals", "list", "--home", ws.home, "--ledger", qc, "--format", "json")
    assert [r["id"] for r in listed.json()["records"]] == ["APR-1", "APR-3"] and listed.json()["ledger"]["verified"]


def test_without_the_driver_a_postgresql_url_names_the_extra(tmp_path: Path) -> None:
    """A real process in which psycopg cannot be imported (as on an install without the extra)."""
    import subprocess
    import sys

    ws = _workspace(tmp_path)
    script = "import sys; sys.modules['psycopg'] = None; from genai_provenance.cli import main; main()"
    url = "postgresql://legal:s3cret-pw@127.0.0.1:1/ledger"
    done = subprocess.run(
        [sys.executable, "-c", script, "approvals", "list", "--home", str(ws.home), "--ledger", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert "genai-provenance[postgres]" in done.stderr and "s3cret-pw" not in done.stderr
