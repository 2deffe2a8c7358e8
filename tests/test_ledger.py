"""The clearance ledger: real SQLite in the workspace and real PostgreSQL (`studio` and
`ledger_backend` run on both), signed grants and revocations, export and import, concurrent writers
in real processes, and the records `sign` embeds."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI_COMMAND, ERROR_PREFIX, LEDGER_BACKENDS, MEDIA, PRIVATE_KEY_MARK, CliResult, IdentityFiles
from cryptography import x509
from ledger_db import LedgerDb

from genai_provenance.clearances.ledger import (
    BUNDLE_FORMAT,
    Grant,
    Ledger,
    LedgerError,
    export_bundle,
    grant,
    import_document,
    records_to_embed,
    revoke,
)
from genai_provenance.clearances.records import VALID, authenticate, load_anchors, sign_record
from genai_provenance.credentials.identity import load_identity
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.schemas import validator
from genai_provenance.settings import workspace_ledger
from genai_provenance.workspace import (
    APPROVER_ANCHORS,
    APPROVER_CHAIN,
    APPROVER_KEY,
    APPROVER_ROOT_CERT,
    APPROVER_ROOT_KEY,
    ROOT_CERT,
    TRUST_ANCHORS,
    Workspace,
    init_workspace,
)

Run = Callable[..., CliResult]
PRODUCTION = "PRJ-0042"


def new_workspace(folder: Path, org: str = "Ledger Test Studio") -> Workspace:
    return init_workspace(folder / "ws", org).workspace


def one_line_error(res: CliResult, *needles: str) -> None:
    assert res.code == 2, (res.code, res.stdout, res.stderr)
    assert len(res.error_lines) == 1 and res.stderr.startswith(ERROR_PREFIX), res.stderr
    for needle in needles:
        assert needle in res.stderr, (needle, res.stderr)


def approval_args(record_id: str, *extra: str) -> list[str]:
    return [
        "approvals",
        "grant",
        "--id",
        record_id,
        "--production",
        PRODUCTION,
        "--asset",
        "EP101_SH0*",
        "--covers",
        "background-element,final-deliverable",
        *extra,
    ]


@pytest.fixture(scope="module", params=LEDGER_BACKENDS)
def studio(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Workspace:
    """The studio workspace; its ledger is SQLite, or PostgreSQL named in its workspace.json."""
    ws = new_workspace(tmp_path_factory.mktemp("ledger"))
    url = request.getfixturevalue("postgres").new_database() if request.param == "postgresql" else None
    LedgerDb(ws, url).configure()
    return ws


def test_init_creates_a_separate_approver_identity_and_root(studio: Workspace) -> None:
    approver = load_identity(studio.path(APPROVER_CHAIN), studio.path(APPROVER_KEY))
    approver_root = x509.load_pem_x509_certificate(studio.path(APPROVER_ROOT_CERT).read_bytes())
    media_root = x509.load_pem_x509_certificate(studio.path(ROOT_CERT).read_bytes())
    assert approver.certificate.issuer == approver_root.subject
    assert load_anchors(studio.approver_anchors()) == [approver_root]
    assert media_root not in load_anchors(studio.approver_anchors())
    assert approver_root not in load_anchors(studio.path(TRUST_ANCHORS).read_text())
    for key in (APPROVER_KEY, APPROVER_ROOT_KEY):
        assert stat.S_IMODE(studio.path(key).stat().st_mode) == 0o600
    assert PRIVATE_KEY_MARK not in studio.path(APPROVER_ANCHORS).read_text()
    assert not studio.ledger_path.exists()  # created on first use, not by init


def test_grant_list_show_as_json_and_text(studio: Workspace, cli: Run) -> None:
    home = ["--home", studio.home]
    res = cli(
        *approval_args(
            "APR-2026-0042", "--expires", "2030-03-31", "--note", "sky only", "--condition", "credit the vendor"
        ),
        *home,
        "--format",
        "json",
    )
    assert res.code == 0, res.stderr
    validator("clearances-report").validate(res.json())
    [granted] = res.json()["records"]
    assert granted["state"] == "active" and granted["expires_at"] == "2030-03-31T23:59:59Z"
    assert granted["conditions"] == ["credit the vendor"] and granted["note"] == "sky only"
    assert granted["issuer"]["common_name"] == studio.approver_identity().subject

    res = cli(
        "consents",
        "grant",
        "--id",
        "CNS-0007",
        "--production",
        PRODUCTION,
        "--asset",
        "EP101_SH020",
        "--asset",
        "EP101_SH021",
        "--covers",
        "digital-replica",
        "--talent",
        "Jane Doe",
        "--talent-id",
        "TAL-0001",
        "--guild-ref",
        "SAG-AFTRA 2023 TV/Theatrical §B",
        *home,
    )
    assert res.code == 0, res.stderr
    assert "Granted consent CNS-0007" in res.stdout and "guild reference SAG-AFTRA" in res.stdout

    approvals = cli("approvals", "list", *home, "--format", "json").json()
    consents = cli("consents", "list", *home, "--format", "json").json()
    for doc in (approvals, consents):
        validator("clearances-report").validate(doc)
    assert "APR-2026-0042" in [r["id"] for r in approvals["records"]]
    assert "CNS-0007" not in [r["id"] for r in approvals["records"]]  # each group lists its own kind
    [consent] = [r for r in consents["records"] if r["id"] == "CNS-0007"]
    assert consent["talent"] == {"name": "Jane Doe", "id": "TAL-0001"}
    assert consent["scope"] == {"asset_ids": ["EP101_SH020", "EP101_SH021"]}

    shown = cli("consents", "show", "CNS-0007", *home, "--format", "json")
    validator("clearances-report").validate(shown.json())
    assert shown.json()["records"] == [consent]
    text = cli("approvals", "show", "APR-2026-0042", *home).stdout
    assert "expires 2030-03-31T23:59:59Z" in text and "condition: credit the vendor" in text
    one_line_error(cli("approvals", "show", "CNS-0007", *home), "CNS-0007", "no such approval")


def test_grant_refuses_bad_requests(studio: Workspace, cli: Run, tmp_path: Path) -> None:
    home = ["--home", studio.home]
    assert cli(*approval_args("APR-DUP"), *home).code == 0
    one_line_error(cli(*approval_args("APR-DUP"), *home), "APR-DUP", "already in the ledger")
    one_line_error(
        cli(
            "approvals",
            "grant",
            "--id",
            "APR-X",
            "--production",
            PRODUCTION,
            "--asset",
            "A",
            "--covers",
            "everything",
            *home,
        ),
        "covers[0]",
        "everything",
    )
    one_line_error(cli(*approval_args("APR-Y", "--expires", "soon"), *home), "--expires")
    one_line_error(cli(*approval_args("APR-PAST", "--expires", "2020-01-01"), *home), "--expires", "in the past")
    one_line_error(cli(*approval_args("bad id!"), *home), "id")
    one_line_error(cli(*approval_args("APR-Z"), "--home", tmp_path / "nowhere"), "no workspace")
    assert "APR-X" not in cli("approvals", "list", *home).stdout


def test_revoke(studio: Workspace, cli: Run) -> None:
    home = ["--home", studio.home]
    assert cli(*approval_args("APR-REV"), *home).code == 0
    res = cli("approvals", "revoke", "APR-REV", "--reason", "scene cut", *home)
    assert res.code == 0 and "Revoked approval APR-REV: scene cut" in res.stdout
    [entry] = cli("approvals", "show", "APR-REV", *home, "--format", "json").json()["records"]
    assert entry["state"] == "revoked" and entry["revoked"]["reason"] == "scene cut"
    assert "REVOKED" in cli("approvals", "show", "APR-REV", *home).stdout
    one_line_error(cli("approvals", "revoke", "APR-REV", "--reason", "again", *home), "already revoked")
    one_line_error(cli("approvals", "revoke", "APR-NONE", "--reason", "x", *home), "APR-NONE", "no such approval")
    assert cli(*approval_args("APR-KIND"), *home).code == 0
    one_line_error(cli("consents", "revoke", "APR-KIND", "--reason", "x", *home), "not the consents")
    # The revocation is a signed record of its own, kept beside the approval.
    with workspace_ledger(studio.home) as ledger:
        assert ledger.location.is_postgres != studio.ledger_path.exists()  # the configured backend, only
        entry = ledger.get("APR-REV")
        assert entry is not None and entry.revocation is not None
        assert authenticate(entry.revocation, ledger.anchors).status == VALID
        assert entry.revocation["record"]["revokes"] == "APR-REV"


@pytest.fixture(scope="module")
def exported(studio: Workspace, cli: Run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bundles exported from the studio ledger: one active approval, one revoked."""
    home = ["--home", studio.home]
    folder = tmp_path_factory.mktemp("exports")
    assert cli(*approval_args("APR-EXP-1", "--note", "portable"), *home).code == 0
    assert cli(*approval_args("APR-EXP-2"), *home).code == 0
    assert cli("approvals", "revoke", "APR-EXP-2", "--reason", "superseded", *home).code == 0
    out = {}
    for record_id in ("APR-EXP-1", "APR-EXP-2"):
        out[record_id] = folder / f"{record_id}.json"
        res = cli("approvals", "export", record_id, "-o", out[record_id], *home)
        assert res.code == 0, res.stderr
    one_line_error(cli("approvals", "export", "APR-EXP-1", "-o", out["APR-EXP-1"], *home), "already exists")
    return out


