"""`check`: verification plus clearances plus policy, on real signed media.

Covers approvals carried in an earlier pipeline stage (also with no ledger at all), talent consent,
notify-only ideation, GenAI hidden in a third-party ingredient, the intended-use override and exit codes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import DISCLOSURES, ERROR_PREFIX, IPTC, MEDIA, CliResult, IdentityFiles, needs_ffmpeg

from genai_provenance.clearances.records import load_anchors
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.demo import flip_payload_byte
from genai_provenance.gate.check import (
    INTENDED_ASSUMED,
    INTENDED_DECLARED,
    INTENDED_OVERRIDE,
    CheckConfig,
    CheckSettings,
    ClearanceSource,
    check_paths,
)
from genai_provenance.gate.pool import check_many
from genai_provenance.policy.rules import default_policy
from genai_provenance.schemas import validator
from genai_provenance.workspace import APPROVER_ANCHORS, TRUST_ANCHORS, Workspace, init_workspace

DATA = Path(__file__).resolve().parent / "data"
Run = Callable[..., CliResult]
PRODUCTION = "PRJ-0042"


@dataclass
class Shop:
    """A post house's workspace with a ledger, and the media it signed."""

    ws: Workspace
    files: dict[str, Path]
    sign_output: dict[str, CliResult]

    @property
    def home(self) -> list[Any]:
        return ["--home", self.ws.home]


def checked(cli: Run, *args: Any) -> tuple[int, dict[str, Any]]:
    """Run `check --format json`, validate the report against its schema, return (exit code, report)."""
    res = cli("check", *args, "--format", "json")
    assert res.code in (0, 1), res.stderr
    doc = res.json()
    validator("check-report").validate(doc)
    return res.code, doc


def only(doc: dict[str, Any]) -> dict[str, Any]:
    [verdict] = doc["assets"]
    return verdict


def findings(verdict: dict[str, Any]) -> dict[str, str]:
    return {f["rule_id"]: f["severity"] for f in verdict["findings"]}


def cleared(verdict: dict[str, Any]) -> dict[str, list[str]]:
    return {c["rule_id"]: c["clearances"] for c in verdict["cleared"]}


def third_party_genai(source: Path, out: Path, identity: IdentityFiles) -> Path:
    """An image made by another company's generator, its manifest written directly with c2pa."""
    definition = {
        "claim_generator_info": [{"name": "DALL·E", "version": "3"}],
        "title": "generated.jpg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "softwareAgent": "DALL·E",
                            "digitalSourceType": IPTC + "trainedAlgorithmicMedia",
                        }
                    ]
                },
            }
        ],
    }
    builder = c2pa.Builder(definition, context=TrustSettings().context())
    with builder, open(source, "rb") as src, open(out, "w+b") as dst:
        builder.sign(identity.identity.signer(), "image/jpeg", src, dst)
    return out


