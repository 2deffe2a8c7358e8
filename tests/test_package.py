"""The final-deliverable gate, end to end: `package` and `verify-package` on real signed media.

Everything is real: a workspace with its own roots, C2PA signing through c2pa-python, a third-party
GenAI manifest built straight with c2pa.Builder, the SQLite approval ledger, BagIt bags on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CLI_COMMAND,
    ERROR_PREFIX,
    IPTC,
    MEDIA,
    PRIVATE_KEY_MARK,
    CliResult,
    build_with_c2pa,
    run_on_terminal,
    write_identity,
)
from payload import flipped_copy

from genai_provenance.clearances.ledger import Ledger
from genai_provenance.clearances.records import load_anchors
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.schemas import validate
from genai_provenance.trust.detached import chain_problem, verify_bytes
from genai_provenance.trust.pki import create_root, issue_leaf
from genai_provenance.workspace import Workspace, init_workspace

PRODUCTION = "PRJ-0042"
ORGANISATION = "Gate Test Post House"

PLATE = "EP101/SH010/EP101_SH010_plate_v001.mp4"
APPROVED = "EP101/SH010/EP101_SH010_comp_v003.mp4"
UNAPPROVED = "EP101/SH020/EP101_SH020_comp_v002.mp4"
THIRD_PARTY = "EP101/SH030/EP101_SH030_titlecard_v001.jpg"
UNSIGNED = "EP101/SH040/EP101_SH040_still_v001.png"
TAMPERED = "EP101/SH050/EP101_SH050_plate_v001.mp4"
REVOKED = "EP101/SH060/EP101_SH060_comp_v001.mp4"
MIXED = (PLATE, APPROVED, UNAPPROVED, THIRD_PARTY, UNSIGNED, TAMPERED, REVOKED)

APPROVAL_OK, APPROVAL_LATER, APPROVAL_REVOKED = "APR-2026-0101", "APR-2026-0120", "APR-2026-0160"

EXPECTED_BLOCKS = {
    (UNAPPROVED, "GP-FINAL-001"),
    (UNAPPROVED, "GP-BACKGROUND-001"),
    (THIRD_PARTY, "GP-UNDECLARED-001"),
    (UNSIGNED, "GP-TRUST-001"),
    (TAMPERED, "GP-INTEGRITY-001"),
    (REVOKED, "GP-FINAL-001"),
    (REVOKED, "GP-BACKGROUND-001"),
}

Cli = Callable[..., CliResult]


# --------------------------------------------------------------------------- helpers


def tree(folder: Path) -> dict[str, str]:
    """Every entry under `folder`: files by SHA-256, size and mtime; folders and links marked."""
    out: dict[str, str] = {}
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(base) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                out[rel] = f"link:{os.readlink(path)}"
            elif path.is_dir():
                out[rel] = "dir"
            else:
                stat = path.stat()
                out[rel] = f"{hashlib.sha256(path.read_bytes()).hexdigest()}:{stat.st_size}:{stat.st_mtime_ns}"
    return out


def disclosure_doc(asset_id: str, approvals: list[str] | None = None) -> dict[str, Any]:
    """A plate disclosure, or a GenAI background-element comp that lists `approvals`."""
    doc: dict[str, Any] = {
        "asset": {"title": f"{asset_id}_v001", "production": PRODUCTION, "asset_id": asset_id, "intended_use": "final"},
        "source_type": "digitalCapture",
    }
    if approvals is not None:
        doc["genai"] = [
            {
                "tool": {"name": "Runway Gen-4", "version": "4.0", "vendor": "Runway"},
                "model": "gen4-turbo",
                "action": "edited",
                "source_type": "compositeWithTrainedAlgorithmicMedia",
                "category": "background-element",
                "description": "sky replaced",
                "inputs": [{"kind": "own-footage", "ref": f"{asset_id}_plate_v001"}],
                "data_handling": {"trains_on_inputs": False, "retains_inputs": False, "enterprise_environment": True},
                "approvals": approvals,
            }
        ]
    return doc


def blocking_pairs(doc: dict[str, Any]) -> set[tuple[str, str]]:
    pairs = {(a["path"], f["rule_id"]) for a in doc["assets"] for f in a["findings"] if f["severity"] == "block"}
    return pairs | {(s["path"], f["rule_id"]) for s in doc["stray"] for f in s["findings"]}


def one_error_line(res: CliResult, *phrases: str) -> str:
    assert res.code == 2, (res.code, res.stdout, res.stderr)
    [line] = res.error_lines
    assert line.startswith(ERROR_PREFIX), line
    for phrase in phrases:
        assert phrase in line, line
    return line


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def bag_lines(path: Path) -> dict[str, str]:
    """A BagIt manifest as {file: digest}."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        out[name] = digest
    return out