@pytest.fixture
def qc_desk(studio: Workspace, tmp_path: Path) -> Workspace:
    """Another workspace (a QC desk) configured to trust the studio's approver root."""
    ws = new_workspace(tmp_path, "QC Desk")
    anchors = ws.path(APPROVER_ANCHORS)
    anchors.write_text(anchors.read_text() + studio.path(APPROVER_ROOT_CERT).read_text())
    return ws


def test_export_import_round_trip(exported: dict[str, Path], qc_desk: Workspace, cli: Run) -> None:
    home = ["--home", qc_desk.home]
    bundle = json.loads(exported["APR-EXP-2"].read_text())
    assert bundle["format"] == BUNDLE_FORMAT and len(bundle["records"]) == 2  # the approval and its revocation
    assert PRIVATE_KEY_MARK not in exported["APR-EXP-2"].read_text()
    for record_id, path in exported.items():
        res = cli("approvals", "import", path, *home)
        assert res.code == 0 and record_id in res.stdout, res.stderr
    assert "nothing to import" in cli("approvals", "import", exported["APR-EXP-1"], *home).stdout
    listed = {r["id"]: r for r in cli("approvals", "list", *home, "--format", "json").json()["records"]}
    assert listed["APR-EXP-1"]["state"] == "active" and listed["APR-EXP-1"]["note"] == "portable"
    assert listed["APR-EXP-2"]["state"] == "revoked" and listed["APR-EXP-2"]["revoked"]["reason"] == "superseded"