@pytest.fixture(scope="module")
def shop(cli: Run, outsider: IdentityFiles, tmp_path_factory: pytest.TempPathFactory) -> Shop:
    ws = init_workspace(tmp_path_factory.mktemp("check") / "ws", "Northlight Post").workspace
    home = ["--home", ws.home]
    for args in (
        [
            "approvals",
            "grant",
            "--id",
            "APR-2026-0042",
            "--asset",
            "EP101_SH0*",
            "--covers",
            "background-element,final-deliverable",
        ],
        [
            "approvals",
            "grant",
            "--id",
            "APR-REPLICA-0001",
            "--asset",
            "EP101_SH020",
            "--covers",
            "digital-replica,final-deliverable",
        ],
        [
            "consents",
            "grant",
            "--id",
            "CNS-REPLICA-0001",
            "--asset",
            "EP101_SH020",
            "--covers",
            "digital-replica",
            "--talent",
            "Jane Doe",
            "--talent-id",
            "TAL-0001",
            "--guild-ref",
            "SAG-AFTRA TV/Theatrical 2023",
        ],
    ):
        res = cli(*args, "--production", PRODUCTION, *home)
        assert res.code == 0, res.stderr

    out = tmp_path_factory.mktemp("signed")
    files: dict[str, Path] = {}
    sign_output: dict[str, CliResult] = {}

    def sign(name: str, source: Path, disclosure: Path, *extra: Any) -> None:
        files[name] = out / f"{name}{source.suffix}"
        res = cli("sign", source, "-o", files[name], "--disclosure", disclosure, *extra, *home)
        assert res.code == 0, res.stderr
        sign_output[name] = res

    sign("comp", MEDIA / "comp.mp4", DATA / "comp_bg_approved.json")
    sign("grade", MEDIA / "plate.mp4", DATA / "grade.json", "--parent", files["comp"])
    sign("replica_no_consent", MEDIA / "plate.jpg", DATA / "replica_no_consent.yaml")
    sign("replica_with_consent", MEDIA / "plate.jpg", DATA / "replica_with_consent.yaml")
    sign("moodboard", MEDIA / "plate.png", DISCLOSURES / "moodboard.yaml")
    sign("ideation_final", MEDIA / "plate.png", DATA / "ideation_final.json")
    files["dalle"] = third_party_genai(MEDIA / "plate.jpg", out / "dalle.jpg", outsider)
    sign("final_with_ingredient", MEDIA / "plate.jpg", DISCLOSURES / "plate.json", "--ingredient", files["dalle"])
    sign("final_with_parent", MEDIA / "plate.jpg", DISCLOSURES / "plate.json", "--parent", files["dalle"])
    return Shop(ws, files, sign_output)


# --------------------------------------------------------------------------- approval in an ingredient stage


def test_sign_json_lists_the_clearances_it_embedded(shop: Shop, cli: Run, tmp_path: Path) -> None:
    """`sign --format json` names the signed records it embedded, as the text does."""
    out = tmp_path / "comp.mp4"
    res = cli("sign", MEDIA / "comp.mp4", "-o", out, "--disclosure", DATA / "comp_bg_approved.json", *shop.home,
              "--format", "json")  # fmt: skip
    assert res.code == 0, res.stderr
    doc = res.json()
    validator("sign-report").validate(doc)
    assert doc["embedded_clearances"] == ["APR-2026-0042"]
    res = cli("sign", MEDIA / "plate.jpg", "-o", tmp_path / "plate.jpg", "--disclosure", DISCLOSURES / "plate.json",
              *shop.home, "--format", "json")  # fmt: skip
    assert res.code == 0, res.stderr
    assert res.json()["embedded_clearances"] == []


def test_grade_clears_genai_of_the_comp_stage_with_the_embedded_approval(shop: Shop, cli: Run) -> None:
    assert "embedded signed clearances: APR-2026-0042" in shop.sign_output["comp"].stdout
    assert "embedded signed clearances" not in shop.sign_output["grade"].stdout  # the grade cites nothing itself
    code, doc = checked(cli, shop.files["grade"], *shop.home)
    assert code == 0
    verdict = only(doc)
    report = verdict["verification"]
    assert verdict["status"] == "trusted" and verdict["genai"] is True and verdict["blocked"] is False
    assert (verdict["intended_use"], verdict["intended_use_source"]) == ("final", INTENDED_DECLARED)
    comp_stage = next(m for m in report["manifests"] if m["label"] != report["active_manifest"])
    assert comp_stage["clearance_ids"] == ["APR-2026-0042"] and comp_stage["title"] == "comp.mp4"
    assert [u["manifest"] for u in report["genai_uses"]] == [comp_stage["label"]]  # the grade itself is not GenAI
    assert cleared(verdict) == {"GP-FINAL-001": ["APR-2026-0042"], "GP-BACKGROUND-001": ["APR-2026-0042"]}
    for item in verdict["cleared"]:
        assert item["evidence"]["manifest"] == comp_stage["label"] and item["evidence"]["stage"] == "comp.mp4"
    [check] = report["clearances"]
    assert (check["status"], check["source"], check["manifest"]) == ("valid", "embedded", comp_stage["label"])
    assert verdict["findings"] == []


