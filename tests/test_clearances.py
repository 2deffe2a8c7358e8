"""Signed clearance records, and every way a referenced clearance can fail to clear a GenAI use.

The records are signed with real approver certificates (genai_provenance.trust.pki), kept in a real
SQLite ledger, embedded in media with real C2PA signing, and judged by `verify` and `check`.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import DISCLOSURES, MEDIA, CliResult, IdentityFiles, build_with_c2pa, write_identity
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from genai_provenance.clearances.ledger import Grant, Ledger, grant
from genai_provenance.clearances.records import (
    EXPIRED,
    FORGED,
    ISSUER_UNTRUSTED,
    MISSING,
    NOT_COVERED,
    OUT_OF_SCOPE,
    REVOKED,
    VALID,
    WRONG_KIND,
    UseContext,
    assess,
    authenticate,
    iso,
    load_anchors,
    now_utc,
    parse_expiry,
    sign_record,
)
from genai_provenance.credentials.genai_scan import CLEARANCES_LABEL
from genai_provenance.credentials.identity import load_identity
from genai_provenance.credentials.manifest_definition import build_definition
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.errors import InputError, SchemaError
from genai_provenance.model.disclosure import Disclosure
from genai_provenance.model.vocabulary import ClearanceStatus
from genai_provenance.schemas import validator
from genai_provenance.trust.pki import Issued, create_root, issue_leaf
from genai_provenance.workspace import (
    APPROVER_ANCHORS,
    APPROVER_CHAIN,
    APPROVER_KEY,
    APPROVER_ROOT_CERT,
    APPROVER_ROOT_KEY,
    Workspace,
    init_workspace,
)

PRODUCTION, SHOT = "PRJ-0042", "EP101_SH010"


def approval(record_id: str = "APR-1", **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": record_id,
        "kind": "approval",
        "production": PRODUCTION,
        "scope": {"asset_ids": ["EP101_SH0*"]},
        "covers": ["background-element", "final-deliverable"],
        "expires_at": None,
    }
    record.update(changes)
    return record


def bg_use(approvals: list[str], category: str = "background-element") -> dict[str, Any]:
    return {
        "tool": {"name": "Runway Gen-4", "version": "4.0", "vendor": "Runway"},
        "action": "edited",
        "source_type": "compositeWithTrainedAlgorithmicMedia",
        "category": category,
        "description": "sky replaced",
        "inputs": [{"kind": "own-footage"}],
        "data_handling": {"trains_on_inputs": False, "retains_inputs": False, "enterprise_environment": True},
        "approvals": approvals,
    }


def bg_disclosure(approvals: list[str], *, asset_id: str = SHOT, production: str = PRODUCTION) -> dict[str, Any]:
    """A final background replacement that cites `approvals` (and nothing else)."""
    return {
        "asset": {"title": f"{asset_id}_comp", "production": production, "asset_id": asset_id, "intended_use": "final"},
        "source_type": "digitalCapture",
        "genai": [bg_use(approvals)],
    }


def approver_root(ws: Workspace) -> Issued:
    cert = x509.load_pem_x509_certificate(ws.path(APPROVER_ROOT_CERT).read_bytes())
    key = serialization.load_pem_private_key(ws.path(APPROVER_ROOT_KEY).read_bytes(), password=None)
    return Issued(cert, key)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """This module's own workspace: its ledger is written to, so it is not the session one."""
    return init_workspace(tmp_path_factory.mktemp("clearances") / "ws", "Studio Legal Test").workspace


@pytest.fixture(scope="module")
def anchors(studio: Workspace) -> list[x509.Certificate]:
    return load_anchors(studio.approver_anchors())


# --------------------------------------------------------------------------- signed records