def payload_of(bag: Path) -> list[str]:
    """The payload files of a bag, relative to data/."""
    return sorted(p.relative_to(bag / "data").as_posix() for p in (bag / "data").rglob("*") if p.is_file())


def digest(path: Path, alg: str) -> str:
    return hashlib.new(alg, path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- the studio


@dataclass
class Studio:
    """A workspace, a ledger with approvals, and a kit of signed (and broken) deliverables."""

    workspace: Workspace
    kit: Path  # files under their deliverable paths
    spare_plate: Path  # an intact, signed replacement for the tampered plate
    base: Path

    @property
    def home(self) -> Path:
        return self.workspace.home

    def source(self, folder: Path, names: tuple[str, ...] | list[str] = MIXED) -> Path:
        """A deliverable folder holding copies of the named kit files."""
        for rel in names:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.kit / rel, folder / rel)
        return folder

    def home_copy(self, folder: Path) -> Path:
        """A private copy of the workspace (for tests that change the ledger)."""
        shutil.copytree(self.home, folder)
        return folder


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, cli: Cli) -> Studio:
    base = tmp_path_factory.mktemp("gate")
    ws = init_workspace(base / "ws", ORGANISATION).workspace
    home = ["--home", ws.home]
    for approval, asset in ((APPROVAL_OK, "EP101_SH010"), (APPROVAL_REVOKED, "EP101_SH060")):
        res = cli("approvals", "grant", "--id", approval, "--production", PRODUCTION, "--asset", asset, "--covers",
                  "background-element,final-deliverable", *home)  # fmt: skip
        assert res.code == 0, res.stderr
    trust = TrustSettings(ws.trust_anchors())
    kit = base / "kit"

    def sign(
        src: Path, rel: str, doc: dict[str, Any], parent: Path | None = None, embeds: tuple[str, ...] = ()
    ) -> Path:
        out = kit / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        spec = base / f"{out.stem}.json"
        spec.write_text(json.dumps(doc), encoding="utf-8")
        with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
            result = sign_asset(SignRequest(src, out, spec, ws.identity(), trust, parent=parent, ledger=ledger))
        assert result.report.status == "trusted", result.report.failures
        assert tuple(result.embedded_clearances) == embeds  # granted before signing: carried in the manifest
        return out

    plate = sign(MEDIA / "plate.mp4", PLATE, disclosure_doc("EP101_SH010"))
    sign(
        MEDIA / "comp.mp4", APPROVED, disclosure_doc("EP101_SH010", [APPROVAL_OK]), parent=plate, embeds=(APPROVAL_OK,)
    )
    sign(MEDIA / "comp.mp4", UNAPPROVED, disclosure_doc("EP101_SH020", [APPROVAL_LATER]))
    # A generator's own manifest (DALL·E, another company's certificate), then our non-GenAI title card on it.
    root = create_root("Generator Root CA", "Generator Inc")
    generator = write_identity(base / "generator", issue_leaf(root, "Generator Signer", "Generator Inc"), root)
    generated = build_with_c2pa(
        {
            "claim_generator_info": [{"name": "DALL·E", "version": "3"}],
            "assertions": [
                {
                    "label": "c2pa.actions.v2",
                    "data": {
                        "actions": [
                            {
                                "action": "c2pa.created",
                                "softwareAgent": {"name": "DALL·E", "version": "3"},
                                "digitalSourceType": IPTC + "trainedAlgorithmicMedia",
                            }
                        ]
                    },
                }
            ],
        },
        MEDIA / "plate.jpg",
        base / "generated.jpg",
        generator.identity,
    )
    sign(MEDIA / "plate.jpg", THIRD_PARTY, disclosure_doc("EP101_SH030"), parent=generated)
    (kit / UNSIGNED).parent.mkdir(parents=True)
    shutil.copy2(MEDIA / "plate.png", kit / UNSIGNED)
    spare = sign(MEDIA / "plate.mp4", TAMPERED, disclosure_doc("EP101_SH050"))
    spare_plate = base / "spare.mp4"
    shutil.copy2(spare, spare_plate)
    flipped_copy(kit / TAMPERED, kit / TAMPERED)
    sign(MEDIA / "comp.mp4", REVOKED, disclosure_doc("EP101_SH060", [APPROVAL_REVOKED]), embeds=(APPROVAL_REVOKED,))
    res = cli("approvals", "revoke", APPROVAL_REVOKED, "--reason", "performer withdrew consent", *home)
    assert res.code == 0, res.stderr
    return Studio(ws, kit, spare_plate, base)