def test_embedded_approval_is_checked_with_no_ledger_present(shop: Shop, cli_process: Run, tmp_path: Path) -> None:
    """A QC desk with a copy of the approver root and nothing else: no workspace, no ledger."""
    qc = tmp_path / "qc"
    qc.mkdir()
    trust, approvers = qc / "media-anchors.pem", qc / "approver-anchors.pem"
    shutil.copy(shop.ws.path(TRUST_ANCHORS), trust)
    shutil.copy(shop.ws.path(APPROVER_ANCHORS), approvers)
    delivery = qc / "EP101_SH010_grade.mp4"
    shutil.copy(shop.files["grade"], delivery)
    env = {"GENAI_PROVENANCE_HOME": str(qc / "fresh-home")}

    # Revocation cannot be checked there: the embedded approval does not clear a final deliverable.
    res = cli_process("check", delivery, "--trust", trust, "--approver-trust", approvers, "--format", "json", env=env)
    assert res.code == 1, res.stdout + res.stderr
    validator("check-report").validate(res.json())
    verdict = only(res.json())
    assert findings(verdict) == {"GP-REVOCATION-001": "block"}
    [check] = verdict["verification"]["clearances"]
    assert check["source"] == "embedded" and "revocation not checked: no ledger available" in check["detail"]
    assert check["revocation_checked"] is False
    # With a fresh signed revocation list from studio legal, it does.
    listed = qc / "revocations.json"
    assert cli_process("revocations", "export", "-o", listed, "--home", shop.ws.home).code == 0
    res = cli_process(
        "check", delivery, "--trust", trust, "--approver-trust", approvers, "--revocations", listed,
        "--format", "json", env=env,
    )  # fmt: skip
    assert res.code == 0, res.stdout + res.stderr
    verdict = only(res.json())
    assert cleared(verdict) == {"GP-FINAL-001": ["APR-2026-0042"], "GP-BACKGROUND-001": ["APR-2026-0042"]}
    [check] = verdict["verification"]["clearances"]
    assert check["revocation_checked"] is True and check["revocation_source"].startswith(f"list:{listed} #")
    assert "not revoked as of" in check["detail"]
    assert not (qc / "fresh-home").exists()  # nothing was created to get there

    # Without the approver root the same record cannot be trusted, and the gate blocks.
    res = cli_process("check", delivery, "--trust", trust, "--format", "json", env=env)
    assert res.code == 1
    verdict = only(res.json())
    assert verdict["verification"]["clearances"][0]["status"] == "issuer-untrusted"
    assert findings(verdict)["GP-CLEARANCE-001"] == "block"


def test_revoking_the_comp_approval_blocks_the_grade(shop: Shop, cli: Run, tmp_path: Path) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(shop.ws.home, copy)  # keep the module's workspace as it was
    assert cli("approvals", "revoke", "APR-2026-0042", "--reason", "sky shot replaced", "--home", copy).code == 0
    code, doc = checked(cli, shop.files["grade"], "--home", copy)
    assert code == 1
    verdict = only(doc)
    assert verdict["verification"]["clearances"][0]["status"] == "revoked"
    assert findings(verdict) == {"GP-FINAL-001": "block", "GP-BACKGROUND-001": "block", "GP-CLEARANCE-002": "warn"}


def test_library_check_without_a_ledger(shop: Shop) -> None:
    settings = CheckSettings(
        TrustSettings(shop.ws.trust_anchors()),
        default_policy(),
        ClearanceSource(load_anchors(shop.ws.approver_anchors()), ledger=None),
    )
    [verdict] = check_paths([shop.files["grade"]], settings)
    assert [c.rule_id for c in verdict.evaluation.cleared] == ["GP-FINAL-001", "GP-BACKGROUND-001"]
    # ... but with no ledger nobody can say it was not revoked: a final deliverable fails closed.
    assert verdict.blocked and [f.rule_id for f in verdict.evaluation.findings] == ["GP-REVOCATION-001"]
    config = CheckConfig(shop.ws.trust_anchors(), shop.ws.approver_anchors(), str(shop.ws.ledger_path), None)
    [again] = check_many([(shop.files["grade"], "grade.mp4")], config)
    assert again.report.path == "grade.mp4" and not again.blocked