@pytest.mark.parametrize(
    ("field", "value"),
    [("covers", ["background-element", "final-deliverable", "digital-replica"]), ("production", "PRJ-9999")],
)
def test_forged_export_is_refused(
    field: str, value: Any, exported: dict[str, Path], qc_desk: Workspace, cli: Run, tmp_path: Path
) -> None:
    original = exported["APR-EXP-1"].read_text()
    bundle = json.loads(original)
    bundle["records"][0]["record"][field] = value  # one field edited, signature left as it was
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(bundle, indent=2))
    res = cli("approvals", "import", forged, "--home", qc_desk.home)
    one_line_error(res, str(forged), "forged", "altered")
    assert "APR-EXP-1" not in cli("approvals", "list", "--home", qc_desk.home).stdout  # nothing stored
    assert exported["APR-EXP-1"].read_text() == original  # inputs are never modified
    # A forged revocation is refused too (it would let anyone cancel approvals).
    revoked = json.loads(exported["APR-EXP-2"].read_text())
    revoked["records"][1]["record"]["reason"] = "someone else's reason"
    forged.write_text(json.dumps(revoked))
    one_line_error(cli("approvals", "import", forged, "--home", qc_desk.home), "forged")


def test_import_refuses_records_from_outside_the_approver_root(
    exported: dict[str, Path], outsider: IdentityFiles, cli: Run, tmp_path: Path
) -> None:
    stranger = new_workspace(tmp_path, "Stranger Post")  # its approver root is not the studio's
    one_line_error(cli("approvals", "import", exported["APR-EXP-1"], "--home", stranger.home), "issuer-untrusted")
    record = sign_record(
        {
            "id": "APR-OUT",
            "kind": "approval",
            "production": PRODUCTION,
            "scope": {"asset_ids": ["*"]},
            "covers": ["final-deliverable"],
        },
        outsider.identity,
    )
    path = tmp_path / "outsider.json"
    path.write_text(json.dumps(record))
    one_line_error(cli("approvals", "import", path, "--home", stranger.home), "issuer-untrusted", "Elsewhere Root CA")


