"""A production pipeline through the CLI: camera plate, then a VFX vendor's GenAI comp, then a grade.

Two identities under the same development root: the camera department signs the plate, the
vendor signs the comp with the plate as --parent. Every stage and signer must show in the tree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import MEDIA, IdentityFiles, disclosure, sha256

from genai_provenance.model.provenance import TRUSTED
from genai_provenance.schemas import validator

CAMERA_CN = "Unit A Camera Department"
VENDOR_CN = "Skyline VFX Compositing"


@dataclass
class Pipeline:
    folder: Path
    plate: Path
    comp: Path
    plate_sign: dict[str, Any]
    comp_sign: dict[str, Any]
    report: dict[str, Any]  # verify --format json of the comp, assets[0]
    text: str


@pytest.fixture(scope="module")
def pipeline(
    cli: Any,
    camera_identity: IdentityFiles,
    vendor_identity: IdentityFiles,
    anchors_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Pipeline:
    folder = tmp_path_factory.mktemp("pipeline")
    plate, comp = folder / "EP101_SH010_plate_v001.mp4", folder / "EP101_SH010_bg_v003.mp4"
    trust = ["--trust", str(anchors_file)]
    res = cli(
        "sign", MEDIA / "plate.mp4", "-o", plate, "--disclosure", MEDIA.parent / "disclosures" / "plate.json",
        *camera_identity.cli_args(), *trust, "--format", "json",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    plate_sign = res.json()
    before = sha256(plate)
    res = cli(
        "sign", MEDIA / "comp.mp4", "-o", comp, "--disclosure", MEDIA.parent / "disclosures" / "bg_replace.json",
        "--parent", plate, *vendor_identity.cli_args(), *trust, "--format", "json",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    assert sha256(plate) == before, "the parent must not be modified"
    comp_sign = res.json()
    verified = cli("verify", comp, *trust, "--format", "json")
    assert verified.code == 0, verified.stdout
    validator("verify-report").validate(verified.json())
    text = cli("verify", comp, *trust)
    assert text.code == 0
    return Pipeline(folder, plate, comp, plate_sign, comp_sign, verified.json()["assets"][0], text.stdout)


def test_comp_shows_both_manifests_and_both_signers(pipeline: Pipeline) -> None:
    report = pipeline.report
    assert report["status"] == TRUSTED and report["genai"] is True
    assert [m["signer"]["common_name"] for m in report["manifests"]] == [CAMERA_CN, VENDOR_CN]  # oldest first
    assert report["signer"]["common_name"] == VENDOR_CN
    assert report["signer"]["organisation"] == "Skyline VFX Ltd"
    assert {m["signer"]["issuer"] for m in report["manifests"]} == {
        "Test Post House Development Root CA, Test Post House"
    }
    assert report["manifests"][-1]["label"] == report["active_manifest"]
    assert [d["disclosure"] for d in report["disclosures"]] == [disclosure("plate.json"), disclosure("bg_replace.json")]


def test_ingredient_tree_has_the_plate_as_trusted_parent(pipeline: Pipeline) -> None:
    [node] = pipeline.report["ingredients"]
    assert node["relationship"] == "parentOf"
    assert node["status"] == TRUSTED and node["failures"] == []
    assert node["signer"]["common_name"] == CAMERA_CN
    assert node["manifest"] == pipeline.plate_sign["asset"]["active_manifest"]
    assert node["title"] == pipeline.plate.name
    assert node["genai"] is False  # the plate itself is a camera capture
    assert node["children"] == []
    uses = pipeline.report["genai_uses"]
    assert {u["manifest"] for u in uses} == {pipeline.report["active_manifest"]}


def test_sign_json_reports_the_parent(pipeline: Pipeline) -> None:
    assert pipeline.comp_sign["parent"] == str(pipeline.plate)
    assert pipeline.comp_sign["asset"]["ingredients"][0]["relationship"] == "parentOf"
    assert pipeline.plate_sign["parent"] is None


def test_text_report_shows_the_tree_and_both_signers(pipeline: Pipeline) -> None:
    text = pipeline.text
    assert f"signer: {VENDOR_CN} (Skyline VFX Ltd)" in text
    tree_line = next(line for line in text.splitlines() if pipeline.plate.name in line)
    assert "(parentOf): trusted" in tree_line and CAMERA_CN in tree_line


def test_third_stage_nests_the_tree(
    pipeline: Pipeline, cli: Any, camera_identity: IdentityFiles, anchors_file: Path, tmp_path: Path
) -> None:
    """A grade (no GenAI) on top of the comp: GenAI stays visible two levels down."""
    grade_disclosure = tmp_path / "grade.json"
    doc = disclosure("plate.json")
    doc["asset"]["title"], doc["source_type"] = "EP101_SH010_grade_v001", "humanEdits"
    grade_disclosure.write_text(json.dumps(doc))
    grade = tmp_path / "grade.mp4"
    res = cli(
        "sign", MEDIA / "comp.mp4", "-o", grade, "--disclosure", grade_disclosure, "--parent", pipeline.comp,
        *camera_identity.cli_args(), "--trust", anchors_file,
    )  # fmt: skip
    assert res.code == 0, res.stderr
    report = cli("verify", grade, "--trust", anchors_file, "--format", "json").json()["assets"][0]
    assert report["status"] == TRUSTED and report["genai"] is True
    [comp_node] = report["ingredients"]
    [plate_node] = comp_node["children"]
    assert (comp_node["signer"]["common_name"], plate_node["signer"]["common_name"]) == (VENDOR_CN, CAMERA_CN)
    assert comp_node["genai"] is True and plate_node["genai"] is False
    assert len(report["manifests"]) == 3


def test_signed_input_carries_its_history_forward_without_parent(
    pipeline: Pipeline, cli: Any, vendor_identity: IdentityFiles, anchors_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "comp_v004.mp4"
    before = sha256(pipeline.comp)
    res = cli(
        "sign", pipeline.comp, "-o", out, "--disclosure", MEDIA.parent / "disclosures" / "bg_replace.json",
        *vendor_identity.cli_args(), "--trust", anchors_file,
    )  # fmt: skip
    assert res.code == 0, res.stderr
    assert "history carried forward from the input's own credentials" in res.stdout
    assert sha256(pipeline.comp) == before
    report = cli("verify", out, "--trust", anchors_file, "--format", "json").json()["assets"][0]
    assert report["status"] == TRUSTED
    [node] = report["ingredients"]
    assert node["relationship"] == "parentOf" and node["manifest"] == pipeline.report["active_manifest"]
    assert [c["manifest"] for c in node["children"]] == [pipeline.plate_sign["asset"]["active_manifest"]]
    assert len(report["manifests"]) == 3


def test_placed_genai_element_is_a_component_ingredient(
    sign_media: Any, cli: Any, anchors_file: Path, tmp_path: Path
) -> None:
    element = sign_media("plate.png", "moodboard.yaml").output
    doc = disclosure("bg_replace.json")
    doc["genai"][0].update(action="placed", source_type="trainedAlgorithmicMedia", description="poster placed")
    doc_path = tmp_path / "placed.json"
    doc_path.write_text(json.dumps(doc))
    out = tmp_path / "placed.png"
    res = cli(
        "sign", MEDIA / "plate.png", "-o", out, "--disclosure", doc_path, "--ingredient", element, "--format", "json"
    )
    assert res.code == 2 and "no workspace" in res.stderr  # no --cert/--key and no workspace here
    res = cli(
        "sign", MEDIA / "plate.png", "-o", out, "--disclosure", doc_path, "--ingredient", element,
        "--trust", anchors_file, "--home", anchors_file.parent.parent, "--format", "json",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    asset = res.json()["asset"]
    [node] = asset["ingredients"]
    assert node["relationship"] == "componentOf" and node["status"] == TRUSTED and node["genai"] is True
    placed = next(a for a in asset["manifests"][-1]["actions"] if a["action"] == "c2pa.placed")
    # c2pa resolves our ingredientIds into a hashed link to the ingredient assertion
    [link] = placed["parameters"]["ingredients"]
    assert link["url"].endswith("c2pa.ingredient.v3") and link["hash"]
    # Without the element to place the disclosure cannot be honoured: a one-line error, nothing written.
    out2 = tmp_path / "placed2.png"
    res = cli("sign", MEDIA / "plate.png", "-o", out2, "--disclosure", doc_path, "--home", anchors_file.parent.parent)
    assert res.code == 2 and len(res.error_lines) == 1
    assert f"{doc_path}: genai[0]: action 'placed' needs the placed element as --ingredient" in res.stderr
    assert not out2.exists()