# --------------------------------------------------------------------------- talent consent


def test_digital_replica_without_consent_blocks(shop: Shop, cli: Run) -> None:
    code, doc = checked(cli, shop.files["replica_no_consent"], *shop.home)
    assert code == 1
    verdict = only(doc)
    assert findings(verdict) == {"GP-TALENT-001": "block", "GP-TALENT-003": "block"}
    for finding in verdict["findings"]:
        assert finding["needs"] == ["a consent covering digital-replica"] and finding["principle"] == 5
        assert "Record the performer's consent (a consent covering digital-replica" in finding["remedy"]
    # The approval alone clears what approvals can clear.
    assert cleared(verdict) == {"GP-FINAL-001": ["APR-REPLICA-0001"], "GP-TALENT-002": ["APR-REPLICA-0001"]}


def test_digital_replica_with_consent_and_approval_passes(shop: Shop, cli: Run) -> None:
    assert "APR-REPLICA-0001, CNS-REPLICA-0001" in shop.sign_output["replica_with_consent"].stdout
    code, doc = checked(cli, shop.files["replica_with_consent"], *shop.home)
    assert code == 0
    verdict = only(doc)
    assert verdict["findings"] == []
    assert cleared(verdict) == {
        "GP-FINAL-001": ["APR-REPLICA-0001"],
        "GP-TALENT-001": ["CNS-REPLICA-0001"],
        "GP-TALENT-002": ["APR-REPLICA-0001"],
        "GP-TALENT-003": ["CNS-REPLICA-0001"],
    }
    consent = next(c for c in verdict["verification"]["clearances"] if c["kind"] == "consent")
    assert consent["talent"] == {"name": "Jane Doe", "id": "TAL-0001"} and consent["status"] == "valid"
    assert doc["summary"]["cleared"] == 4


# --------------------------------------------------------------------------- notify-only ideation


def test_temporary_ideation_passes_as_notify_only(shop: Shop, cli: Run) -> None:
    code, doc = checked(cli, shop.files["moodboard"], *shop.home)
    assert code == 0
    verdict = only(doc)
    assert (verdict["intended_use"], verdict["intended_use_source"]) == ("temporary", INTENDED_DECLARED)
    assert findings(verdict) == {"GP-NOTIFY-001": "notify"} and verdict["blocked"] is False
    assert doc["summary"]["notices"] == 1 and doc["summary"]["block_findings"] == 0
    text = cli("check", shop.files["moodboard"], *shop.home)
    assert text.code == 0
    assert "PASSES POLICY" in text.stdout and "NOTIFY GP-NOTIFY-001, principle 4" in text.stdout
    assert "0 blocking, 0 warnings, 1 notice;" in text.stdout


# --------------------------------------------------------------------------- third-party GenAI


@pytest.mark.parametrize("name", ["final_with_ingredient", "final_with_parent"])
def test_genai_only_in_a_third_party_ingredient_blocks_a_final_deliverable(name: str, shop: Shop, cli: Run) -> None:
    code, doc = checked(cli, shop.files[name], *shop.home)
    assert code == 1
    verdict = only(doc)
    report = verdict["verification"]
    assert verdict["status"] == "trusted"  # our signature is fine: it is the history that is not cleared
    assert report["disclosures"][0]["disclosure"].get("genai") is None  # we declared no GenAI
    assert findings(verdict) == {"GP-UNDECLARED-001": "block"}
    [finding] = verdict["findings"]
    assert finding["evidence"]["tool"] == "DALL·E"
    assert finding["evidence"]["manifest"] != report["active_manifest"]
    assert [i["genai"] for i in report["ingredients"]] == [True]
    assert "DALL·E" in finding["remedy"]
    # Kept as temporary material, the same file only warns.
    code, doc = checked(cli, shop.files[name], "--intended-use", "temporary", *shop.home)
    assert code == 0 and findings(only(doc)) == {"GP-UNDECLARED-002": "warn"}