@dataclass
class Run:
    source: Path
    parent: Path
    target: Path
    before: dict[str, str]


def prepare(studio: Studio, tmp_path: Path, names: tuple[str, ...] | list[str] = MIXED) -> Run:
    source = studio.source(tmp_path / "deliverable", names)
    parent = tmp_path / "out"
    parent.mkdir()
    return Run(source, parent, parent / "EP101_final", tree(source))


def assert_nothing_written(run: Run) -> None:
    assert not run.target.exists()
    assert list(run.parent.iterdir()) == [], "no staging folder or partial package may be left"
    assert tree(run.source) == run.before, "the source folder must not change"


# --------------------------------------------------------------------------- the blocked deliverable


def test_mixed_folder_is_blocked_with_exactly_the_right_findings(studio: Studio, tmp_path: Path, cli: Cli) -> None:
    run = prepare(studio, tmp_path)
    res = cli("package", run.source, "-o", run.target, "--format", "json", "--home", studio.home)
    assert res.code == 1, res.stderr
    doc = res.json()
    validate("package-report", doc, "package --format json")
    assert blocking_pairs(doc) == EXPECTED_BLOCKS
    assert doc["written"] is False and doc["package"] is None and doc["blocked"] is True
    assert doc["stray"] == [] and doc["excluded"] == []
    assert doc["summary"] == {
        "assets": 7,
        "cleared_assets": 2,
        "blocked_assets": 5,
        "stray_files": 0,
        "excluded_files": 0,
        "block_findings": 7,
        "cleared": 2,
        "waived": 0,
    }
    assets = {a["path"]: a for a in doc["assets"]}
    assert set(assets) == set(MIXED)
    assert {p: a["status"] for p, a in assets.items()} == {
        PLATE: "trusted",
        APPROVED: "trusted",
        UNAPPROVED: "trusted",
        THIRD_PARTY: "trusted",
        UNSIGNED: "no-credentials",
        TAMPERED: "invalid",
        REVOKED: "trusted",
    }
    assert {p for p, a in assets.items() if a["blocked"]} == {UNAPPROVED, THIRD_PARTY, UNSIGNED, TAMPERED, REVOKED}
    assert assets[PLATE]["genai"] is False and assets[PLATE]["findings"] == []
    # The approved comp is cleared by the approval embedded in its own manifest.
    approved = assets[APPROVED]
    assert {(c["rule_id"], tuple(c["clearances"])) for c in approved["cleared"]} == {
        ("GP-FINAL-001", (APPROVAL_OK,)),
        ("GP-BACKGROUND-001", (APPROVAL_OK,)),
    }
    [check] = approved["verification"]["clearances"]
    assert (check["id"], check["status"], check["source"]) == (APPROVAL_OK, "valid", "embedded")
    # Revoked after signing: the embedded copy is still genuine, the ledger's revocation wins.
    [revoked] = assets[REVOKED]["verification"]["clearances"]
    assert (revoked["id"], revoked["status"]) == (APPROVAL_REVOKED, "revoked")
    assert "performer withdrew consent" in revoked["detail"]
    [missing] = assets[UNAPPROVED]["verification"]["clearances"]
    assert (missing["id"], missing["status"]) == (APPROVAL_LATER, "missing")
    # GenAI only in the third-party ingredient: found, attributed to DALL·E, not declared by anyone.
    [undeclared] = [f for f in assets[THIRD_PARTY]["findings"] if f["severity"] == "block"]
    assert undeclared["evidence"]["tool"] and "DALL·E" in undeclared["evidence"]["tool"]
    assert undeclared["evidence"]["manifest"] != assets[THIRD_PARTY]["verification"]["active_manifest"]
    assert_nothing_written(run)