def test_import_refuses_what_is_not_a_record(studio: Workspace, cli: Run, tmp_path: Path) -> None:
    home = ["--home", studio.home]
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": "world"}')
    one_line_error(cli("approvals", "import", junk, *home), str(junk), "not a clearance record")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    one_line_error(cli("approvals", "import", broken, *home), str(broken), "not valid JSON")
    one_line_error(cli("approvals", "import", tmp_path / "absent.json", *home), "no such file")


def test_ledger_rules_for_records(studio: Workspace, tmp_path: Path) -> None:
    approver = studio.approver_identity()
    with Ledger(tmp_path / "l.sqlite", load_anchors(studio.approver_anchors())) as ledger:
        envelope = grant(ledger, Grant("approval", "APR-L1", PRODUCTION, ["A"], ["ideation"]), approver)
        assert ledger.add(envelope) is False  # the identical record: nothing to do
        again = sign_record(dict(envelope["record"], note="other"), approver)
        with pytest.raises(LedgerError, match="different record with id APR-L1"):
            ledger.add(again)
        orphan = sign_record({"id": "X.revocation", "kind": "revocation", "revokes": "X", "reason": "r"}, approver)
        with pytest.raises(LedgerError, match="not in the ledger"):
            ledger.add(orphan)
        revoke(ledger, "APR-L1", "approval", "first", approver)
        second = sign_record(
            {"id": "APR-L1.other-revocation", "kind": "revocation", "revokes": "APR-L1", "reason": "r"}, approver
        )
        with pytest.raises(LedgerError, match="already revoked"):
            ledger.add(second)
        bundle = export_bundle(ledger, "APR-L1", "approval")
        assert import_document(ledger, bundle, "bundle") == []  # both records already there
        with pytest.raises(LedgerError, match="malformed"):
            import_document(ledger, {"format": BUNDLE_FORMAT, "records": ["x"]}, "bundle")
        assert ledger.count() == 2


def test_unusable_ledger_file_is_a_clear_error(cli: Run, tmp_path: Path) -> None:
    ws = new_workspace(tmp_path)
    original = b"this is not a database, it is a text file" * 100
    ws.ledger_path.write_bytes(original)
    one_line_error(cli("approvals", "list", "--home", ws.home), str(ws.ledger_path), "not a usable ledger")
    assert ws.ledger_path.read_bytes() == original


def test_tampered_ledger_row_is_caught(cli: Run, tmp_path: Path, ledger_backend: str | None) -> None:
    """Editing the database directly does not make an approval: records are re-checked when used."""
    ws = new_workspace(tmp_path)
    db = LedgerDb(ws, ledger_backend).configure()
    home = ["--home", ws.home]
    assert (
        cli(
            "approvals",
            "grant",
            "--id",
            "APR-T",
            "--production",
            PRODUCTION,
            "--asset",
            "EP101_SH010",
            "--covers",
            "ideation",
            *home,
        ).code
        == 0
    )
    disclosure = tmp_path / "d.json"
    doc = json.loads((MEDIA.parent / "disclosures" / "bg_replace.json").read_text())
    doc["genai"][0]["approvals"], doc["genai"][0]["consents"] = ["APR-T"], []
    disclosure.write_text(json.dumps(doc))
    # Signed with no ledger at hand: the approval is cited, not embedded.
    signed = sign_asset(
        SignRequest(
            MEDIA / "plate.jpg", tmp_path / "shot.jpg", disclosure, ws.identity(), TrustSettings(ws.trust_anchors())
        )
    )
    assert signed.embedded_clearances == []
    [(text,)] = db.query("SELECT envelope FROM records WHERE id = 'APR-T'")
    envelope = json.loads(text)
    envelope["record"]["covers"] = ["background-element", "final-deliverable"]
    db.query("UPDATE records SET envelope = ? WHERE id = 'APR-T'", (json.dumps(envelope),))
    report = cli("verify", signed.output, *home, "--format", "json").json()["assets"][0]
    [check] = report["clearances"]
    assert (check["source"], check["status"]) == ("ledger", "forged")
    verdict = cli("check", signed.output, *home, "--format", "json").json()["assets"][0]
    assert "GP-CLEARANCE-001" in {f["rule_id"] for f in verdict["findings"]} and verdict["blocked"]
    # ... and sign does not carry the doctored record into new media.
    with Ledger(db.location, load_anchors(ws.approver_anchors())) as ledger:
        records, warnings = records_to_embed(doc, ledger)
    assert records == [] and any("APR-T" in w and "forged" in w for w in warnings)
    # ... and the ledger's own listing shows the row for what it is.
    listed = cli("approvals", "list", *home, "--format", "json").json()["records"]
    assert [(r["id"], r["state"]) for r in listed] == [("APR-T", "forged")]