# --------------------------------------------------------------------------- intended use and exit codes


def test_intended_use_override(shop: Shop, cli: Run) -> None:
    code, doc = checked(cli, shop.files["ideation_final"], *shop.home)
    assert code == 1
    verdict = only(doc)
    assert (verdict["intended_use"], verdict["intended_use_source"]) == ("final", INTENDED_DECLARED)
    assert findings(verdict) == {"GP-FINAL-001": "block"}

    code, doc = checked(cli, shop.files["ideation_final"], "--intended-use", "temporary", *shop.home)
    assert code == 0
    verdict = only(doc)
    assert (verdict["intended_use"], verdict["intended_use_source"]) == ("temporary", INTENDED_OVERRIDE)
    assert findings(verdict) == {"GP-NOTIFY-001": "notify"}
    # And the other way round: temporary material judged as a final deliverable.
    code, doc = checked(cli, shop.files["moodboard"], "--intended-use", "final", *shop.home)
    assert code == 1 and "GP-FINAL-001" in findings(only(doc))


def test_unsigned_file_is_judged_as_the_policy_assumes(shop: Shop, cli: Run) -> None:
    code, doc = checked(cli, MEDIA / "plate.jpg", *shop.home)
    assert code == 1
    verdict = only(doc)
    assert verdict["status"] == "no-credentials" and verdict["genai"] is False
    assert (verdict["intended_use"], verdict["intended_use_source"]) == ("final", INTENDED_ASSUMED)
    assert findings(verdict) == {"GP-TRUST-001": "block"}
    assert verdict["findings"][0]["evidence"] == {"asset": str(MEDIA / "plate.jpg"), "status": "no-credentials"}


@needs_ffmpeg()
def test_tampered_stage_blocks_on_integrity(shop: Shop, cli: Run, tmp_path: Path) -> None:
    tampered = tmp_path / "grade.mp4"
    flip_payload_byte(shop.files["grade"], tampered)
    code, doc = checked(cli, tampered, *shop.home)
    assert code == 1
    verdict = only(doc)
    assert verdict["status"] == "invalid" and findings(verdict)["GP-INTEGRITY-001"] == "block"


def test_folder_summary_and_exit_codes(shop: Shop, cli: Run, tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for name in ("grade", "moodboard", "replica_with_consent", "replica_no_consent"):
        shutil.copy(shop.files[name], folder / shop.files[name].name)
    code, doc = checked(cli, folder, *shop.home)
    assert code == 1
    assert {Path(a["path"]).name: a["blocked"] for a in doc["assets"]} == {
        "grade.mp4": False,
        "moodboard.png": False,
        "replica_with_consent.jpg": False,
        "replica_no_consent.jpg": True,
    }
    assert doc["summary"] == {
        "assets": 4,
        "blocked": 1,
        "passed": 3,
        "block_findings": 2,
        "warnings": 0,
        "notices": 1,
        "cleared": 8,
        "waived": 0,
    }
    (folder / "replica_no_consent.jpg").unlink()
    assert checked(cli, folder, *shop.home)[0] == 0

    for args in (
        [tmp_path / "absent.mp4"],
        [tmp_path / "empty-folder"],
        [folder, "--policy", tmp_path / "absent.yaml"],
        [folder, "--intended-use", "forever"],
        [folder, "--approver-trust", MEDIA / "plate.jpg"],
    ):
        (tmp_path / "empty-folder").mkdir(exist_ok=True)
        res = cli("check", *args, *shop.home)
        assert res.code == 2, (args, res.stdout)
        assert len(res.error_lines) == 1 and res.stderr.startswith(ERROR_PREFIX), res.stderr
