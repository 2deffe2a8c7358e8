"""Unit tests for the renderers of sign, explain, verify-report, preflight and the record commands.

Each renders a real result (real signing, a real SQLite ledger, real signatures) and checks what
the format promises: the words a reader relies on, and JSON that its schema accepts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DISCLOSURES, Signer

from genai_provenance.clearances.ledger import Grant, Integrity, Ledger, export_bundle, grant, import_document, revoke
from genai_provenance.clearances.outcomes import (
    Exported,
    Granted,
    Imported,
    LedgerState,
    ListExported,
    ListImported,
    RecordListing,
    Revoked,
)
from genai_provenance.clearances.records import load_anchors
from genai_provenance.clearances.revocations import export_list, read_list
from genai_provenance.clearances.waivers import WaiverGrant, grant_waiver
from genai_provenance.credentials.disclosure import load as load_disclosure
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.explain.narrative import explain_file
from genai_provenance.explain.signed_report import verify_signed_report
from genai_provenance.policy.preflight import Answers, declare
from genai_provenance.policy.rules import default_policy
from genai_provenance.reports.renderers import (
    EXPORTED_TEXT,
    GRANTED_RENDERERS,
    IMPORTED_TEXT,
    LIST_EXPORTED_TEXT,
    LIST_IMPORTED_TEXT,
    LISTING_RENDERERS,
    REVOKED_TEXT,
    SIGN_RENDERERS,
    declaration_renderer,
    explain_renderer,
    report_check_renderer,
)
from genai_provenance.schemas import validator
from genai_provenance.workspace import Workspace, init_workspace

SHOT, PRODUCTION = "EP101_SH010", "PRJ-0042"


@pytest.fixture(scope="module")
def legal(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("renderers") / "ws", "Renderer Studio").workspace


@pytest.fixture
def ledger(legal: Workspace, tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite", load_anchors(legal.approver_anchors())) as opened:
        yield opened


def _approval(ledger: Ledger, legal: Workspace, record_id: str = "APR-2026-0042") -> None:
    request = Grant("approval", record_id, PRODUCTION, [SHOT], ["background-element"], note="for the sky")
    grant(ledger, request, legal.approver_identity())


# --------------------------------------------------------------------------- sign


def test_sign_renderers_name_the_output_and_its_history(sign_media: Signer) -> None:
    parent = sign_media("plate.jpg", "plate.json")
    result = sign_media("plate.jpg", "bg_replace.json", parent=parent.output)
    text = SIGN_RENDERERS["text"].render(result)
    assert text.splitlines()[:2] == [
        f"Signed {result.output} (trusted)",
        f"  history carried forward from {parent.output}",
    ]
    document = json.loads(SIGN_RENDERERS["json"].render(result))
    validator("sign-report").validate(document)
    assert document["output"] == str(result.output) and document["parent"] == str(parent.output)
    assert document["asset"]["status"] == "trusted"


def test_sign_text_escapes_a_warning_with_control_characters(sign_media: Signer) -> None:
    result = dataclasses.replace(sign_media("plate.jpg", "plate.json"), warnings=["bad\x1b[2Jname"])
    text = SIGN_RENDERERS["text"].render(result)
    assert "\x1b" not in text and "warning: bad" in text


# --------------------------------------------------------------------------- explain, verify-report


def test_explain_renderers(sign_media: Signer, trust: TrustSettings, legal: Workspace, tmp_path: Path) -> None:
    signed = sign_media("plate.jpg", "plate.json")
    result = explain_file(signed.output, trust)
    html = tmp_path / "page.html"
    text = explain_renderer("text", html).render(result)
    assert not text.startswith("note:") and text.endswith(f"\nHTML report written to {html}\n")
    untrusting = explain_renderer("text").render(dataclasses.replace(result, anchors_configured=False))
    assert untrusting.startswith("note: no trust anchors") and "HTML report" not in untrusting

    document = json.loads(explain_renderer("json", html).render(result))
    validator("explain-report").validate(document)
    assert document["html"] == str(html) and document["passed"] is True and document["policy_blocked"] is None

    envelope = json.loads(explain_renderer("json", None, legal.packager_identity()).render(result))
    assert envelope["report"]["explanation"] == document["explanation"]
    check = verify_signed_report(envelope, load_anchors(legal.packager_anchors()))
    assert check.ok and check.exit_code == 0


def test_report_check_renderers(legal: Workspace, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    bad = verify_signed_report({"format": "something else"}, load_anchors(legal.packager_anchors()))
    assert bad.exit_code == 1
    assert report_check_renderer("text", report).render(bad) == f"{report}: FAILED: {bad.reason}"
    document = json.loads(report_check_renderer("json", report).render(bad))
    validator("report-verification").validate(document)
    assert (document["report"], document["ok"], document["reason"]) == (str(report), False, bad.reason)


# --------------------------------------------------------------------------- preflight


def test_declaration_renderers() -> None:
    declaration = declare(load_disclosure(DISCLOSURES / "bg_replace.json"), default_policy())
    assert declaration.overall == "written-approval" and declaration.exit_code == 0
    text = declaration_renderer("text", Path("decl.json")).render(declaration)
    lines = text.splitlines()
    assert lines[:2] == [f"Preflight for {SHOT} ({PRODUCTION}), intended use final", "overall: WRITTEN-APPROVAL"]
    assert "genai[0] Runway Gen-4 4.0 [background-element]: WRITTEN-APPROVAL" in lines
    assert "    needs an approval covering final-deliverable, background-element" in lines
    assert any(line.startswith("  request: genai-provenance approvals grant --id APR-2026-0042 ") for line in lines)
    assert lines[-1] == "declaration written to decl.json"
    assert declaration_renderer("text").render(declaration).endswith("no declaration written (use -o FILE)")

    document = json.loads(declaration_renderer("json").render(declaration))
    validator("declaration").validate(document)
    assert document["disclosure"] == json.loads((DISCLOSURES / "bg_replace.json").read_text())
    [use] = document["uses"]
    assert (use["tool"], use["classification"], use["to_cite"]) == (
        "Runway Gen-4 4.0",
        "written-approval",
        {"approvals": [], "consents": []},
    )


def test_a_use_citing_no_approval_gets_a_new_id_to_cite() -> None:
    answers = Answers({1: "yes", 2: "yes", 3: "yes", 4: "no", 5: "yes"})
    asset = {"title": "t", "production": PRODUCTION, "asset_id": SHOT, "intended_use": "final"}
    use = {
        "tool": {"name": "Gen", "vendor": ""},
        "action": "created",
        "source_type": "trainedAlgorithmicMedia",
        "category": "background-element",
        "inputs": "text-prompt",
    }
    declaration = declare(answers.declared(asset, use), default_policy(), answers)
    [decision] = declaration.uses
    assert decision.to_cite.approvals == ("APR-EP101-SH010-1",)
    text = declaration_renderer("text").render(declaration)
    assert "    cites no approval: list APR-EP101-SH010-1 under genai[0].approvals in the disclosure" in text
    document = json.loads(declaration_renderer("json").render(declaration))
    validator("declaration").validate(document)
    assert document["principles"] == {"1": "yes", "2": "yes", "3": "yes", "4": "no", "5": "yes"}


# --------------------------------------------------------------------------- records


def test_listing_renderers(ledger: Ledger, legal: Workspace) -> None:
    empty = RecordListing.listing(ledger, "approval", "approvals")
    assert LISTING_RENDERERS["text"].render(empty) == "no approvals in the ledger"
    _approval(ledger, legal)
    listing = RecordListing.listing(ledger, "approval", "approvals")
    assert listing.exit_code == 0
    [line] = LISTING_RENDERERS["text"].render(listing).splitlines()
    assert line.split() == ["APR-2026-0042", "active", PRODUCTION, SHOT, "covers", "background-element"]
    document = json.loads(LISTING_RENDERERS["json"].render(listing))
    validator("clearances-report").validate(document)
    assert document["ledger"]["verified"] is True and document["records"][0]["note"] == "for the sky"

    shown = LISTING_RENDERERS["text"].render(RecordListing.shown(ledger, "APR-2026-0042", "approval", "approvals"))
    assert "  note: for the sky" in shown.splitlines() and "  expires never" in shown.splitlines()


def test_an_untrusted_ledger_is_named_first_and_fails(ledger: Ledger, legal: Workspace) -> None:
    _approval(ledger, legal)
    listing = RecordListing.listing(ledger, "approval", "approvals")
    tampered = LedgerState(listing.ledger.path, Integrity(None, "tampered\x1b[2J"), "ledger x is tampered\x1b[2J")
    bad = dataclasses.replace(listing, ledger=tampered)
    assert bad.exit_code == 1
    lines = LISTING_RENDERERS["text"].render(bad).splitlines()
    assert lines[0].startswith("LEDGER NOT TRUSTED: ledger x is tampered") and "\x1b" not in lines[0]
    assert lines[1].startswith("APR-2026-0042")
    assert json.loads(LISTING_RENDERERS["json"].render(bad))["ledger"]["verified"] is False


def test_granted_renderers(ledger: Ledger, legal: Workspace) -> None:
    _approval(ledger, legal)
    granted = Granted.stored(ledger, "APR-2026-0042", "approval")
    lines = GRANTED_RENDERERS["text"].render(granted).splitlines()
    assert lines[0] == "Granted approval APR-2026-0042, signed by Renderer Studio Legal Approver (development)"
    assert lines[1].startswith("  APR-2026-0042") and "    note: for the sky" in lines
    document = json.loads(GRANTED_RENDERERS["json"].render(granted))
    validator("clearances-report").validate(document)
    assert "ledger" not in document and document["records"][0]["id"] == "APR-2026-0042"

    waiver = WaiverGrant(
        "WVR-1", "GP-TRUST-001", PRODUCTION, (SHOT,), (), "vendor re-signs", dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    )
    grant_waiver(ledger, waiver, legal.approver_identity(), default_policy())
    head = GRANTED_RENDERERS["text"].render(Granted.stored(ledger, "WVR-1", "waiver")).splitlines()[0]
    assert head.startswith("Granted waiver WVR-1 of GP-TRUST-001, signed by ")


def test_transfer_renderers(ledger: Ledger, legal: Workspace, tmp_path: Path) -> None:
    _approval(ledger, legal)
    revoke(ledger, "APR-2026-0042", "approval", "withdrawn", legal.approver_identity())
    assert REVOKED_TEXT.render(Revoked("approval", "APR-2026-0042", "withdrawn")) == (
        "Revoked approval APR-2026-0042: withdrawn"
    )
    out = tmp_path / "apr.json"
    assert EXPORTED_TEXT.render(Exported("approval", "APR-2026-0042", out)) == (
        f"Exported approval APR-2026-0042 to {out}"
    )
    bundle = export_bundle(ledger, "APR-2026-0042", "approval")
    with Ledger(tmp_path / "other.sqlite", load_anchors(legal.approver_anchors())) as other:
        added = import_document(other, bundle, "apr.json", legal.approver_identity())
        again = import_document(other, bundle, "apr.json", legal.approver_identity())
    assert IMPORTED_TEXT.render(Imported(tuple(added))) == "Imported APR-2026-0042, APR-2026-0042.revocation"
    assert IMPORTED_TEXT.render(Imported(tuple(again))) == "Already in the ledger; nothing to import"

    listed_at = tmp_path / "rev.json"
    document = export_list(ledger, legal.approver_identity(), dt.timedelta(days=7))
    listed_at.write_text(json.dumps(document))
    exported = ListExported.of(document, listed_at)
    assert (exported.sequence, exported.revocations) == (document["list"]["sequence"], 1)
    assert LIST_EXPORTED_TEXT.render(exported).startswith(
        f"Exported revocation list #{exported.sequence} (1 revocation(s)) to {listed_at}; issued "
    )
    listed = read_list(listed_at, load_anchors(legal.approver_anchors()))
    text = LIST_IMPORTED_TEXT.render(ListImported(listed, tmp_path / "kept.json"))
    assert text.startswith(f"Imported revocation list #{listed.sequence} from {listed.signer} (1 revocation(s))")
    assert text.endswith(f"; kept as {tmp_path / 'kept.json'}")
