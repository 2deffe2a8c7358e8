"""Signed offline revocation lists: exported at the studio, imported at a vendor's QC that has no
ledger, and refused when stale, forged, untrusted or older than one already seen.

Real workspaces (separate --home for studio and vendor), real SQLite ledger, real C2PA media.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ERROR_PREFIX, MEDIA, CliResult, IdentityFiles
from ledger_db import LedgerDb

from genai_provenance.clearances.records import canonical, load_anchors, now_utc, sign_record
from genai_provenance.clearances.revocations import STORED_LIST, RevocationListError, export_list, verify_list
from genai_provenance.schemas import validator
from genai_provenance.settings import workspace_ledger
from genai_provenance.trust.detached import sign_bytes
from genai_provenance.workspace import APPROVER_ANCHORS, APPROVER_ROOT_CERT, Workspace, init_workspace

Run = Callable[..., CliResult]
DATA = Path(__file__).resolve().parent / "data"
APPROVAL, CONSENT = "APR-REPLICA-0001", "CNS-REPLICA-0001"


@dataclass
class World:
    studio: Workspace
    vendor: Workspace
    media: Path  # a digital replica citing the approval and the consent, records embedded
    folder: Path
    db: LedgerDb  # the studio's ledger: SQLite, or PostgreSQL named in its workspace.json

    def at(self, ws: Workspace) -> list[Any]:
        return ["--home", ws.home]


def one_line_error(res: CliResult, *needles: str) -> None:
    assert res.code == 2, (res.code, res.stdout, res.stderr)
    assert len(res.error_lines) == 1 and res.stderr.startswith(ERROR_PREFIX), res.stderr
    for needle in needles:
        assert needle in res.stderr, (needle, res.stderr)


@pytest.fixture
def world(cli: Run, tmp_path: Path, ledger_backend: str | None) -> World:
    studio = init_workspace(tmp_path / "studio", "Studio Legal").workspace
    db = LedgerDb(studio, ledger_backend).configure()
    vendor = init_workspace(tmp_path / "vendor", "Vendor QC").workspace  # no ledger, ever
    anchors = vendor.path(APPROVER_ANCHORS)
    anchors.write_text(anchors.read_text() + studio.path(APPROVER_ROOT_CERT).read_text())
    home = ["--home", studio.home]
    covers = "digital-replica,final-deliverable"
    grant = ["--production", "PRJ-0042", "--asset", "EP101_SH020"]
    assert cli("approvals", "grant", "--id", APPROVAL, *grant, "--covers", covers, *home).code == 0
    res = cli(
        "consents", "grant", "--id", CONSENT, *grant, "--covers", "digital-replica",
        "--talent", "Jane Doe", "--talent-id", "TAL-0001", *home,
    )  # fmt: skip
    assert res.code == 0, res.stderr
    media = tmp_path / "delivery" / "replica.jpg"
    media.parent.mkdir()
    res = cli("sign", MEDIA / "plate.jpg", "-o", media, "--disclosure", DATA / "replica_with_consent.yaml", *home)
    assert res.code == 0 and CONSENT in res.stdout, res.stderr
    # The vendor's media trust accepts the studio's signer too.
    media_anchors = vendor.path("trust/anchors.pem")
    media_anchors.write_text(media_anchors.read_text() + studio.path("trust/anchors.pem").read_text())
    return World(studio, vendor, media, tmp_path, db)


def export(world: World, cli: Run, name: str, *extra: Any) -> Path:
    out = world.folder / name
    res = cli("revocations", "export", "-o", out, *world.at(world.studio), *extra)
    assert res.code == 0 and "Exported revocation list #" in res.stdout, res.stderr
    validator("revocation-list").validate(json.loads(out.read_text()))
    assert "PRIVATE KEY" not in out.read_text()
    return out


def check(world: World, cli: Run, *extra: Any) -> tuple[int, dict[str, Any]]:
    res = cli("check", world.media, *world.at(world.vendor), "--format", "json", *extra)
    assert res.code in (0, 1), res.stderr
    validator("check-report").validate(res.json())
    return res.code, res.json()["assets"][0]


def rules(verdict: dict[str, Any]) -> dict[str, str]:
    return {f["rule_id"]: f["severity"] for f in verdict["findings"]}


def test_round_trip_studio_to_vendor_and_a_revoked_consent_blocks(world: World, cli: Run) -> None:
    # At the vendor, with no ledger and no list, the gate fails closed.
    code, verdict = check(world, cli)
    assert code == 1 and set(rules(verdict)) == {"GP-REVOCATION-001"}
    first = export(world, cli, "list-1.json")
    res = cli("revocations", "import", first, *world.at(world.vendor))
    assert res.code == 0 and "Imported revocation list #1" in res.stdout, res.stderr
    assert not world.vendor.ledger_path.exists()
    code, verdict = check(world, cli)  # the imported list is used automatically
    assert code == 0, verdict["findings"]
    for clearance in verdict["verification"]["clearances"]:
        assert clearance["revocation_checked"] is True and "not revoked as of" in clearance["detail"]
        assert clearance["revocation_source"].startswith(f"list:{world.vendor.path(STORED_LIST)} #1 signed by")
        assert "next update" in clearance["revocation_source"]

    assert cli("consents", "revoke", CONSENT, "--reason", "performer withdrew", *world.at(world.studio)).code == 0
    second = export(world, cli, "list-2.json")
    assert cli("revocations", "import", second, *world.at(world.vendor)).code == 0
    code, verdict = check(world, cli)
    assert code == 1
    statuses = {c["id"]: c["status"] for c in verdict["verification"]["clearances"]}
    assert statuses == {APPROVAL: "valid", CONSENT: "revoked"}
    assert rules(verdict)["GP-TALENT-001"] == "block" and "GP-REVOCATION-001" not in rules(verdict)
    text = cli("check", world.media, *world.at(world.vendor)).stdout
    assert "performer withdrew" in text and "revocation checked against list:" in text

    # Going back to the first list (it no longer mentions the revocation) is refused.
    one_line_error(cli("revocations", "import", first, *world.at(world.vendor)), str(first), "older than list #2")
    one_line_error(cli("check", world.media, "--revocations", first, *world.at(world.vendor)), "older than list #2")
    # The same list again is fine (idempotent).
    assert cli("revocations", "import", second, *world.at(world.vendor)).code == 0


def test_deleting_the_imported_list_is_reported_not_taken_for_never_having_one(world: World, cli: Run) -> None:
    """Without its list a workspace is judged as one that never had a list, and the report says the list
    that was imported has gone (the reason, in every clearance it could not check)."""
    assert cli("revocations", "import", export(world, cli, "list.json"), *world.at(world.vendor)).code == 0
    assert check(world, cli)[0] == 0
    world.vendor.path(STORED_LIST).unlink()
    code, verdict = check(world, cli)
    assert code == 1 and rules(verdict)["GP-REVOCATION-001"] == "block"
    for clearance in verdict["verification"]["clearances"]:
        assert clearance["revocation_checked"] is False and "is missing" in clearance["detail"], clearance


def test_a_list_swapped_after_the_caller_checked_it_is_refused_by_the_workers(world: World, cli: Run) -> None:
    """The caller verifies the imported list (and that it is not older than one seen); each worker reads it
    again. A list put back in between (an older, validly signed one, which no longer mentions a revocation)
    must not be what the workers judge by."""
    from genai_provenance.clearances.revocations import RevocationListError
    from genai_provenance.settings import check_config

    first = export(world, cli, "first.json")
    assert cli("consents", "revoke", CONSENT, "--reason", "withdrawn", *world.at(world.studio)).code == 0
    assert cli("revocations", "import", export(world, cli, "second.json"), *world.at(world.vendor)).code == 0
    config = check_config(None, None, world.vendor.home, None, None)
    listed = config.clearance_source().revocation_list  # the list as checked: accepted
    assert listed is not None and CONSENT in listed.revoked
    world.vendor.path(STORED_LIST).write_text(first.read_text())
    with pytest.raises(RevocationListError, match="changed while checking"):
        config.clearance_source()


def test_explicit_list_without_any_workspace(world: World, cli: Run, tmp_path: Path) -> None:
    """--revocations with --trust/--approver-trust, no workspace at all: check, explain."""
    listed = export(world, cli, "list.json")
    args = ["--home", tmp_path / "none", "--trust", world.studio.path("trust/anchors.pem")]
    args += ["--approver-trust", world.studio.path(APPROVER_ANCHORS)]
    res = cli("check", world.media, *args, "--revocations", listed)
    assert res.code == 0, res.stdout
    res = cli("explain", world.media, *args, "--revocations", listed)
    assert res.code == 0 and f"not revoked according to list:{listed}" in " ".join(res.stdout.split()), res.stdout
    # Granted by asset ID only: the lawyer is told the approval rests on the label the file declares.
    words = " ".join(res.stdout.split())
    assert "declares asset ID “EP101_SH020”, which the approval names" in words, words
    assert "the approval does not identify this file's content" in words, words
    res = cli("explain", world.media, *args, "--format", "json")
    assert "revocation not checked: no ledger available" in res.stdout
    assert not (tmp_path / "none").exists()


def test_stale_list_is_refused(world: World, cli: Run) -> None:
    with workspace_ledger(world.studio.home) as ledger:
        document = export_list(
            ledger, world.studio.approver_identity(), dt.timedelta(hours=1), now=now_utc() - dt.timedelta(hours=2)
        )
    stale = world.folder / "stale.json"
    stale.write_text(json.dumps(document))
    one_line_error(cli("revocations", "import", stale, *world.at(world.vendor)), str(stale), "stale", "next update")
    one_line_error(cli("check", world.media, "--revocations", stale, *world.at(world.vendor)), "stale")
    # An imported list that has since gone stale is not used: checks fail closed and say why.
    world.vendor.path(STORED_LIST).parent.mkdir(exist_ok=True)
    world.vendor.path(STORED_LIST).write_text(stale.read_text())
    code, verdict = check(world, cli)
    assert code == 1 and rules(verdict)["GP-REVOCATION-001"] == "block"
    assert all("imported revocation list" in c["detail"] for c in verdict["verification"]["clearances"])


def test_a_list_cannot_be_valid_for_zero_days(world: World, cli: Run) -> None:
    res = cli("revocations", "export", "-o", world.folder / "x.json", "--valid-for", "0", *world.at(world.studio))
    assert res.code == 2 and len(res.error_lines) == 1
    assert not (world.folder / "x.json").exists()


@pytest.mark.parametrize("edit", ["sequence", "drop-revocation", "next-update", "byte"])
def test_forged_list_is_refused(edit: str, world: World, cli: Run) -> None:
    assert cli("consents", "revoke", CONSENT, "--reason", "withdrawn", *world.at(world.studio)).code == 0
    listed = export(world, cli, "list.json")
    original = listed.read_text()
    document = json.loads(original)
    if edit == "sequence":
        document["list"]["sequence"] += 100
    elif edit == "drop-revocation":
        document["list"]["revocations"] = []
    elif edit == "next-update":
        document["list"]["next_update"] = "2099-01-01T00:00:00Z"
    forged = world.folder / "forged.json"
    if edit == "byte":  # one byte of the signature value flipped
        value = document["signature"]["value"]
        document["signature"]["value"] = ("B" if value[10] == "A" else "A").join([value[:10], value[11:]])
    forged.write_text(json.dumps(document))
    one_line_error(cli("revocations", "import", forged, *world.at(world.vendor)), str(forged), "forged")
    one_line_error(cli("check", world.media, "--revocations", forged, *world.at(world.vendor)), "forged")
    assert not world.vendor.path(STORED_LIST).exists()
    assert listed.read_text() == original


def test_list_from_outside_the_approver_roots_is_refused(world: World, outsider: IdentityFiles, cli: Run) -> None:
    with workspace_ledger(world.studio.home) as ledger:
        document = export_list(ledger, outsider.identity, dt.timedelta(days=1))
    path = world.folder / "outsider.json"
    path.write_text(json.dumps(document))
    one_line_error(cli("revocations", "import", path, *world.at(world.vendor)), "Elsewhere Root CA", "approver roots")
    with pytest.raises(RevocationListError, match="approver roots"):
        verify_list(document, load_anchors(world.vendor.approver_anchors()), "doc")


def test_list_with_a_revocation_from_outside_the_roots_is_refused(
    world: World, outsider: IdentityFiles, cli: Run
) -> None:
    """A genuine studio signature over a list smuggling in a revocation signed by someone else."""
    rogue = sign_record(
        {"id": "X.revocation", "kind": "revocation", "revokes": APPROVAL, "reason": "r"}, outsider.identity
    )
    body = {
        "sequence": 5,
        "issued_at": "2026-01-01T00:00:00Z",
        "next_update": "2099-01-01T00:00:00Z",
        "ledger_head": None,
        "revocations": [rogue],
    }
    document = {
        "format": "genai-provenance/revocation-list/v1",
        "list": body,
        "signature": sign_bytes(canonical(body), world.studio.approver_identity()),
    }
    with pytest.raises(RevocationListError, match="issuer-untrusted"):
        verify_list(document, load_anchors(world.vendor.approver_anchors()), "doc")


def test_unreadable_list_is_a_one_line_error(world: World, cli: Run) -> None:
    junk = world.folder / "junk.json"
    junk.write_text("{not json")
    one_line_error(cli("revocations", "import", junk, *world.at(world.vendor)), str(junk))
    junk.write_text('{"hello": 1}')
    one_line_error(cli("check", world.media, "--revocations", junk, *world.at(world.vendor)), "not a revocation list")
    one_line_error(cli("revocations", "import", world.folder / "absent.json", *world.at(world.vendor)), "no such file")


def test_export_refuses_a_tampered_ledger(world: World, cli: Run) -> None:
    world.db.query("DELETE FROM records WHERE id = ?", (CONSENT,))
    res = cli("revocations", "export", "-o", world.folder / "l.json", *world.at(world.studio))
    one_line_error(res, "tampered", "no list exported")
    assert not (world.folder / "l.json").exists()


def test_package_and_verify_package_record_the_list(world: World, cli: Run) -> None:
    listed = export(world, cli, "list.json")
    target = world.folder / "out" / "pkg"
    res = cli("package", world.media.parent, "-o", target, *world.at(world.vendor), "--revocations", listed)
    assert res.code == 0, res.stdout + res.stderr
    assert f"revocation checked against list:{listed} #1" in res.stdout
    report = json.loads((target / "genai-provenance" / "package-report.json").read_text())
    validator("package-manifest-report").validate(report)
    [asset] = report["assets"]
    assert {c["id"]: c["revocation_checked"] for c in asset["clearances"]} == {APPROVAL: True, CONSENT: True}
    assert all(c["revocation_source"].startswith(f"list:{listed} #1") for c in asset["clearances"])
    res = cli("verify-package", target, *world.at(world.vendor), "--revocations", listed, "--format", "json")
    assert res.code == 0, res.stdout
    validator("package-verification").validate(res.json())
    text = cli("verify-package", target, *world.at(world.vendor), "--revocations", listed).stdout
    assert f"revocation checked against list:{listed} #1" in text and "PACKAGE VERIFIED" in text
    trust = ["--trust", world.vendor.path("trust/anchors.pem"), "--approver-trust", world.vendor.path(APPROVER_ANCHORS)]
    trust += ["--packager-trust", world.vendor.path("trust/packager-anchors.pem")]
    res = cli("verify-package", target, "--home", world.folder / "nowhere", *trust)
    assert res.code == 1 and "revocation NOT checked for 2 valid clearances" in res.stdout  # fails closed


def test_a_list_speaks_only_for_records_under_its_own_approver_root(world: World, cli: Run, tmp_path: Path) -> None:
    """A QC desk trusting two studios: studio B's (empty) list says nothing about studio A's approvals."""
    other = init_workspace(tmp_path / "other-studio", "Other Studio").workspace
    anchors = world.vendor.path(APPROVER_ANCHORS)
    anchors.write_text(anchors.read_text() + other.path(APPROVER_ROOT_CERT).read_text())
    listed = tmp_path / "other-list.json"
    assert cli("revocations", "export", "-o", listed, "--home", other.home).code == 0
    code, verdict = check(world, cli, "--revocations", listed)
    assert code == 1 and rules(verdict)["GP-REVOCATION-001"] == "block"
    for clearance in verdict["verification"]["clearances"]:
        assert clearance["revocation_checked"] is False and "is signed under" in clearance["detail"]


def test_a_vendors_own_ledger_says_nothing_about_the_studios_revocations(world: World, cli: Run) -> None:
    """Imported copies of the studio's approvals sit in the vendor's ledger (signed by the vendor's
    approver): that ledger cannot know what the studio revoked since."""
    for kind, ref in (("approvals", APPROVAL), ("consents", CONSENT)):
        bundle = world.folder / f"{ref}.json"
        assert cli(kind, "export", ref, "-o", bundle, *world.at(world.studio)).code == 0
        assert cli(kind, "import", bundle, *world.at(world.vendor)).code == 0
    assert cli("consents", "revoke", CONSENT, "--reason", "withdrawn", *world.at(world.studio)).code == 0
    code, verdict = check(world, cli)
    assert code == 1 and rules(verdict)["GP-REVOCATION-001"] == "block"
    for clearance in verdict["verification"]["clearances"]:
        assert clearance["revocation_checked"] is False and "is kept under" in clearance["detail"], clearance
    code, verdict = check(world, cli, "--revocations", export(world, cli, "fresh.json"))
    assert code == 1 and "GP-REVOCATION-001" not in rules(verdict)
    assert {c["id"]: c["status"] for c in verdict["verification"]["clearances"]}[CONSENT] == "revoked"
