"""Issue 8, bypasses 1 to 3: ways found to get unapproved GenAI past the gate, each reproduced.

Every test here failed on the code before the fix: the attack first, then what must happen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DISCLOSURES, MEDIA, build_with_c2pa, disclosure, leftovers, sha256
from payload import flipped_copy

from genai_provenance.credentials.identity import Identity
from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.model.provenance import INVALID, TRUSTED
from genai_provenance.workspace import Workspace

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"

# Bypass 1 as found: a digital replica declared with a non-generative source type.
DEEPFAKE_USE: dict[str, Any] = {
    "tool": {"name": "DeepFaceLab", "version": "2.0"},
    "action": "edited",
    "source_type": "humanEdits",
    "category": "digital-replica",
    "description": "lead actor's face replaced",
    "inputs": [{"kind": "talent-likeness", "ref": "scan of the lead"}],
    "data_handling": {"trains_on_inputs": True, "retains_inputs": False, "enterprise_environment": True},
}


def _deepfake_disclosure() -> dict[str, Any]:
    doc = disclosure("plate.json")
    doc["asset"]["title"] = "EP101_SH020_face_v002"
    doc["asset"]["asset_id"] = "EP101_SH020"
    doc["genai"] = [dict(DEEPFAKE_USE)]
    return doc


def _write(tmp_path: Path, name: str, document: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _rule_ids(check_json: dict[str, Any]) -> set[str]:
    return {f["rule_id"] for asset in check_json["assets"] for f in asset["findings"] if f["severity"] == "block"}


def _elsewhere_definition(document: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """A manifest another tool (or a hand-built script) writes, with our disclosure label."""
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions.v2", "data": {"actions": actions}, "created": True}]
    if document:
        assertions.append({"label": "com.genai-provenance.disclosure", "data": document, "created": True})
    return {
        "claim_generator_info": [{"name": "hand-built", "version": "1"}],
        "title": "shot.jpg",
        "assertions": assertions,
    }


# --------------------------------------------------------------------------- bypass 1


def test_sign_refuses_a_genai_use_with_a_non_generative_source_type(
    cli: Any, workspace: Workspace, tmp_path: Path
) -> None:
    path = _write(tmp_path, "deepfake.json", _deepfake_disclosure())
    out = tmp_path / "out" / "shot.jpg"
    res = cli("sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", path, "--home", workspace.home)
    assert res.code == 2, res.stdout + res.stderr
    [line] = res.error_lines
    assert str(path) in line and "genai[0].source_type" in line and "humanEdits" in line
    assert not out.exists()


def test_declared_use_signed_elsewhere_with_non_generative_type_still_reaches_the_policy(
    identity: Identity, cli: Any, workspace: Workspace, tmp_path: Path
) -> None:
    document = _deepfake_disclosure()
    actions = [
        {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"},
        {"action": "c2pa.edited", "digitalSourceType": IPTC + "humanEdits", "softwareAgent": {"name": "DeepFaceLab"}},
    ]
    folder = tmp_path / "delivery"
    folder.mkdir()
    shot = build_with_c2pa(_elsewhere_definition(document, actions), MEDIA / "plate.jpg", folder / "shot.jpg", identity)
    assert verify_file(shot, TrustSettings(workspace.trust_anchors()).context()).status == TRUSTED

    res = cli("check", shot, "--home", workspace.home, "--format", "json")
    assert res.code == 1, res.stdout
    report = res.json()
    assert report["assets"][0]["genai"] is True
    blocked = _rule_ids(report)
    # The use itself, its talent-likeness input and its tool's data handling each need clearing.
    assert {"GP-FINAL-001", "GP-TALENT-001", "GP-TALENT-003", "GP-DATA-001"} <= blocked, blocked
    text = cli("check", shot, "--home", workspace.home)
    assert "GenAI: none" not in text.stdout

    res = cli("package", folder, "-o", tmp_path / "pkg", "--home", workspace.home)
    assert res.code == 1 and not (tmp_path / "pkg").exists()


def test_our_action_without_its_disclosure_is_not_skipped(
    identity: Identity, cli: Any, workspace: Workspace, tmp_path: Path
) -> None:
    """An action carrying our `use` parameter used to be skipped on the word of a disclosure that is absent."""
    actions = [
        {
            "action": "c2pa.created",
            "digitalSourceType": IPTC + "trainedAlgorithmicMedia",
            "softwareAgent": {"name": "SomeGen"},
            "parameters": {"com.genai-provenance.use": 0, "com.genai-provenance.category": "ideation"},
        }
    ]
    shot = build_with_c2pa(_elsewhere_definition({}, actions), MEDIA / "plate.jpg", tmp_path / "shot.jpg", identity)
    res = cli("check", shot, "--home", workspace.home, "--format", "json")
    assert res.code == 1
    assert res.json()["assets"][0]["genai"] is True
    assert "GP-UNDECLARED-001" in _rule_ids(res.json())


def test_malformed_disclosure_blocks_a_final_deliverable(
    identity: Identity, cli: Any, workspace: Workspace, tmp_path: Path
) -> None:
    """A disclosure under our label that breaks the schema cannot be checked: the gate blocks, and says why."""
    document = _deepfake_disclosure()
    document["genai"][0]["category"] = "nothing-to-see"  # not in the vocabulary
    actions = [{"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}]
    shot = build_with_c2pa(
        _elsewhere_definition(document, actions), MEDIA / "plate.jpg", tmp_path / "shot.jpg", identity
    )
    res = cli("check", shot, "--home", workspace.home, "--format", "json")
    assert res.code == 1
    assert "GP-DISCLOSURE-001" in _rule_ids(res.json())


# --------------------------------------------------------------------------- bypass 2


@pytest.fixture(scope="module")
def tampered_plate(sign_media: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    good = sign_media("plate.mp4", "plate.json").output
    return flipped_copy(good, tmp_path_factory.mktemp("tampered") / "plate_tampered.mp4")


def test_sign_refuses_a_tampered_parent(cli: Any, workspace: Workspace, tampered_plate: Path, tmp_path: Path) -> None:
    assert verify_file(tampered_plate, TrustSettings(workspace.trust_anchors()).context()).status == INVALID
    out = tmp_path / "comp.mp4"
    res = cli(
        "sign", MEDIA / "comp.mp4", "-o", out, "--disclosure", DISCLOSURES / "bg_replace.json",
        "--parent", tampered_plate, "--home", workspace.home,
    )  # fmt: skip
    assert res.code == 1, res.stdout + res.stderr
    [line] = res.error_lines
    assert str(tampered_plate) in line and "--record-broken-history" in line
    assert not out.exists() and leftovers(tmp_path) == []


def test_sign_refuses_a_tampered_ingredient(
    cli: Any, workspace: Workspace, tampered_plate: Path, tmp_path: Path
) -> None:
    out = tmp_path / "comp.mp4"
    res = cli(
        "sign", MEDIA / "comp.mp4", "-o", out, "--disclosure", DISCLOSURES / "plate.json",
        "--ingredient", tampered_plate, "--home", workspace.home,
    )  # fmt: skip
    assert res.code == 1 and not out.exists()


def test_sign_refuses_an_input_whose_own_credentials_are_broken(
    cli: Any, workspace: Workspace, tampered_plate: Path, tmp_path: Path
) -> None:
    out = tmp_path / "regraded.mp4"
    res = cli("sign", tampered_plate, "-o", out, "--disclosure", DISCLOSURES / "plate.json", "--home", workspace.home)
    assert res.code == 1 and not out.exists()
    assert str(tampered_plate) in res.stderr


def test_recorded_broken_history_is_signed_but_blocked_by_its_own_rule(
    cli: Any, workspace: Workspace, tampered_plate: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "delivery"
    out = folder / "comp.mp4"
    before = sha256(tampered_plate)
    res = cli(
        "sign", MEDIA / "comp.mp4", "-o", out, "--disclosure", DISCLOSURES / "plate.json",
        "--parent", tampered_plate, "--record-broken-history", "--home", workspace.home, "--format", "json",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    assert sha256(tampered_plate) == before
    signed = res.json()
    assert signed["broken_history"] and signed["broken_history"][0]["path"] == str(tampered_plate)

    report = verify_file(out, TrustSettings(workspace.trust_anchors()).context())
    assert report.history_problems, "the child must carry the record of its broken history"
    assert any("com.genai-provenance.broken-history" in m.assertions for m in report.manifests)

    verified = cli("verify", out, "--home", workspace.home)
    assert verified.code == 1 and "! broken history: parentOf plate_tampered.mp4" in verified.stdout, verified.stdout
    res = cli("check", out, "--home", workspace.home, "--intended-use", "temporary", "--format", "json")
    assert res.code == 1
    assert "GP-INTEGRITY-002" in _rule_ids(res.json())
    res = cli("package", folder, "-o", tmp_path / "pkg", "--home", workspace.home, "--format", "json")
    assert res.code == 1 and not (tmp_path / "pkg").exists()
    assert "GP-INTEGRITY-002" in json.dumps(res.json())


def test_another_tools_child_of_a_tampered_parent_is_blocked(
    identity: Identity, cli: Any, workspace: Workspace, tampered_plate: Path, tmp_path: Path
) -> None:
    """No record of our own: the ingredient's validation as carried in the store is enough to block."""
    definition = _elsewhere_definition({}, [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["p"]}}])
    definition["title"] = "comp.mp4"
    child = build_with_c2pa(
        definition, MEDIA / "comp.mp4", tmp_path / "comp.mp4", identity, "video/mp4",
        ingredients=[({"title": "plate.mp4", "relationship": "parentOf", "label": "p"}, tampered_plate, "video/mp4")],
    )  # fmt: skip
    res = cli("check", child, "--home", workspace.home, "--format", "json")
    assert res.code == 1
    assert {"GP-INTEGRITY-001", "GP-INTEGRITY-002"} & _rule_ids(res.json())
    assert "GP-INTEGRITY-002" in _rule_ids(res.json())


