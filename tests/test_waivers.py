"""Signed policy waivers: grant, scope, expiry, revocation, non-waivable rules, and the archival case end to end.

Everything is real: a workspace with its own roots, approver-signed records in the hash-chained
SQLite ledger, C2PA signing through c2pa-python, `package` writing a BagIt bag.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import MEDIA, CliResult, IdentityFiles
from payload import flipped_copy

from genai_provenance.clearances.ledger import Ledger
from genai_provenance.clearances.ledger_store import SqliteStore
from genai_provenance.clearances.records import iso, load_anchors, now_utc, sign_record
from genai_provenance.clearances.waivers import KIND, Waiver, apply_waivers
from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.gate.check import (
    CheckSettings,
    ClearanceSource,
    asset_facts,
    check_clearances,
    file_hash,
)
from genai_provenance.gate.package import REPORT_FILE
from genai_provenance.policy.rules import BLOCK, Evaluation, default_policy, evaluate
from genai_provenance.schemas import validate
from genai_provenance.workspace import Workspace, init_workspace

PRODUCTION = "PRJ-0042"
ARCHIVAL = "archive/EP101_SH070_archival_1962.jpg"
Cli = Callable[..., CliResult]


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def comp_doc(asset_id: str) -> dict[str, Any]:
    """A final GenAI background comp citing no approval: GP-FINAL-001 and GP-BACKGROUND-001 block."""
    return {
        "asset": {"title": f"{asset_id}_v001", "production": PRODUCTION, "asset_id": asset_id, "intended_use": "final"},
        "source_type": "digitalCapture",
        "genai": [
            {
                "tool": {"name": "Runway Gen-4", "version": "4.0", "vendor": "Runway"},
                "action": "edited",
                "source_type": "compositeWithTrainedAlgorithmicMedia",
                "category": "background-element",
                "description": "sky replaced",
                "inputs": [{"kind": "own-footage"}],
                "data_handling": {"trains_on_inputs": False, "retains_inputs": False, "enterprise_environment": True},
                "approvals": [],
            }
        ],
    }


def ws_home(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws", "Waiver Test Studio").workspace


def sign(ws: Workspace, src: Path, out: Path, doc: dict[str, Any], identity: Any = None) -> Path:
    spec = out.with_suffix(".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps(doc), encoding="utf-8")
    trust = TrustSettings(ws.trust_anchors())
    sign_asset(SignRequest(src, out, spec, identity or ws.identity(), trust))
    spec.unlink()
    return out


def settings_for(ws: Workspace, ledger: Ledger | None) -> CheckSettings:
    anchors = load_anchors(ws.approver_anchors())
    return CheckSettings(TrustSettings(ws.trust_anchors()), default_policy(), ClearanceSource(anchors, ledger), "final")


def judge(
    path: Path, settings: CheckSettings, *, at: dt.datetime | None = None, waivers: list[Waiver] | None = None
) -> Evaluation:
    """verify + clearances + policy + waivers, with the waiver clock at `at`."""
    report = verify_file(path, settings.trust.context(), trust=settings.trust)
    clearances = check_clearances(report, path, settings.clearances)
    facts, _ = asset_facts(report, clearances, settings.policy, settings.intended_use)
    evaluation = evaluate(settings.policy, facts)
    apply_waivers(evaluation, facts, file_hash(path), settings.clearances, settings.policy, at=at, waivers=waivers)
    return evaluation


def blocking(evaluation: Evaluation) -> set[str]:
    return {f.rule_id for f in evaluation.findings if f.severity == BLOCK}


def waived(evaluation: Evaluation) -> dict[str, str]:
    return {w.rule_id: w.waiver_id for w in evaluation.waived}


def grant(cli: Cli, ws: Workspace, wid: str, rule: str, *scope: str, expires: str = "2099-12-31") -> CliResult:
    return cli("waivers", "grant", "--id", wid, "--rule", rule, "--production", PRODUCTION, *scope,
               "--reason", "licensed archival footage, predates Content Credentials", "--expires", expires,
               "--home", ws.home)  # fmt: skip


# --------------------------------------------------------------------------- scope


def test_waiver_lifts_exactly_its_rule_for_exactly_its_assets(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    one = sign(ws, MEDIA / "plate.jpg", tmp_path / "kit" / "EP101_SH010_comp.jpg", comp_doc("EP101_SH010"))
    two = sign(ws, MEDIA / "plate.jpg", tmp_path / "kit" / "EP101_SH020_comp.jpg", comp_doc("EP101_SH020"))
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        before = judge(one, settings_for(ws, ledger))
    assert blocking(before) == {"GP-FINAL-001", "GP-BACKGROUND-001"}

    res = grant(cli, ws, "WVR-1", "GP-FINAL-001", "--asset", "EP101_SH010", "--format", "json")
    assert res.code == 0, res.stderr
    validate("clearances-report", res.json(), "waivers grant")
    assert res.json()["records"][0]["scope"] == {"asset_ids": ["EP101_SH010"]}
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        settings = settings_for(ws, ledger)
        first, second = judge(one, settings), judge(two, settings)
    assert waived(first) == {"GP-FINAL-001": "WVR-1"}
    assert first.waived[0].matched_by == "asset-id" and first.waived[0].issuer
    assert blocking(first) == {"GP-BACKGROUND-001"}  # another rule on the same asset still blocks
    assert first.blocked
    assert blocking(second) == {"GP-FINAL-001", "GP-BACKGROUND-001"} and not second.waived  # another asset

    grant(cli, ws, "WVR-2", "GP-BACKGROUND-001", "--asset", "EP101_SH01*")
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        lifted = judge(one, settings_for(ws, ledger))
    assert waived(lifted) == {"GP-FINAL-001": "WVR-1", "GP-BACKGROUND-001": "WVR-2"}
    assert not lifted.blocked and not lifted.findings


def test_waiver_for_another_production_does_not_match(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    one = sign(ws, MEDIA / "plate.jpg", tmp_path / "kit" / "EP101_SH010_comp.jpg", comp_doc("EP101_SH010"))
    res = cli("waivers", "grant", "--id", "WVR-9", "--rule", "GP-FINAL-001", "--production", "PRJ-9999",
              "--asset", "EP101_SH010", "--content-hash", sha256(one), "--reason", "r", "--expires", "2099-01-01",
              "--home", ws.home)  # fmt: skip
    assert res.code == 0, res.stderr
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        evaluation = judge(one, settings_for(ws, ledger))
    assert "GP-FINAL-001" in blocking(evaluation) and not evaluation.waived


def test_untrusted_file_claiming_a_waived_asset_id_is_not_waived(
    tmp_path: Path, cli: Cli, outsider: IdentityFiles
) -> None:
    """Attack: anyone can write a disclosure naming a waived asset ID; only trusted credentials count."""
    ws = ws_home(tmp_path)
    forged = sign(
        ws, MEDIA / "plate.jpg", tmp_path / "kit" / "innocent.jpg", comp_doc("EP101_SH070"), outsider.identity
    )
    assert grant(cli, ws, "WVR-3", "GP-TRUST-001", "--asset", "EP101_SH070").code == 0
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        evaluation = judge(forged, settings_for(ws, ledger))
    assert "GP-TRUST-001" in blocking(evaluation) and not evaluation.waived


def test_asset_pattern_matches_an_unsigned_file_by_file_name_only_and_says_so(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    still = tmp_path / "kit" / "EP101_SH070_archival.jpg"
    still.parent.mkdir(parents=True)
    shutil.copy(MEDIA / "plate.jpg", still)
    assert grant(cli, ws, "WVR-4", "GP-TRUST-001", "--asset", "EP101_SH070_*").code == 0
    assert grant(cli, ws, "WVR-5", "GP-TRUST-002", "--asset", "EP101_SH070_*").code == 0
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        final = judge(still, settings_for(ws, ledger))
        temporary = judge(still, dataclasses.replace(settings_for(ws, ledger), intended_use="temporary"))
    # Anyone can rename a file: a name does not identify a final deliverable (fail closed, say why).
    assert waived(final) == {} and "GP-TRUST-001" in {f.rule_id for f in final.findings}
    assert any(n.waiver_id == "WVR-4" and "file name" in n.reason for n in final.waiver_notes)
    # For temporary material the name is enough, and the report says how it matched.
    assert waived(temporary) == {"GP-TRUST-002": "WVR-5"}
    assert temporary.waived[0].matched_by == "file-name"
    assert "file name only" in temporary.waived[0].detail


# --------------------------------------------------------------------------- expiry and revocation


def test_waiver_stops_working_when_it_expires(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    still = tmp_path / "EP101_SH070.jpg"
    shutil.copy(MEDIA / "plate.jpg", still)
    assert grant(cli, ws, "WVR-5", "GP-TRUST-001", "--content-hash", sha256(still), expires="2031-06-30").code == 0
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        settings = settings_for(ws, ledger)
        during = judge(still, settings, at=dt.datetime(2031, 6, 30, 12, tzinfo=dt.UTC))
        after = judge(still, settings, at=dt.datetime(2031, 7, 1, tzinfo=dt.UTC))
    assert waived(during) == {"GP-TRUST-001": "WVR-5"} and not during.blocked
    assert during.waived[0].expires_at == "2031-06-30T23:59:59Z"
    assert blocking(after) == {"GP-TRUST-001"} and not after.waived
    assert [(n.waiver_id, n.reason) for n in after.waiver_notes] == [("WVR-5", "expired 2031-06-30T23:59:59Z")]


def test_revoked_waiver_stops_working(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    still = tmp_path / "EP101_SH070.jpg"
    shutil.copy(MEDIA / "plate.jpg", still)
    assert grant(cli, ws, "WVR-6", "GP-TRUST-001", "--content-hash", sha256(still)).code == 0
    res = cli("waivers", "revoke", "WVR-6", "--reason", "licence withdrawn", "--home", ws.home)
    assert res.code == 0, res.stderr
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        evaluation = judge(still, settings_for(ws, ledger))
    assert blocking(evaluation) == {"GP-TRUST-001"}
    assert "licence withdrawn" in evaluation.waiver_notes[0].reason
    assert evaluation.waiver_notes[0].reason.startswith("revoked")
    shown = cli("waivers", "show", "WVR-6", "--home", ws.home)
    assert "REVOKED" in shown.stdout and "waives GP-TRUST-001" in shown.stdout


def test_unchecked_revocation_fails_closed_for_final_only(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    still = tmp_path / "EP101_SH070.jpg"
    shutil.copy(MEDIA / "plate.jpg", still)
    assert grant(cli, ws, "WVR-7", "GP-TRUST-001", "--content-hash", sha256(still)).code == 0
    assert grant(cli, ws, "WVR-8", "GP-TRUST-002", "--content-hash", sha256(still)).code == 0
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        found = [Waiver.from_envelope(e.envelope) for e in ledger.entries(KIND)]
    no_ledger = settings_for(ws, None)  # the records travel, the revocation state does not
    final = judge(still, no_ledger, waivers=found)
    assert blocking(final) == {"GP-TRUST-001"} and not final.waived
    assert "revocation could not be checked" in final.waiver_notes[0].reason
    temporary = judge(still, CheckSettings(no_ledger.trust, no_ledger.policy, no_ledger.clearances, "temporary"),
                      waivers=found)  # fmt: skip
    assert waived(temporary) == {"GP-TRUST-002": "WVR-8"}
    assert "revocation not checked" in temporary.waived[0].detail


# --------------------------------------------------------------------------- non-waivable rules


@pytest.mark.parametrize(
    "rule", ["GP-INTEGRITY-001", "GP-INTEGRITY-002", "GP-CLEARANCE-001", "GP-DISCLOSURE-001", "GP-REVOCATION-001"]
)
def test_grant_refuses_a_non_waivable_rule(tmp_path: Path, cli: Cli, rule: str) -> None:
    ws = ws_home(tmp_path)
    res = grant(cli, ws, "WVR-X", rule, "--asset", "EP101_SH010")
    assert res.code == 2
    assert "cannot be waived" in res.stderr and len(res.error_lines) == 1
    assert "WVR-X" not in cli("waivers", "list", "--home", ws.home).stdout


def test_grant_refuses_unknown_rule_and_bad_hash(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    assert grant(cli, ws, "WVR-X", "GP-NOSUCH-001", "--asset", "A").code == 2
    assert grant(cli, ws, "WVR-X", "GP-TRUST-001", "--content-hash", "sha256:abc").code == 2
    assert grant(cli, ws, "WVR-X", "GP-TRUST-001").code == 2  # names nothing
    assert grant(cli, ws, "WVR-X", "GP-TRUST-001", "--asset", "A", expires="2001-01-01").code == 2


def test_a_waiver_of_a_non_waivable_rule_that_shows_up_anyway_is_ignored(tmp_path: Path) -> None:
    """Signed outside `grant` (or under a policy that allowed it): the integrity finding still blocks."""
    ws = ws_home(tmp_path)
    signed = sign(ws, MEDIA / "plate.jpg", tmp_path / "EP101_SH010.jpg", comp_doc("EP101_SH010"))
    tampered = flipped_copy(signed, tmp_path / "EP101_SH010_tampered.jpg")
    record = {
        "id": "WVR-INT",
        "kind": KIND,
        "rule": "GP-INTEGRITY-001",
        "production": PRODUCTION,
        "scope": {"content_hashes": [sha256(tampered)]},
        "reason": "please",
        "expires_at": iso(now_utc() + dt.timedelta(days=30)),
    }
    identity = ws.approver_identity()
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors()), identity) as ledger:
        ledger.add(sign_record(record, identity))
        evaluation = judge(tampered, settings_for(ws, ledger))
    assert "GP-INTEGRITY-001" in blocking(evaluation) and not evaluation.waived
    assert "cannot be waived" in evaluation.waiver_notes[0].reason


# --------------------------------------------------------------------------- records


def test_list_export_import_and_revocation_list(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    assert grant(cli, ws, "WVR-10", "GP-TRUST-001", "--content-hash", "sha256:" + "a" * 64).code == 0
    listed = cli("waivers", "list", "--format", "json", "--home", ws.home)
    validate("clearances-report", listed.json(), "waivers list")
    assert [(r["id"], r["kind"], r["rule"]) for r in listed.json()["records"]] == [("WVR-10", "waiver", "GP-TRUST-001")]
    assert cli("approvals", "list", "--home", ws.home).stdout.strip() == "no approvals in the ledger"
    bundle = tmp_path / "wvr.json"
    assert cli("waivers", "revoke", "WVR-10", "--reason", "superseded", "--home", ws.home).code == 0
    assert cli("waivers", "export", "WVR-10", "-o", bundle, "--home", ws.home).code == 0
    crl = tmp_path / "crl.json"
    assert cli("revocations", "export", "-o", crl, "--home", ws.home).code == 0
    assert "WVR-10" in {e["record"]["revokes"] for e in json.loads(crl.read_text())["list"]["revocations"]}
    # Another desk under the same approver root imports the bundle (record and revocation).
    other = tmp_path / "other"
    shutil.copytree(ws.home, other)
    for stale in other.glob(ws.ledger_path.name + "*"):  # the ledger, its WAL and its seen head
        stale.unlink()
    res = cli("waivers", "import", bundle, "--home", other)
    assert res.code == 0, res.stderr
    assert "revoked" in cli("waivers", "list", "--home", other).stdout


# --------------------------------------------------------------------------- the archival case, end to end


def test_archival_footage_waived_by_content_hash_end_to_end(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    source = tmp_path / "delivery"
    still = source / ARCHIVAL
    still.parent.mkdir(parents=True)
    shutil.copy(MEDIA / "plate.jpg", still)
    target = tmp_path / "out"
    home = ["--home", ws.home]

    blocked = cli("package", source, "-o", target, "--format", "json", *home)
    assert blocked.code == 1
    assert {f["rule_id"] for a in blocked.json()["assets"] for f in a["findings"]} == {"GP-TRUST-001"}
    assert not target.exists()

    res = grant(cli, ws, "WVR-2026-0001", "GP-TRUST-001", "--content-hash", sha256(still))
    assert res.code == 0, res.stderr

    text = cli("package", source, "-o", target, *home)
    assert text.code == 0, text.stdout + text.stderr
    assert "WAIVED GP-TRUST-001" in text.stdout and "WVR-2026-0001" in text.stdout
    assert "1 finding waived" in text.stdout
    report = json.loads((target / REPORT_FILE).read_text(encoding="utf-8"))
    validate("package-manifest-report", report, "package report")
    (asset,) = report["assets"]
    assert asset["warnings"] == []  # listed apart, not as a warning
    assert [(w["rule_id"], w["waiver_id"], w["matched_by"]) for w in asset["waived"]] == [
        ("GP-TRUST-001", "WVR-2026-0001", "content-hash")
    ]
    assert report["summary"]["waived"] == 1
    verified = cli("verify-package", target, "--format", "json", *home)
    assert verified.code == 0, verified.stdout
    assert verified.json()["assets"][0]["waived"][0]["waiver_id"] == "WVR-2026-0001"

    json_run = cli("package", source, "-o", tmp_path / "out2", "--format", "json", *home)
    doc = json_run.json()
    validate("package-report", doc, "package")
    assert doc["summary"]["waived"] == 1 and doc["assets"][0]["findings"] == []
    junit = cli("package", source, "-o", tmp_path / "out3", "--format", "junit", *home)
    assert junit.code == 0 and "WAIVED GP-TRUST-001" in junit.stdout
    check = cli("check", still, "--format", "json", *home)
    validate("check-report", check.json(), "check")
    assert check.code == 0 and check.json()["summary"]["waived"] == 1
    check_text = cli("check", still, *home).stdout
    assert "PASSES POLICY with 1 waived finding" in check_text and "WAIVED GP-TRUST-001" in check_text
    assert "content hash" in check_text and "1 finding waived" in check_text

    explained_doc = cli("explain", still, "--format", "json", *home).json()
    validate("explain-report", explained_doc, "explain")
    assert not explained_doc["policy_blocked"]
    explained = explained_doc["explanation"]
    waived_problems = [p for p in explained["problems"] if p["kind"] == "policy-waived"]
    assert [p["rule"] for p in waived_problems] == ["GP-TRUST-001"]
    assert "WVR-2026-0001" in waived_problems[0]["sentence"] and "until" in waived_problems[0]["sentence"]
    assert explained["verdict"] != "blocked" and "waived" in explained["verdict_sentence"]
    assert not [p for p in explained["problems"] if p["kind"] == "policy-block"]

    flipped_copy(still, still)  # one changed byte: not the file that was waived
    again = cli("package", source, "-o", tmp_path / "out4", "--format", "json", *home)
    assert again.code == 1
    assert {f["rule_id"] for a in again.json()["assets"] for f in a["findings"]} == {"GP-TRUST-001"}
    assert again.json()["assets"][0]["waived"] == []


def test_forged_waiver_does_not_apply(tmp_path: Path, cli: Cli) -> None:
    """Attack: widen a signed waiver (another file's hash) and hand it in: the signature no longer holds."""
    ws = ws_home(tmp_path)
    still = tmp_path / "EP101_SH070.jpg"
    shutil.copy(MEDIA / "plate.jpg", still)
    assert grant(cli, ws, "WVR-11", "GP-TRUST-001", "--content-hash", "sha256:" + "b" * 64).code == 0
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        (entry,) = ledger.entries(KIND)
        envelope = copy.deepcopy(entry.envelope)
        envelope["record"]["scope"]["content_hashes"] = [sha256(still)]
        evaluation = judge(still, settings_for(ws, ledger), waivers=[Waiver.from_envelope(envelope)])
    assert blocking(evaluation) == {"GP-TRUST-001"} and not evaluation.waived
    assert evaluation.waiver_notes[0].reason.startswith("forged")


def test_waivers_import_refuses_other_records_and_old_ledgers(tmp_path: Path, cli: Cli) -> None:
    ws = ws_home(tmp_path)
    res = cli("approvals", "grant", "--id", "APR-1", "--production", PRODUCTION, "--asset", "A",
              "--covers", "background-element", "--home", ws.home)  # fmt: skip
    assert res.code == 0, res.stderr
    exported = tmp_path / "apr.json"
    assert cli("approvals", "export", "APR-1", "-o", exported, "--home", ws.home).code == 0
    refused = cli("waivers", "import", exported, "--home", ws.home)
    assert refused.code == 2 and "not a waiver" in refused.stderr

    old = ws_home(tmp_path / "old")
    db = sqlite3.connect(old.ledger_path)  # a ledger made before waivers: its CHECK refuses the kind
    version_1 = ";".join(SqliteStore.migrations[0])
    db.executescript(version_1.replace("'consent', 'waiver', 'revocation'", "'consent', 'revocation'"))
    db.close()
    res = grant(cli, old, "WVR-12", "GP-TRUST-001", "--asset", "A")
    assert res.code == 2 and "created before waivers" in res.stderr and len(res.error_lines) == 1


def test_waiver_with_an_unreadable_expiry_does_not_apply(tmp_path: Path) -> None:
    ws = ws_home(tmp_path)
    still = tmp_path / "EP101_SH070.jpg"
    shutil.copy(MEDIA / "plate.jpg", still)
    record = {
        "id": "WVR-13",
        "kind": KIND,
        "rule": "GP-TRUST-001",
        "production": PRODUCTION,
        "scope": {"content_hashes": [sha256(still)]},
        "reason": "archival",
        "expires_at": "next spring",
    }
    envelope = sign_record(record, ws.approver_identity())
    evaluation = judge(still, settings_for(ws, None), waivers=[Waiver.from_envelope(envelope)])
    assert blocking(evaluation) == {"GP-TRUST-001"}
    assert evaluation.waiver_notes[0].reason == "unreadable expiry 'next spring'"