def test_remedies_name_the_approval_needed_and_the_preflight_command(studio: Studio, tmp_path: Path, cli: Cli) -> None:
    run = prepare(studio, tmp_path)
    doc = cli("package", run.source, "-o", run.target, "--format", "json", "--home", studio.home).json()
    findings = {(a["path"], f["rule_id"]): f for a in doc["assets"] for f in a["findings"]}
    for asset, asset_id in ((UNAPPROVED, "EP101_SH020"), (REVOKED, "EP101_SH060")):
        final = findings[(asset, "GP-FINAL-001")]
        assert final["needs"] == ["an approval covering final-deliverable, background-element"]
        assert "an approval covering final-deliverable, background-element" in final["remedy"]
        assert f"asset {asset_id} of {PRODUCTION}" in final["remedy"]
        assert "genai-provenance preflight --disclosure FILE" in final["remedy"]
        background = findings[(asset, "GP-BACKGROUND-001")]
        assert background["needs"] == ["an approval covering background-element"]
        assert asset_id in background["remedy"]
    assert "sign EP101_SH030 again" in findings[(THIRD_PARTY, "GP-UNDECLARED-001")]["remedy"]
    assert "genai-provenance sign" in findings[(UNSIGNED, "GP-TRUST-001")]["remedy"]
    assert "EP101_SH050" in findings[(TAMPERED, "GP-INTEGRITY-001")]["remedy"]

    text = cli("package", run.source, "-o", run.target, "--home", studio.home)
    assert text.code == 1
    out = text.stdout
    assert "NOT PACKAGED: nothing was written" in out
    assert "7 assets checked: 2 cleared, 5 blocked" in out
    for asset, rule in EXPECTED_BLOCKS:
        assert asset in out and f"BLOCK {rule}" in out
    assert PLATE not in out  # a clean asset is not listed among the problems
    assert out.count("missing: an approval covering final-deliverable, background-element") == 2
    assert out.count("start the request with: genai-provenance preflight --disclosure FILE") == 2
    assert "revoked" in out and "performer withdrew consent" in out
    assert_nothing_written(run)


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    cases = {c.get("name", ""): c for c in root.iter("testcase")}
    assert len(cases) == len(root.findall("testcase")), "one test case per file, names unique"
    return cases


def test_junit_report_has_one_case_per_asset_and_failures_for_blocked(studio: Studio, tmp_path: Path, cli: Cli) -> None:
    run = prepare(studio, tmp_path)
    (run.source / ".notes").write_bytes(b"\x00\x00\x00\x01Bud1")  # hidden, not on the ignore list: a stray
    (run.source / "EP101" / "notes.txt").write_text("left out on purpose\n", encoding="utf-8")
    run.before = tree(run.source)
    res = cli("package", run.source, "-o", run.target, "--format", "junit", "--exclude", "notes.txt",
              "--home", studio.home)  # fmt: skip
    assert res.code == 1
    root = ET.fromstring(res.stdout)
    assert root.tag == "testsuite"
    cases = _cases(root)
    assert set(cases) == {*MIXED, ".notes", "EP101/notes.txt"}
    failed = {name: c.find("failure") for name, c in cases.items() if c.find("failure") is not None}
    assert set(failed) == {UNAPPROVED, THIRD_PARTY, UNSIGNED, TAMPERED, REVOKED, ".notes"}
    assert failed[".notes"].get("type") == "PKG-ALLOWLIST-001"  # type: ignore[union-attr]
    for asset, rule in EXPECTED_BLOCKS:
        assert rule in (failed[asset].get("message") or ""), (asset, rule)  # type: ignore[union-attr]
    assert "remedy:" in (failed[UNAPPROVED].text or "")  # type: ignore[union-attr]
    assert cases["EP101/notes.txt"].find("skipped") is not None
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("9", "6", "0", "1")
    assert_nothing_written(run)

    # The same report written to a file; standard output then carries a one-line outcome.
    report = tmp_path / "reports" / "gate.xml"
    res = cli("package", run.source, "-o", run.target, "--format", "junit", "--exclude", "notes.txt",
              "--report", report, "--home", studio.home)  # fmt: skip
    assert res.code == 1
    assert res.stdout.strip() == f"blocked: nothing was written; report written to {report}"
    assert set(_cases(ET.parse(report).getroot())) == set(cases)
    assert_nothing_written(run)


# --------------------------------------------------------------------------- after the fixes


FIXED = (PLATE, APPROVED, UNAPPROVED, TAMPERED, UNSIGNED, REVOKED)  # THIRD_PARTY removed
PACKAGED = (PLATE, APPROVED, UNAPPROVED, TAMPERED)
EXCLUDES = ("EP101_SH040_*", "EP101/SH060/*")


@dataclass
class Packaged:
    home: Path
    run: Run
    result: CliResult


