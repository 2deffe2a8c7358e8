"""CAWG identity assertions: a real file made through c2pa's native identity signer (tests/cawg.py).

An identity credential that is merely not on a trust list is not tampering: the asset is
valid-untrusted, never invalid, and every report says who the identity names and how far it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cawg import sign_with_identity
from conftest import IPTC, MEDIA, CliResult, write_identity
from payload import flipped_copy

from genai_provenance.credentials.identity import Identity
from genai_provenance.schemas import validate
from genai_provenance.trust.pki import create_root, issue_leaf
from genai_provenance.workspace import Workspace

Cli = Callable[..., CliResult]
DEFINITION = {
    "claim_generator_info": [{"name": "cawg-test"}],
    "assertions": [
        {
            "label": "c2pa.actions.v2",
            "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": f"{IPTC}digitalCapture"}]},
        }
    ],
}


@pytest.fixture(scope="module")
def with_identity(workspace: Workspace, identity: Identity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cawg")
    agency = create_root("Cast Agency Root", "Cast Agency")
    person = write_identity(base / "person", issue_leaf(agency, "Jane Performer", "Cast Agency"), agency)
    return sign_with_identity(DEFINITION, MEDIA / "plate.jpg", base / "cawg.jpg", identity, person.identity)


def test_untrusted_identity_credential_is_not_tampering(with_identity: Path, workspace: Workspace, cli: Cli) -> None:
    res = cli("verify", with_identity, "--home", workspace.home, "--format", "json")
    doc = res.json()
    validate("verify-report", doc, "verify --format json")
    [asset] = doc["assets"]
    # The C2PA signer is trusted and nothing was altered: the asset is trusted (it used to be "invalid");
    # the identity it names is reported apart, as unconfirmed.
    assert asset["status"] == "trusted"
    assert res.code == 0
    assert asset["failures"] == []
    [who] = asset["identities"]
    assert who["label"] == "cawg.identity" and who["sig_type"] == "cawg.x509.cose"
    assert who["name"] == "Jane Performer" and who["issuer"] == "Cast Agency"
    assert who["verified"] is True and who["trusted"] is False
    assert who["problems"] == ["cawg.x509.credential.untrusted"]
    assert who["manifest"] == asset["active_manifest"]
    assert any("CAWG identity credential" in n for n in asset["notes"])
    text = cli("verify", with_identity, "--home", workspace.home)
    assert "CAWG identity: Jane Performer, issued by Cast Agency (signature verified, but the credential is not on" in (
        text.stdout
    )
    assert "INVALID" not in text.stdout


def test_tampered_file_with_identity_is_still_invalid(
    with_identity: Path, workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    tampered = flipped_copy(with_identity, tmp_path / "tampered.jpg")
    res = cli("verify", tampered, "--home", workspace.home, "--format", "json")
    assert res.code == 1 and res.json()["assets"][0]["status"] == "invalid"


def test_check_and_explain_report_the_identity(with_identity: Path, workspace: Workspace, cli: Cli) -> None:
    res = cli("check", with_identity, "--home", workspace.home, "--format", "json")
    doc = res.json()
    validate("check-report", doc, "check --format json")
    [verdict] = doc["assets"]
    assert verdict["verification"]["identities"][0]["name"] == "Jane Performer"
    rules = {f["rule_id"] for f in verdict["findings"]}
    assert "GP-INTEGRITY-001" not in rules and "GP-TRUST-001" not in rules  # neither broken nor an untrusted signer
    text = cli("check", with_identity, "--home", workspace.home)
    assert "CAWG identity: Jane Performer" in text.stdout
    res = cli("explain", with_identity, "--home", workspace.home, "--format", "json")
    doc = res.json()
    validate("explain-report", doc, "explain --format json")
    [stage] = doc["explanation"]["stages"]
    [sentence] = stage["identities"]
    assert "Jane Performer" in sentence and "not on a trust list" in sentence
    assert "The CAWG identity it names (Jane Performer) cannot be confirmed" in doc["explanation"]["headline"]
    assert "Jane Performer" in cli("explain", with_identity, "--home", workspace.home).stdout