def test_signed_record_is_authentic_and_names_its_issuer(studio: Workspace, anchors: list[x509.Certificate]) -> None:
    envelope = sign_record(approval(), studio.approver_identity())
    validator("clearance").validate(envelope)
    assert envelope["record"]["issuer"]["common_name"] == studio.approver_identity().subject
    assert authenticate(envelope, anchors).status == VALID
    assert "PRIVATE KEY" not in json.dumps(envelope)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("covers",), ["background-element", "final-deliverable", "digital-replica"]),
        (("production",), "PRJ-9999"),
        (("scope", "asset_ids"), ["*"]),
        (("expires_at",), "2099-12-31T23:59:59Z"),
        (("id",), "APR-2"),
        (("kind",), "consent"),
        (("issued_at",), "2020-01-01T00:00:00Z"),
        (("issuer", "common_name"), "Head of Legal"),
    ],
    ids=lambda v: ".".join(v) if isinstance(v, tuple) else None,
)
def test_changing_any_field_breaks_the_signature(
    where: tuple[str, ...], value: Any, studio: Workspace, anchors: list[x509.Certificate]
) -> None:
    envelope = sign_record(approval(), studio.approver_identity())
    forged = copy.deepcopy(envelope)
    target = forged["record"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    result = authenticate(forged, anchors)
    assert result.status == FORGED, result
    assert result.detail  # says why, in words
    assert authenticate(envelope, anchors).status == VALID  # the original is untouched


def test_tampered_signature_block_is_forged(
    studio: Workspace, anchors: list[x509.Certificate], outsider: IdentityFiles
) -> None:
    envelope = sign_record(approval(), studio.approver_identity())
    other = sign_record(approval(), outsider.identity)
    swapped = copy.deepcopy(envelope)
    swapped["signature"]["certificates"] = other["signature"]["certificates"]  # someone else's certificate
    assert authenticate(swapped, anchors).status == FORGED
    garbled = copy.deepcopy(envelope)
    garbled["signature"]["value"] = "A" * 64
    assert authenticate(garbled, anchors).status == FORGED
    for broken in ({"record": envelope["record"]}, {**envelope, "extra": 1}, "not a record", None):
        result = authenticate(broken, anchors)
        assert result.status == FORGED and "malformed" in result.detail


def test_issuer_must_chain_to_an_approver_root(
    studio: Workspace, anchors: list[x509.Certificate], outsider: IdentityFiles
) -> None:
    # Another organisation's root.
    result = authenticate(sign_record(approval(), outsider.identity), anchors)
    assert result.status == ISSUER_UNTRUSTED and "approver roots" in result.detail
    # The media-signing identity is trusted for media, not for approvals: the roots are separate.
    media_signed = sign_record(approval(), studio.identity())
    assert authenticate(media_signed, anchors).status == ISSUER_UNTRUSTED
    media_root = load_anchors(studio.trust_anchors())
    assert authenticate(media_signed, media_root).status == VALID
    assert studio.trust_anchors() != studio.approver_anchors()


def test_an_end_entity_key_cannot_mint_approvers(
    studio: Workspace, anchors: list[x509.Certificate], tmp_path: Path
) -> None:
    """The approver's own key issues a certificate for 'Head of Legal': not under the approver root."""
    approver = Issued(
        studio.approver_identity().certificate,
        serialization.load_pem_private_key(studio.path(APPROVER_KEY).read_bytes(), password=None),  # type: ignore[arg-type]
    )
    minted = issue_leaf(approver, "Head of Legal", "Studio Legal Test")
    chain = tmp_path / "chain.pem"
    chain.write_bytes(minted.cert_pem() + studio.path(APPROVER_CHAIN).read_bytes())
    key = tmp_path / "key.pem"
    key.write_bytes(minted.key_pem())
    envelope = sign_record(approval(), load_identity(chain, key))
    result = authenticate(envelope, anchors)
    assert result.status == ISSUER_UNTRUSTED and "not a CA" in result.detail


def test_record_dated_outside_the_approver_certificate_is_untrusted(
    studio: Workspace, anchors: list[x509.Certificate]
) -> None:
    backdated = sign_record(approval(issued_at="2001-01-01T00:00:00Z"), studio.approver_identity())
    result = authenticate(backdated, anchors)
    assert result.status == ISSUER_UNTRUSTED and "validity" in result.detail


def test_sign_record_refuses_a_record_that_breaks_the_schema(studio: Workspace) -> None:
    with pytest.raises(SchemaError, match=r"covers\[0\]"):
        sign_record(approval(covers=["everything"]), studio.approver_identity())
    with pytest.raises(SchemaError, match="talent"):
        sign_record(approval(kind="consent"), studio.approver_identity())


def ctx(category: str | None = "background-element", asset_id: str = SHOT, **kw: Any) -> UseContext:
    return UseContext(kw.pop("production", PRODUCTION), asset_id, category, **kw)


def test_assess_reports_each_status(
    studio: Workspace, anchors: list[x509.Certificate], outsider: IdentityFiles
) -> None:
    approver = studio.approver_identity()
    good = sign_record(approval(), approver)

    def status(envelope: dict[str, Any] | None, use: UseContext, **kw: Any) -> str:
        return assess("APR-1", kw.pop("kind", "approval"), envelope, use, anchors=anchors, **kw).status

    assert status(good, ctx()) == VALID
    assert status(good, ctx(category=None)) == VALID  # no category to cover: the policy decides
    assert status(None, ctx()) == MISSING
    assert status(sign_record(approval(), outsider.identity), ctx()) == ISSUER_UNTRUSTED
    assert status(good, ctx(asset_id="EP202_SH010")) == OUT_OF_SCOPE
    assert status(good, ctx(production="PRJ-0099")) == OUT_OF_SCOPE
    assert status(good, ctx(category="key-visual")) == NOT_COVERED
    assert status(good, ctx(), kind="consent") == WRONG_KIND
    expired = sign_record(approval(expires_at=iso(now_utc() - dt.timedelta(days=1))), approver)
    assert status(expired, ctx()) == EXPIRED
    assert status(expired, ctx(), at=now_utc() - dt.timedelta(days=2)) == VALID  # judged at a given moment
    revocation = sign_record(
        {"id": "APR-1.revocation", "kind": "revocation", "revokes": "APR-1", "reason": "x"}, approver
    )
    check = assess("APR-1", "approval", good, ctx(), anchors=anchors, revocation=revocation)
    assert check.status == REVOKED and "x" in check.detail
    # A genuine record cited under another ID is not that approval.
    assert assess("APR-7", "approval", good, ctx(), anchors=anchors).status == FORGED


def test_scope_by_exact_content_hash(studio: Workspace, anchors: list[x509.Certificate]) -> None:
    digest = "sha256:" + "ab" * 32
    by_hash = sign_record(approval(scope={"content_hashes": [digest]}), studio.approver_identity())
    assert assess("APR-1", "approval", by_hash, ctx(content_hash=lambda: digest), anchors=anchors).ok
    other = "sha256:" + "cd" * 32
    check = assess("APR-1", "approval", by_hash, ctx(content_hash=lambda: other), anchors=anchors)
    assert check.status == OUT_OF_SCOPE and "(by hash)" in check.detail


def test_parse_expiry() -> None:
    assert parse_expiry("2027-03-31") == dt.datetime(2027, 3, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert parse_expiry("2027-03-31T12:00:00Z").hour == 12
    with pytest.raises(InputError, match="--expires"):
        parse_expiry("next tuesday")


# --------------------------------------------------------------------------- every failure, end to end


@dataclass(frozen=True)
class Case:
    ref: str
    status: str
    rule: str  # the clearance rule that reports it
    severity: str


CASES: dict[str, Case] = {
    "valid": Case("APR-OK", VALID, "", ""),
    "forged": Case("APR-FORGED", FORGED, "GP-CLEARANCE-001", "block"),
    "issuer_other_root": Case("APR-ROGUE", ISSUER_UNTRUSTED, "GP-CLEARANCE-001", "block"),
    "issuer_media_root": Case("APR-SELF", ISSUER_UNTRUSTED, "GP-CLEARANCE-001", "block"),
    "expired": Case("APR-EXPIRED", EXPIRED, "GP-CLEARANCE-002", "warn"),
    "revoked": Case("APR-REVOKED", REVOKED, "GP-CLEARANCE-002", "warn"),
    "other_asset": Case("APR-OTHER-SHOT", OUT_OF_SCOPE, "GP-CLEARANCE-002", "warn"),
    "other_production": Case("APR-OTHER-PROD", OUT_OF_SCOPE, "GP-CLEARANCE-002", "warn"),
    "category_not_covered": Case("APR-NARROW", NOT_COVERED, "GP-CLEARANCE-002", "warn"),
    "missing": Case("APR-UNKNOWN", MISSING, "GP-CLEARANCE-002", "warn"),
    "wrong_kind": Case("CNS-AS-APPROVAL", WRONG_KIND, "GP-CLEARANCE-002", "warn"),
}


@dataclass
class Matrix:
    folder: Path
    sign_output: dict[str, CliResult]
    before_revocation: dict[str, Any]
    verify: dict[str, dict[str, Any]]  # asset reports by case name
    check: dict[str, dict[str, Any]]  # check verdicts by case name
    check_result: CliResult
    check_text: str


def _write(folder: Path, name: str, doc: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def _by_case(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(a["path"]).stem: a for a in doc["assets"]}


@pytest.fixture(scope="module")
def matrix(
    studio: Workspace,
    cli: Callable[..., CliResult],
    outsider: IdentityFiles,
    tmp_path_factory: pytest.TempPathFactory,
) -> Matrix:
    """One signed JPEG per case, each citing one approval; verified and checked in one run each."""
    home = ["--home", studio.home]
    work = tmp_path_factory.mktemp("matrix")
    out = work / "delivery"
    out.mkdir()

    def granted(*args: str) -> None:
        res = cli(*args, *home)
        assert res.code == 0, res.stderr

    bg = "background-element,final-deliverable"
    granted("approvals", "grant", "--id", "APR-OK", "--production", PRODUCTION, "--asset", "EP101_SH0*", "--covers", bg)
    granted(
        "approvals", "grant", "--id", "APR-FORGED", "--production", PRODUCTION, "--asset", SHOT, "--covers", "ideation"
    )
    granted("approvals", "grant", "--id", "APR-REVOKED", "--production", PRODUCTION, "--asset", SHOT, "--covers", bg)
    granted(
        "approvals", "grant", "--id", "APR-OTHER-SHOT", "--production", PRODUCTION, "--asset", "EP202_*", "--covers", bg
    )
    granted("approvals", "grant", "--id", "APR-OTHER-PROD", "--production", "PRJ-0099", "--asset", SHOT, "--covers", bg)
    granted(
        "approvals",
        "grant",
        "--id",
        "APR-NARROW",
        "--production",
        PRODUCTION,
        "--asset",
        SHOT,
        "--covers",
        "key-visual,final-deliverable",
    )
    granted(
        "consents",
        "grant",
        "--id",
        "CNS-AS-APPROVAL",
        "--production",
        PRODUCTION,
        "--asset",
        SHOT,
        "--covers",
        "background-element",
        "--talent",
        "Jane Doe",
        "--talent-id",
        "TAL-0001",
    )

    # Expired: issued last year by an approver whose certificate was valid then, imported through the CLI.
    # The whole chain must be valid when the record was issued, so last year's approver comes from
    # an approver root that already existed then (added to the studio's approver anchors).
    now = now_utc()
    archive_root = create_root(
        "Studio Legal Archive Root CA", "Studio Legal Test", not_before=now - dt.timedelta(days=800)
    )
    with studio.path(APPROVER_ANCHORS).open("ab") as anchors_file:
        anchors_file.write(archive_root.cert_pem())
    lapsed_leaf = issue_leaf(
        archive_root,
        "Studio Legal Approver 2025",
        "Studio Legal Test",
        not_before=now - dt.timedelta(days=400),
    )
    lapsed = write_identity(work / "approver-2025", lapsed_leaf, archive_root)
    expired = sign_record(
        approval(
            "APR-EXPIRED",
            scope={"asset_ids": [SHOT]},
            issued_at=iso(now - dt.timedelta(days=300)),
            expires_at=iso(now - dt.timedelta(days=30)),
        ),
        lapsed.identity,
    )
    granted("approvals", "import", _write(work, "expired.json", expired))

    # Signed through the CLI: the ledger's records are embedded in the media.
    sign_output: dict[str, CliResult] = {}
    plain = ["valid", "expired", "revoked", "other_asset", "other_production", "category_not_covered", "missing"]
    for name in [*plain, "wrong_kind"]:
        disclosure = _write(work, f"{name}.json", bg_disclosure([CASES[name].ref]))
        res = cli("sign", MEDIA / "plate.jpg", "-o", out / f"{name}.jpg", "--disclosure", disclosure, *home)
        assert res.code == 0, res.stderr
        sign_output[name] = res

    # Issuer not under the approver root: records from another root, and from the media-signing root,
    # carried by a ledger that (wrongly) trusts those roots.
    for name, issuer, root_pem in [
        ("issuer_other_root", outsider.identity, outsider.root_pem.read_text()),
        ("issuer_media_root", studio.identity(), studio.trust_anchors()),
    ]:
        with Ledger(work / f"{name}.sqlite", load_anchors(root_pem)) as rogue:
            grant(rogue, Grant("approval", CASES[name].ref, PRODUCTION, [SHOT], bg.split(",")), issuer)
            sign_asset(
                SignRequest(
                    MEDIA / "plate.jpg",
                    out / f"{name}.jpg",
                    _write(work, f"{name}.json", bg_disclosure([CASES[name].ref])),
                    studio.identity(),
                    TrustSettings(studio.trust_anchors()),
                    ledger=rogue,
                )
            )

    # Forged: a genuine approval for ideation, edited to cover the background element, embedded by
    # a tool that signs the media with a trusted identity.
    exported = work / "apr-forged.json"
    granted("approvals", "export", "APR-FORGED", "-o", exported)
    forged = json.loads(exported.read_text())["records"][0]
    forged["record"]["covers"] = ["background-element", "final-deliverable"]
    definition = build_definition(Disclosure.parse(bg_disclosure(["APR-FORGED"])), title="forged.jpg", has_parent=False)
    definition["assertions"].append({"label": CLEARANCES_LABEL, "data": {"records": [forged]}, "created": True})
    build_with_c2pa(definition, MEDIA / "plate.jpg", out / "forged.jpg", studio.identity())

    # Revoked after the asset was signed: it passes first, then the ledger revokes it.
    before = cli("check", out / "revoked.jpg", "--format", "json", *home)
    assert before.code == 0, before.stdout
    granted("approvals", "revoke", "APR-REVOKED", "--reason", "talent withdrew the location release")

    verify = cli("verify", out, "--format", "json", *home)
    check = cli("check", out, "--format", "json", *home)
    text = cli("check", out, *home)
    assert verify.code == 0, verify.stdout  # every file is intact and trusted: clearances are policy's job
    validator("verify-report").validate(verify.json())
    validator("check-report").validate(check.json())
    return Matrix(out, sign_output, before.json(), _by_case(verify.json()), _by_case(check.json()), check, text.stdout)


def test_matrix_covers_every_failure_status() -> None:
    assert {c.status for c in CASES.values()} == set(ClearanceStatus)


@pytest.mark.parametrize("name", sorted(CASES))
def test_verify_reports_the_clearance_status(name: str, matrix: Matrix) -> None:
    case = CASES[name]
    report = matrix.verify[name]
    assert report["status"] == "trusted"
    [check] = report["clearances"]
    assert (check["id"], check["kind"], check["status"]) == (case.ref, "approval", case.status), check
    assert check["category"] == "background-element"
    assert check["detail"]
    assert check["manifest"] == report["active_manifest"] and check["use"] == 0
    assert check["source"] == (None if case.status == MISSING else "embedded")


@pytest.mark.parametrize("name", sorted(set(CASES) - {"valid"}))
def test_check_turns_each_failure_into_a_finding(name: str, matrix: Matrix) -> None:
    case = CASES[name]
    verdict = matrix.check[name]
    assert verdict["blocked"] is True
    [finding] = [f for f in verdict["findings"] if f["rule_id"] == case.rule]
    assert finding["severity"] == case.severity
    assert finding["evidence"]["clearances"] == [
        {
            "id": case.ref,
            "kind": "approval",
            "status": case.status,
            "detail": finding["evidence"]["clearances"][0]["detail"],
        }
    ]
    assert finding["evidence"]["manifest"] == verdict["verification"]["active_manifest"]
    assert SHOT in finding["remedy"]
    # A clearance that does not hold clears nothing: the final-deliverable rule blocks, naming what is missing.
    [final] = [f for f in verdict["findings"] if f["rule_id"] == "GP-FINAL-001"]
    assert final["severity"] == "block"
    assert final["needs"] == ["an approval covering final-deliverable, background-element"]
    assert verdict["cleared"] == []


def test_valid_approval_clears_the_use(matrix: Matrix) -> None:
    verdict = matrix.check["valid"]
    assert verdict["blocked"] is False and verdict["findings"] == []
    assert {(c["rule_id"], tuple(c["clearances"])) for c in verdict["cleared"]} == {
        ("GP-FINAL-001", ("APR-OK",)),
        ("GP-BACKGROUND-001", ("APR-OK",)),
    }
    assert "embedded signed clearances: APR-OK" in matrix.sign_output["valid"].stdout


def test_forged_record_in_media_is_named(matrix: Matrix) -> None:
    [check] = matrix.verify["forged"]["clearances"]
    assert "altered" in check["detail"]
    # The genuine ledger copy covers only ideation; the embedded copy claims more and is not believed.
    assert check["covers"] == ["background-element", "final-deliverable"]


def test_issuer_untrusted_names_the_root(matrix: Matrix) -> None:
    other = matrix.verify["issuer_other_root"]["clearances"][0]
    assert "Elsewhere Root CA" in other["detail"] and "approver roots" in other["detail"]
    media = matrix.verify["issuer_media_root"]["clearances"][0]
    assert "Development Root CA" in media["detail"]


def test_revocation_after_signing_blocks_despite_the_embedded_copy(matrix: Matrix) -> None:
    before = matrix.before_revocation["assets"][0]
    assert before["blocked"] is False
    assert [c["status"] for c in before["verification"]["clearances"]] == [VALID]
    [check] = matrix.verify["revoked"]["clearances"]
    assert check["source"] == "embedded"  # the copy in the file still looks fine on its own ...
    assert check["status"] == REVOKED  # ... but the ledger's signed revocation wins
    assert "talent withdrew the location release" in check["detail"]


def test_sign_warns_about_records_it_cannot_vouch_for(matrix: Matrix) -> None:
    assert "APR-UNKNOWN is not in the ledger" in matrix.sign_output["missing"].stdout
    assert "APR-EXPIRED is expired in the ledger" in matrix.sign_output["expired"].stdout
    assert "embedded signed clearances" not in matrix.sign_output["missing"].stdout


def test_check_of_the_folder_exits_1_and_explains_in_text(matrix: Matrix) -> None:
    assert matrix.check_result.code == 1
    summary = matrix.check_result.json()["summary"]
    assert summary["assets"] == len(CASES)
    assert (summary["passed"], summary["blocked"]) == (1, len(CASES) - 1)
    assert summary["cleared"] == 2
    for name, case in CASES.items():
        if case.status != VALID:
            assert f"approval {case.ref}: {case.status} (" in matrix.check_text, name
    assert "CLEARED GP-FINAL-001 by APR-OK" in matrix.check_text
    assert matrix.check_text.count("BLOCKED") == len(CASES) - 1


def test_embedded_records_are_checked_without_the_ledger(
    matrix: Matrix, studio: Workspace, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """QC with only the approver root: embedded records are judged; a revocation cannot be known."""
    args = ["--home", tmp_path / "no-workspace", "--trust", studio.path("trust/anchors.pem")]
    args += ["--approver-trust", studio.path(APPROVER_ANCHORS), "--format", "json"]
    doc = cli("verify", matrix.folder, *args).json()
    by_case = {name: report["clearances"][0] for name, report in _by_case(doc).items()}
    assert by_case["valid"]["status"] == VALID and "no ledger available" in by_case["valid"]["detail"]
    assert by_case["revoked"]["status"] == VALID  # the revocation lives only in the ledger
    assert by_case["forged"]["status"] == FORGED
    assert by_case["issuer_other_root"]["status"] == ISSUER_UNTRUSTED
    assert by_case["expired"]["status"] == EXPIRED
    assert by_case["wrong_kind"]["status"] == WRONG_KIND
    assert {c["source"] for c in by_case.values() if c["status"] != MISSING} == {"embedded"}


def test_expired_record_is_listed_as_expired(matrix: Matrix, studio: Workspace, cli: Callable[..., CliResult]) -> None:
    res = cli("approvals", "show", "APR-EXPIRED", "--home", studio.home, "--format", "json")
    validator("clearances-report").validate(res.json())
    [entry] = res.json()["records"]
    assert entry["state"] == "expired" and entry["issuer"]["common_name"] == "Studio Legal Approver 2025"
    states = {
        r["id"]: r["state"]
        for r in cli("approvals", "list", "--home", studio.home, "--format", "json").json()["records"]
    }
    assert (states["APR-OK"], states["APR-REVOKED"], states["APR-EXPIRED"]) == ("active", "revoked", "expired")


def test_an_approval_limited_to_one_file_does_not_clear_another_declaring_the_same_asset_id(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """Attack: legal approves exactly one delivered file (`--content-hash`); a vendor signs another
    shot that declares the same asset ID and cites the same approval. The declared ID is a label the
    vendor chose, so it must not widen an approval legal limited to those bytes."""
    ws = init_workspace(tmp_path / "ws", "Scope Studio").workspace
    home = ["--home", ws.home]
    doc = json.loads((DISCLOSURES / "bg_replace.json").read_text())
    doc["genai"][0]["approvals"], doc["genai"][0]["consents"] = ["APR-EXACT"], []
    cites = tmp_path / "disclosure.json"
    cites.write_text(json.dumps(doc))
    approved, other = tmp_path / "approved.jpg", tmp_path / "laundered.png"
    for source, out in ((MEDIA / "plate.jpg", approved), (MEDIA / "plate.png", other)):
        res = cli("sign", source, "-o", out, "--disclosure", cites, *home)
        assert res.code == 0, res.stderr
    digest = "sha256:" + hashlib.sha256(approved.read_bytes()).hexdigest()
    res = cli(
        "approvals", "grant", "--id", "APR-EXACT", "--production", doc["asset"]["production"],
        "--asset", doc["asset"]["asset_id"], "--content-hash", digest,
        "--covers", "background-element,final-deliverable", *home,
    )  # fmt: skip
    assert res.code == 0, res.stderr

    def clearance(path: Path) -> tuple[int, dict[str, Any]]:
        res = cli("check", path, "--format", "json", *home)
        assert res.code in (0, 1), res.stderr
        validator("check-report").validate(res.json())
        [check] = res.json()["assets"][0]["verification"]["clearances"]
        return res.code, check

    code, check = clearance(other)
    assert code == 1 and check["status"] == "out-of-scope", check
    assert check.get("matched_by") is None
    code, check = clearance(approved)
    assert code == 0 and check["status"] == "valid" and check["matched_by"] == "content-hash", check