@pytest.fixture(scope="module")
def packaged(studio: Studio, tmp_path_factory: pytest.TempPathFactory, cli: Cli, cli_process: Cli) -> Packaged:
    """The mixed folder fixed: approval granted, bad files removed, replaced or excluded; packaged."""
    base = tmp_path_factory.mktemp("fixed")
    home = studio.home_copy(base / "ws")
    res = cli("approvals", "grant", "--id", APPROVAL_LATER, "--production", PRODUCTION, "--asset", "EP101_SH020",
              "--covers", "final-deliverable,background-element", "--home", home)  # fmt: skip
    assert res.code == 0, res.stderr
    run = prepare(studio, base, FIXED)
    shutil.copy2(studio.spare_plate, run.source / TAMPERED)
    run.before = tree(run.source)
    excludes = [arg for glob in EXCLUDES for arg in ("--exclude", glob)]
    result = cli_process("package", run.source, "-o", run.target, "--workers", 2, *excludes, "--format", "json",
                         "--home", home)  # fmt: skip
    return Packaged(home, run, result)


def test_fixed_folder_is_packaged(packaged: Packaged) -> None:
    res, run = packaged.result, packaged.run
    assert res.code == 0, res.stdout + res.stderr
    doc = res.json()
    validate("package-report", doc, "package --format json")
    assert doc["written"] is True and doc["blocked"] is False and doc["package"] == str(run.target)
    assert blocking_pairs(doc) == set()
    assert sorted(a["path"] for a in doc["assets"]) == sorted(PACKAGED)
    assert doc["excluded"] == sorted([UNSIGNED, REVOKED])
    assert doc["summary"]["cleared"] == 4  # two comps, each cleared on GP-FINAL-001 and GP-BACKGROUND-001
    assert os.listdir(run.parent) == [run.target.name], "no staging folder left beside the package"
    assert tree(run.source) == run.before


