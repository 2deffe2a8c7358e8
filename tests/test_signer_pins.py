"""Signer pinning (GP-SIGNER-001): only listed identities may sign a production's final deliverables."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import ERROR_PREFIX, CliResult, IdentityFiles, Signer

from genai_provenance.policy.rules import default_policy
from genai_provenance.schemas import validate
from genai_provenance.trust.config import fingerprint
from genai_provenance.workspace import Workspace

Cli = Callable[..., CliResult]
ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = "PRJ-0042"  # fixtures/disclosures/plate.json


@dataclass
class Pinned:
    ours: Path  # signed by the workspace's media signer
    vendor: Path  # signed by the contracted VFX vendor
    temporary: Path  # the workspace signer, intended use temporary
    vendor_id: IdentityFiles
    folder: Path


@pytest.fixture(scope="module")
def pinned(sign_media: Signer, vendor_identity: IdentityFiles, tmp_path_factory: pytest.TempPathFactory) -> Pinned:
    base = tmp_path_factory.mktemp("pins")
    ours = sign_media("plate.jpg", out=base / "ours.jpg").output
    vendor = sign_media("plate.jpg", out=base / "vendor.jpg", identity=vendor_identity.identity).output
    temp = json.loads((ROOT / "fixtures" / "disclosures" / "plate.json").read_text())
    temp["asset"]["intended_use"] = "temporary"
    temporary = sign_media("plate.jpg", temp, out=base / "temporary.jpg").output
    return Pinned(ours, vendor, temporary, vendor_identity, base)


def _policy_with(folder: Path, signers: list[dict]) -> Path:
    document = yaml.safe_load((ROOT / "genai_provenance" / "policy" / "default.yaml").read_text())
    document["signers"] = signers
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _check(cli: Cli, path: Path, ws: Workspace, *args: object) -> tuple[int, dict]:
    res = cli("check", path, "--home", ws.home, "--format", "json", *args)
    doc = res.json()
    validate("check-report", doc, "check --format json")
    return res.code, doc["assets"][0]


def _rules(verdict: dict) -> set[str]:
    return {f["rule_id"] for f in verdict["findings"] if f["severity"] == "block"}


def test_default_policy_has_the_rule_right_after_the_trust_rules() -> None:
    ids = [r.id for r in default_policy().rules]
    assert ids.index("GP-SIGNER-001") == ids.index("GP-TRUST-002") + 1
    assert default_policy().signers == ()


def test_without_a_list_nothing_changes(pinned: Pinned, workspace: Workspace, cli: Cli) -> None:
    code, verdict = _check(cli, pinned.ours, workspace)
    assert code == 0 and "GP-SIGNER-001" not in _rules(verdict)
    assert verdict["verification"]["signer"]["pinned"] is None


def test_policy_signer_list_blocks_an_unlisted_trusted_signer(
    pinned: Pinned, workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    policy = _policy_with(tmp_path, [{"common_name": "Skyline VFX Compositing", "organisation": "Skyline VFX Ltd"}])
    code, verdict = _check(cli, pinned.ours, workspace, "--policy", policy)
    assert verdict["verification"]["status"] == "trusted"  # trusted, yet not on the list
    assert code == 1 and _rules(verdict) == {"GP-SIGNER-001"}
    assert verdict["verification"]["signer"]["pinned"] is False
    code, verdict = _check(cli, pinned.vendor, workspace, "--policy", policy)
    assert code == 0 and "GP-SIGNER-001" not in _rules(verdict)
    assert verdict["verification"]["signer"]["pinned"] is True
    text = cli("check", pinned.ours, "--home", workspace.home, "--policy", policy)
    assert "GP-SIGNER-001" in text.stdout and "NOT on the signer list" in text.stdout
    # Temporary material is not a final deliverable: the list does not apply.
    code, verdict = _check(cli, pinned.temporary, workspace, "--policy", policy)
    assert "GP-SIGNER-001" not in _rules(verdict)


def test_signers_file_by_fingerprint_and_production(
    pinned: Pinned, workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    from cryptography import x509

    leaf = x509.load_pem_x509_certificates(pinned.vendor_id.cert.read_bytes())[0]
    colons = ":".join(f"{b:02X}" for b in bytes.fromhex(fingerprint(leaf)))
    signers = tmp_path / "signers.yaml"
    signers.write_text(yaml.safe_dump([{"sha256": colons, "production": PRODUCTION}]))
    code, verdict = _check(cli, pinned.vendor, workspace, "--signers", signers)
    assert code == 0 and "GP-SIGNER-001" not in _rules(verdict)
    assert verdict["verification"]["signer"]["fingerprint"] == fingerprint(leaf)
    code, verdict = _check(cli, pinned.ours, workspace, "--signers", signers)
    assert code == 1 and _rules(verdict) == {"GP-SIGNER-001"}
    # The same fingerprint, listed for another production only, does not admit this production's asset.
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"sha256": fingerprint(leaf), "production": "PRJ-9999"}]))
    code, verdict = _check(cli, pinned.vendor, workspace, "--signers", other)
    assert code == 1 and _rules(verdict) == {"GP-SIGNER-001"}
    # explain --policy reads the certificate too, so a fingerprint entry matches there as well.
    policy = _policy_with(tmp_path, [{"sha256": fingerprint(leaf)}])
    res = cli("explain", pinned.vendor, "--home", workspace.home, "--policy", policy, "--format", "json")
    assert res.code == 0 and res.json()["policy_blocked"] is False
    res = cli("explain", pinned.ours, "--home", workspace.home, "--policy", policy, "--format", "json")
    assert res.code == 1 and res.json()["policy_blocked"] is True
    # --signers replaces the policy's list.
    policy = _policy_with(tmp_path, [{"common_name": "Nobody", "organisation": "Nowhere"}])
    code, verdict = _check(cli, pinned.vendor, workspace, "--policy", policy, "--signers", signers)
    assert code == 0


def test_bad_signer_lists_are_refused_with_one_line(
    pinned: Pinned, workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    cases = {
        "both.yaml": [{"sha256": "ab" * 32, "common_name": "X", "organisation": "Y"}],
        "short.yaml": [{"sha256": "abcd"}],
        "cn-only.yaml": [{"common_name": "X"}],
        "extra.yaml": [{"common_name": "X", "organisation": "Y", "role": "admin"}],
        "empty.yaml": [],
    }
    for name, document in cases.items():
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document))
        res = cli("check", pinned.vendor, "--home", workspace.home, "--signers", path)
        assert res.code == 2, name
        [line] = res.error_lines
        assert line.startswith(ERROR_PREFIX) and str(path) in line


def test_package_and_verify_package_honour_the_list(
    pinned: Pinned, workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    src = tmp_path / "delivery"
    src.mkdir()
    (src / "ours.jpg").write_bytes(pinned.ours.read_bytes())
    signers = tmp_path / "signers.yaml"
    signers.write_text(yaml.safe_dump([{"common_name": "Skyline VFX Compositing", "organisation": "Skyline VFX Ltd"}]))
    res = cli("package", src, "-o", tmp_path / "blocked", "--home", workspace.home, "--signers", signers)
    assert res.code == 1 and "GP-SIGNER-001" in res.stdout
    assert not (tmp_path / "blocked").exists()
    res = cli("package", src, "-o", tmp_path / "pkg", "--home", workspace.home)
    assert res.code == 0, res.stdout
    res = cli("verify-package", tmp_path / "pkg", "--home", workspace.home, "--signers", signers)
    assert res.code == 1 and "GP-SIGNER-001" in res.stdout