def test_records_to_embed_without_a_ledger() -> None:
    doc = {"asset": {}, "genai": [{"approvals": ["APR-1", "APR-2"], "consents": ["CNS-1"]}, {"approvals": ["APR-1"]}]}
    records, warnings = records_to_embed(doc, None)
    assert records == []
    assert [w.split()[0] for w in warnings] == ["APR-1", "APR-2", "CNS-1"]  # each once, in order
    assert all("none available" in w for w in warnings)


# --------------------------------------------------------------------------- concurrent writers


def test_concurrent_grants_leave_a_consistent_ledger(cli: Run, tmp_path: Path, ledger_backend: str | None) -> None:
    """Ten real processes write to a ledger that does not exist yet (an SQLite file, or an empty
    PostgreSQL database: the migrations race too); two of them want the same ID."""
    ws = new_workspace(tmp_path)
    db = LedgerDb(ws, ledger_backend)
    base = ["approvals", "grant", "--production", PRODUCTION, "--asset", "EP101_*", "--covers", "background-element"]
    commands = [[*base, "--id", f"APR-C-{i:02d}"] for i in range(8)]
    commands += [[*base, "--id", "APR-SAME", "--note", f"writer {n}"] for n in range(2)]
    procs = [
        subprocess.Popen(
            [*CLI_COMMAND, *cmd, "--home", str(ws.home), *db.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cmd in commands
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert "Traceback" not in err, err
        outcomes.append((proc.returncode, out, err))

    distinct, same = outcomes[:8], outcomes[8:]
    assert [code for code, _, _ in distinct] == [0] * 8, [err for _, _, err in distinct]
    assert sorted(code for code, _, _ in same) == [0, 2], same
    [(_, _, loser_err)] = [o for o in same if o[0] == 2]
    assert len(loser_err.splitlines()) == 1 and loser_err.startswith(ERROR_PREFIX), loser_err
    assert "APR-SAME" in loser_err and "already in the ledger" in loser_err
    winner = next(n for n, (code, _, _) in enumerate(same) if code == 0)

    anchors = load_anchors(ws.approver_anchors())
    with Ledger(db.location, anchors) as ledger:
        entries = {e.record["id"]: e for e in ledger.entries()}
        assert sorted(entries) == [*(f"APR-C-{i:02d}" for i in range(8)), "APR-SAME"]
        assert ledger.count() == 9 and ledger.integrity.verified, ledger.integrity.problem
        assert ledger.integrity.head is not None and ledger.integrity.head.entries == 9
        assert all(authenticate(e.envelope, anchors).status == VALID for e in entries.values())
        assert entries["APR-SAME"].record["note"] == f"writer {winner}"  # the winner's record, whole
    # no lost or duplicate rows: 9 entries numbered 1..9, one schema version row
    assert db.query("SELECT seq FROM records ORDER BY seq") == [(n,) for n in range(1, 10)]
    assert db.query("SELECT version FROM schema_version") == [(1,)]
    if ledger_backend is None:
        with sqlite3.connect(ws.ledger_path) as sqlite:
            assert sqlite.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    listed = cli("approvals", "list", "--home", ws.home, "--format", "json", *db.args)
    validator("clearances-report").validate(listed.json())
    assert [r["id"] for r in listed.json()["records"]] == sorted(entries)