def test_package_layout_is_a_full_bagit_bag(packaged: Packaged) -> None:
    bag, source = packaged.run.target, packaged.run.source
    assert (bag / "bagit.txt").read_text(encoding="utf-8").splitlines() == [
        "BagIt-Version: 0.97",
        "Tag-File-Character-Encoding: UTF-8",
    ]
    payload = payload_of(bag)
    assert payload == sorted(PACKAGED), "excluded files stay out of the bag"
    for rel in PACKAGED:
        assert (bag / "data" / rel).read_bytes() == (source / rel).read_bytes()
    for alg in ("sha256", "sha512"):
        lines = bag_lines(bag / f"manifest-{alg}.txt")
        assert lines == {f"data/{rel}": digest(source / rel, alg) for rel in PACKAGED}
        tags = bag_lines(bag / f"tagmanifest-{alg}.txt")
        assert set(tags) == {
            "bagit.txt",
            "bag-info.txt",
            "manifest-sha256.txt",
            "manifest-sha512.txt",
            "genai-provenance/package-report.json",
            "genai-provenance/package-report.sig.json",
        }
        assert all(tags[name] == digest(bag / name, alg) for name in tags)
    info = dict(line.split(": ", 1) for line in (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines())
    assert info["Source-Organization"] == ORGANISATION
    assert info["External-Identifier"] == PRODUCTION
    assert info["GenAI-Asset-Count"] == "2"
    assert info["Package-Report"] == "genai-provenance/package-report.json"
    assert info["Bag-Software-Agent"].startswith("genai-provenance ")
    size = sum((source / rel).stat().st_size for rel in PACKAGED)
    assert info["Payload-Oxum"] == f"{size}.{len(PACKAGED)}"
    assert info["Bagging-Date"]
    for path in bag.rglob("*"):
        assert not path.is_file() or PRIVATE_KEY_MARK.encode() not in path.read_bytes(), path


def test_package_report_inside_the_bag_is_signed_and_complete(packaged: Packaged) -> None:
    bag = packaged.run.target
    body = (bag / "genai-provenance" / "package-report.json").read_bytes()
    report = json.loads(body)
    validate("package-manifest-report", report, "package-report.json")
    signature = json.loads((bag / "genai-provenance" / "package-report.sig.json").read_text(encoding="utf-8"))
    validate("package-manifest-report#/$defs/signature_file", signature, "package-report.sig.json")
    certs = verify_bytes(signature["signature"], body)
    packager_anchors = (packaged.home / "trust" / "packager-anchors.pem").read_text(encoding="utf-8")
    assert chain_problem(certs, load_anchors(packager_anchors)) is None
    media_anchors = (packaged.home / "trust" / "anchors.pem").read_text(encoding="utf-8")
    assert chain_problem(certs, load_anchors(media_anchors)) is not None  # the packager has its own root
    assert "Packager" in report["packager"] and ORGANISATION in report["packager"]
    assert report["organisation"] == ORGANISATION and report["productions"] == [PRODUCTION]
    assert report["excluded"] == sorted([UNSIGNED, REVOKED])
    sha256 = bag_lines(bag / "manifest-sha256.txt")
    gate = {a["path"]: a for a in packaged.result.json()["assets"]}
    by_path = {a["path"]: a for a in report["assets"]}
    assert set(by_path) == {f"data/{rel}" for rel in PACKAGED}
    for rel in PACKAGED:
        entry = by_path[f"data/{rel}"]
        assert entry["sha256"] == sha256[f"data/{rel}"]
        assert entry["manifest"] == gate[rel]["verification"]["active_manifest"]
        assert entry["status"] == "trusted" and entry["intended_use"] == "final"
    assert by_path[f"data/{PLATE}"]["genai"] is False and by_path[f"data/{PLATE}"]["genai_uses"] == []
    for rel, approval in ((APPROVED, APPROVAL_OK), (UNAPPROVED, APPROVAL_LATER)):
        entry = by_path[f"data/{rel}"]
        [use] = entry["genai_uses"]
        assert (use["category"], use["tool"], use["declared"]) == ("background-element", "Runway Gen-4 4.0", True)
        [clearance] = entry["clearances"]
        assert (clearance["id"], clearance["status"]) == (approval, "valid")
        assert set(clearance["covers"]) == {"background-element", "final-deliverable"}
        assert {(c["rule_id"], tuple(c["clearances"])) for c in entry["cleared"]} == {
            ("GP-FINAL-001", (approval,)),
            ("GP-BACKGROUND-001", (approval,)),
        }
    assert report["summary"] == {"assets": 4, "genai": 2, "cleared": 4, "warnings": 0, "waived": 0}


def test_verify_package_passes(packaged: Packaged, cli: Cli) -> None:
    res = cli("verify-package", packaged.run.target, "--format", "json", "--home", packaged.home)
    assert res.code == 0, res.stdout
    doc = res.json()
    validate("package-verification", doc, "verify-package --format json")
    assert doc["ok"] is True and doc["problems"] == []
    assert sorted(a["path"] for a in doc["assets"]) == sorted(f"data/{rel}" for rel in PACKAGED)
    text = cli("verify-package", packaged.run.target, "--home", packaged.home)
    assert text.code == 0
    assert "PACKAGE VERIFIED" in text.stdout and "4 assets re-checked, 0 blocked; 0 package problems" in text.stdout


def _flip(bag: Path) -> str:
    flipped_copy(bag / "data" / PLATE, bag / "data" / PLATE)
    return f"data/{PLATE}"


def _remove(bag: Path) -> str:
    (bag / "data" / APPROVED).unlink()
    return f"data/{APPROVED}"


def _add(bag: Path) -> str:
    extra = bag / "data" / "EP101" / "SH010" / "EP101_SH010_extra.mp4"
    shutil.copy2(bag / "data" / PLATE, extra)  # even a validly signed file may not be slipped in
    return "data/EP101/SH010/EP101_SH010_extra.mp4"


def _edit_report(bag: Path) -> str:
    path = bag / "genai-provenance" / "package-report.json"
    path.write_text(path.read_text(encoding="utf-8").replace(ORGANISATION, "Someone Else"), encoding="utf-8")
    return "genai-provenance/package-report.json"


def _edit_report_and_rebag(bag: Path) -> str:
    """Edit the report and rewrite the tag manifests to match: only the signature can tell."""
    name = _edit_report(bag)
    for alg in ("sha256", "sha512"):
        tags = bag / f"tagmanifest-{alg}.txt"
        lines = bag_lines(tags)
        lines[name] = digest(bag / name, alg)
        tags.write_text("".join(f"{d}  {n}\n" for n, d in sorted(lines.items())), encoding="utf-8")
    return "signature"


def _report_not_an_object(bag: Path) -> str:
    (bag / "genai-provenance" / "package-report.json").write_text("[]\n", encoding="utf-8")
    return "genai-provenance/package-report.json"


def _signature_emptied(bag: Path) -> str:
    (bag / "genai-provenance" / "package-report.sig.json").write_text("null\n", encoding="utf-8")
    return "genai-provenance/package-report.sig.json"


def _asset_entry_without_path(bag: Path) -> str:
    path = bag / "genai-provenance" / "package-report.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    del report["assets"][0]["path"]
    path.write_text(json.dumps(report), encoding="utf-8")
    return "assets[0]"


TAMPERING: dict[str, tuple[Callable[[Path], str], tuple[str, ...]]] = {
    "flipped byte in a packaged file": (_flip, ("sha256 validation failed", "sha512 validation failed")),
    "packaged file removed": (_remove, ("missing from the payload",)),
    "file added": (_add, ("in the payload but not in the package report",)),
    "package report edited": (_edit_report, ("package report signature",)),
    "package report edited, tag manifests redone": (_edit_report_and_rebag, ("package report signature",)),
    "package report not an object": (_report_not_an_object, ("package report unreadable or malformed",)),
    "report signature emptied": (_signature_emptied, ("package report unreadable or malformed",)),
    "report entry without a path": (_asset_entry_without_path, ("package report unreadable or malformed",)),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_verify_package_fails_after_tampering(kind: str, packaged: Packaged, tmp_path: Path, cli: Cli) -> None:
    bag = tmp_path / "copy"
    shutil.copytree(packaged.run.target, bag, symlinks=True)
    change, phrases = TAMPERING[kind]
    what = change(bag)
    res = cli("verify-package", bag, "--format", "json", "--home", packaged.home)
    assert res.code == 1, res.stdout
    doc = res.json()
    validate("package-verification", doc, "verify-package --format json")
    assert doc["ok"] is False
    problems = "\n".join(doc["problems"])
    if what != "signature":
        assert what in problems, problems
    for phrase in phrases:
        assert phrase in problems, problems
    if kind == "flipped byte in a packaged file":  # the credentials see it too, independently of BagIt
        [asset] = [a for a in doc["assets"] if a["path"] == what]
        assert asset["status"] == "invalid" and asset["blocked"] is True
    assert res.stderr == ""
    text = cli("verify-package", bag, "--home", packaged.home)
    assert text.code == 1 and "PACKAGE FAILED VERIFICATION" in text.stdout


# --------------------------------------------------------------------------- the closed allow-list


def test_stray_files_block_unless_excluded(studio: Studio, tmp_path: Path, cli: Cli) -> None:
    run = prepare(studio, tmp_path, (PLATE, APPROVED))
    strays = [".notes", "EP101/SH010/.notes"]  # hidden files not on the default ignore list
    for rel in strays:
        (run.source / rel).write_bytes(b"\x00\x00\x00\x01Bud1\x00")
    still = "EP101/SH010/EP101_SH010_reference.jpg"
    shutil.copy2(MEDIA / "plate.jpg", run.source / still)  # a still nobody signed
    run.before = tree(run.source)
    doc = cli("package", run.source, "-o", run.target, "--format", "json", "--home", studio.home).json()
    validate("package-report", doc, "package --format json")
    assert blocking_pairs(doc) == {(rel, "PKG-ALLOWLIST-001") for rel in strays} | {(still, "GP-TRUST-001")}
    assert [s["path"] for s in doc["stray"]] == sorted(strays)
    assert "--exclude" in doc["stray"][0]["findings"][0]["remedy"]
    summary = doc["summary"]  # the counts add up: assets = cleared + blocked, strays counted apart
    assert summary["stray_files"] == 2 and summary["blocked_assets"] == 1 and summary["cleared_assets"] == 2
    assert summary["assets"] == summary["cleared_assets"] + summary["blocked_assets"] == 3
    assert_nothing_written(run)

    res = cli("package", run.source, "-o", run.target, "--exclude", ".notes", "--exclude", "*_reference.jpg",
              "--home", studio.home)  # fmt: skip
    assert res.code == 0, res.stdout + res.stderr
    excluded = sorted([*strays, still])
    assert f"excluded (not packaged): {', '.join(excluded)}" in res.stdout
    assert "PACKAGED:" in res.stdout
    payload = payload_of(run.target)
    assert payload == sorted([PLATE, APPROVED])
    report = json.loads((run.target / "genai-provenance" / "package-report.json").read_text(encoding="utf-8"))
    assert report["excluded"] == excluded
    assert tree(run.source) == run.before
    assert hidden(run.parent) == []

    # A passing run in JUnit: every asset a passing case, every excluded file a skipped one.
    xml_report = tmp_path / "gate.xml"
    res = cli("package", run.source, "-o", run.target, "--force", "--exclude", ".notes", "--exclude",
              "*_reference.jpg", "--format", "junit", "--report", xml_report, "--home", studio.home)  # fmt: skip
    assert res.code == 0 and res.stdout.strip() == f"packaged {run.target}; report written to {xml_report}"
    root = ET.parse(xml_report).getroot()
    cases = _cases(root)
    assert set(cases) == {PLATE, APPROVED, *excluded}
    assert root.find(".//failure") is None and root.get("failures") == "0"
    assert {n for n, c in cases.items() if c.find("skipped") is not None} == set(excluded)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_symlink_pointing_outside_is_refused(kind: str, studio: Studio, tmp_path: Path, cli: Cli) -> None:
    run = prepare(studio, tmp_path, (PLATE,))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy2(studio.kit / PLATE, outside / "secret.mp4")
    link = run.source / "EP101" / ("linked.mp4" if kind == "file" else "linked")
    link.symlink_to(outside / "secret.mp4" if kind == "file" else outside)
    run.before = tree(run.source)
    res = cli("package", run.source, "-o", run.target, "--home", studio.home)
    one_error_line(res, str(link), "symbolic link")
    assert res.stdout == ""
    assert_nothing_written(run)


def test_unsafe_file_name_is_refused(studio: Studio, tmp_path: Path, cli: Cli) -> None:
    run = prepare(studio, tmp_path, (PLATE,))
    shutil.copy2(studio.kit / PLATE, run.source / "EP101" / "two\nlines.mp4")
    run.before = tree(run.source)
    one_error_line(cli("package", run.source, "-o", run.target, "--home", studio.home), "cannot be carried safely")
    assert_nothing_written(run)


def test_package_inside_the_source_is_refused(studio: Studio, tmp_path: Path, cli: Cli) -> None:
    run = prepare(studio, tmp_path, (PLATE,))
    res = cli("package", run.source, "-o", run.source / "pkg", "--home", studio.home)
    one_error_line(res, "outside the source folder")
    assert tree(run.source) == run.before


def test_existing_package_is_refused_unless_forced(studio: Studio, tmp_path: Path, cli: Cli) -> None:
    run = prepare(studio, tmp_path, (PLATE,))
    assert cli("package", run.source, "-o", run.target, "--home", studio.home).code == 0
    old = tree(run.target)
    studio.source(run.source, (APPROVED,))
    res = cli("package", run.source, "-o", run.target, "--home", studio.home)
    one_error_line(res, str(run.target), "already exists", "--force")
    assert tree(run.target) == old
    res = cli("package", run.source, "-o", run.target, "--force", "--home", studio.home)
    assert res.code == 0, res.stdout + res.stderr
    payload = payload_of(run.target)
    assert payload == sorted([PLATE, APPROVED])
    assert os.listdir(run.parent) == [run.target.name], "the replaced package is gone, no temporary left"
    assert cli("verify-package", run.target, "--home", studio.home).code == 0


@pytest.mark.parametrize("where", ["source", "package"])
def test_report_file_may_not_land_in_the_source_or_the_package(
    where: str, studio: Studio, tmp_path: Path, cli: Cli
) -> None:
    run = prepare(studio, tmp_path, (PLATE,))
    report = (run.source if where == "source" else run.target) / "gate.xml"
    res = cli("package", run.source, "-o", run.target, "--format", "junit", "--report", report, "--home", studio.home)
    one_error_line(res, str(report), "cannot be written inside")
    assert_nothing_written(run)


def test_force_never_replaces_a_folder_that_is_not_a_package(studio: Studio, tmp_path: Path, cli: Cli) -> None:
    run = prepare(studio, tmp_path, (PLATE,))
    run.target.mkdir()
    (run.target / "precious.txt").write_text("not a package\n", encoding="utf-8")
    before = tree(run.target)
    res = cli("package", run.source, "-o", run.target, "--force", "--home", studio.home)
    one_error_line(res, "is not a package")
    assert tree(run.target) == before


def test_verify_package_on_a_plain_folder_is_a_usage_error(tmp_path: Path, cli: Cli, studio: Studio) -> None:
    one_error_line(cli("verify-package", tmp_path, "--home", studio.home), str(tmp_path), "not a package")


# --------------------------------------------------------------------------- progress bar


def test_progress_bar_only_on_a_terminal(studio: Studio, tmp_path: Path) -> None:
    run = prepare(studio, tmp_path, (PLATE, APPROVED))
    command = [*CLI_COMMAND, "package", str(run.source), "--home", str(studio.home)]
    plain = subprocess.run([*command, "-o", str(run.parent / "a")], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr == "", "no progress bar when stderr is not a terminal"
    assert "checking" not in plain.stdout and "%" not in plain.stdout

    on_terminal = run_on_terminal([*command, "-o", str(run.parent / "b")], timeout=120)
    assert on_terminal.code == 0
    terminal = on_terminal.terminal
    assert "checking" in terminal and "2/2" in terminal, terminal  # rich: assets checked of the total
    assert "bagging and hashing" in terminal, terminal