# --------------------------------------------------------------------------- bypass 3


def test_parent_flag_on_an_input_with_credentials_is_refused(
    cli: Any, sign_media: Any, workspace: Workspace, tmp_path: Path
) -> None:
    generated = sign_media("plate.jpg", "bg_replace.json").output  # carries a GenAI use
    plate = sign_media("plate.png", "plate.json").output
    out = tmp_path / "laundered.jpg"
    res = cli(
        "sign", generated, "-o", out, "--disclosure", DISCLOSURES / "plate.json",
        "--parent", plate, "--home", workspace.home,
    )  # fmt: skip
    assert res.code == 2, res.stdout
    [line] = res.error_lines
    assert str(generated) in line and "already carries Content Credentials" in line and "--ingredient" in line
    assert not out.exists()

    # The honest route keeps the input's history: its GenAI still reaches the policy.
    res = cli(
        "sign", generated, "-o", out, "--disclosure", DISCLOSURES / "plate.json",
        "--ingredient", plate, "--home", workspace.home,
    )  # fmt: skip
    assert res.code == 0, res.stderr
    checked = cli("check", out, "--home", workspace.home, "--format", "json").json()
    assert checked["assets"][0]["genai"] is True


# --------------------------------------------------------------------------- the policy floor


def test_a_lax_studio_policy_cannot_drop_the_core_rules(cli: Any, workspace: Workspace, tmp_path: Path) -> None:
    """`package --policy lax.yaml` with the trust and integrity rules cut out still blocks an unsigned file."""
    import yaml

    document = yaml.safe_load((Path(__file__).parent.parent / "genai_provenance/policy/default.yaml").read_text())
    document["name"] = "Lax"
    document["rules"] = [r for r in document["rules"] if not r["id"].startswith(("GP-TRUST", "GP-INTEGRITY"))]
    lax = tmp_path / "lax.yaml"
    lax.write_text(yaml.safe_dump(document))
    folder = tmp_path / "delivery"
    folder.mkdir()
    (folder / "archival.jpg").write_bytes((MEDIA / "plate.jpg").read_bytes())  # no credentials
    res = cli("package", folder, "-o", tmp_path / "pkg", "--policy", lax, "--home", workspace.home, "--format", "json")
    assert res.code == 1 and not (tmp_path / "pkg").exists()
    assert "GP-TRUST-001" in json.dumps(res.json())

    for rule in document["rules"]:
        if rule["id"] == "GP-CLEARANCE-001":
            rule["severity"] = "notify"  # redefine a core rule: refused, not silently weakened
    lax.write_text(yaml.safe_dump(document))
    res = cli("check", folder, "--policy", lax, "--home", workspace.home)
    assert res.code == 2 and "GP-CLEARANCE-001 is a core rule" in res.stderr
