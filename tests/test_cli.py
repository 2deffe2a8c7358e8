"""The command line: JSON reports validate against their schemas, folders are walked, exit codes hold."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import MEDIA, IdentityFiles, sha256

from genai_provenance import __version__
from genai_provenance.demo import flip_payload_byte
from genai_provenance.model.provenance import STATUSES, TRUSTED
from genai_provenance.reports.text import SIGNATURE_LIMITS
from genai_provenance.schemas import validator
from genai_provenance.workspace import Workspace

DISCLOSURE = MEDIA.parent / "disclosures" / "bg_replace.json"


def test_version_and_help(cli: Any) -> None:
    assert cli("--version").stdout.strip().endswith(__version__)
    res = cli("--help")
    assert res.code == 0
    for command in ("init", "sign", "verify", "demo"):
        assert command in res.stdout


@pytest.mark.parametrize("name", ["plate.jpg", "plate.mp4", "dialogue.wav"])
def test_sign_json_validates(name: str, cli: Any, workspace: Workspace, tmp_path: Path) -> None:
    out = tmp_path / name
    res = cli("sign", MEDIA / name, "-o", out, "--disclosure", DISCLOSURE, "--home", workspace.home, "--format", "json")
    assert res.code == 0, res.stderr
    doc = res.json()
    validator("sign-report").validate(doc)
    validator("verify-report#/$defs/asset").validate(doc["asset"])
    assert doc["output"] == str(out) and doc["asset"]["status"] == TRUSTED
    assert doc["thumbnail"] is (name != "dialogue.wav")
    assert not any("trust anchors" in w for w in doc["warnings"])


def test_sign_json_for_untrusted_signer_carries_a_warning(
    cli: Any, outsider: IdentityFiles, workspace: Workspace, tmp_path: Path
) -> None:
    res = cli(
        "sign", MEDIA / "plate.png", "-o", tmp_path / "p.png", "--disclosure", DISCLOSURE,
        *outsider.cli_args(), "--home", workspace.home, "--format", "json",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    doc = res.json()
    validator("sign-report").validate(doc)
    assert doc["asset"]["status"] == "valid-untrusted"
    assert any("trust anchors" in w for w in doc["warnings"])


@pytest.fixture(scope="module")
def mixed_folder(
    sign_media: Any, outsider: IdentityFiles, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """One asset of every status, some in a sub-folder, plus files verify skips (listed) or ignores."""
    root = tmp_path_factory.mktemp("deliverables")
    sub = root / "reel1" / "sh010"
    sub.mkdir(parents=True)
    expected = {}
    trusted = sign_media("plate.jpg", "bg_replace.json", out=root / "trusted.jpg").output
    expected[str(trusted)] = "trusted"
    untrusted = sign_media("plate.png", "plate.json", out=sub / "untrusted.png", identity=outsider.identity).output
    expected[str(untrusted)] = "valid-untrusted"
    good_mp4 = sign_media("plate.mp4", "plate.json").output
    flip_payload_byte(good_mp4, sub / "tampered.mp4")
    expected[str(sub / "tampered.mp4")] = "invalid"
    shutil.copy(MEDIA / "dialogue.wav", root / "unsigned.wav")
    expected[str(root / "unsigned.wav")] = "no-credentials"
    (sub / "truncated.mov").write_bytes((MEDIA / "plate_h264.mov").read_bytes()[:3000])
    expected[str(sub / "truncated.mov")] = "unreadable"
    (root / "notes.txt").write_text("not media")
    (root / ".DS_Store").write_bytes(b"ignored")
    (sub / ".trusted.jpg.abc.part").write_bytes(b"skipped")
    return root, expected


def test_verify_folder_json_validates_and_counts(cli: Any, workspace: Workspace, mixed_folder: tuple) -> None:
    root, expected = mixed_folder
    res = cli("verify", root, "--home", workspace.home, "--format", "json")
    assert res.code == 1
    doc = res.json()
    validator("verify-report").validate(doc)
    assert {a["path"]: a["status"] for a in doc["assets"]} == expected
    assert doc["discovery"]["skipped"] == [
        {"path": str(root / "notes.txt"), "reason": "not a media file"},
        {"path": str(root / "reel1" / "sh010" / ".trusted.jpg.abc.part"), "reason": "not a media file"},
    ]
    assert doc["discovery"]["ignored"] == [str(root / ".DS_Store")]
    summary = doc["summary"]
    assert summary["assets"] == 5 and summary["passed"] == 1 and summary["failed"] == 4
    assert summary["by_status"] == {s: 1 for s in STATUSES}
    assert summary["genai"] == 1
    for asset in doc["assets"]:
        if asset["status"] in ("invalid", "unreadable", "valid-untrusted"):
            assert asset["failures"], asset["path"]
            assert all(f["explanation"] for f in asset["failures"])


def test_verify_text_names_every_asset(cli: Any, workspace: Workspace, mixed_folder: tuple) -> None:
    root, expected = mixed_folder
    res = cli("verify", root, "--home", workspace.home)
    assert res.code == 1 and res.stderr == ""
    for path in expected:
        assert path in res.stdout
    assert "5 assets: 1 trusted, 4 not passing, 1 with GenAI" in res.stdout
    assert SIGNATURE_LIMITS in res.stdout


def test_verify_exits_zero_only_when_all_trusted(
    cli: Any, sign_media: Any, workspace: Workspace, tmp_path: Path
) -> None:
    for name in ("plate.jpg", "plate.mp4"):
        sign_media(name, "bg_replace.json", out=tmp_path / name)
    res = cli("verify", tmp_path, "--home", workspace.home, "--format", "json")
    assert res.code == 0
    doc = res.json()
    validator("verify-report").validate(doc)
    assert doc["summary"]["passed"] == 2 and doc["summary"]["genai"] == 2
    # Without any trust anchors the same files cannot pass, and the text says why.
    res = cli("verify", tmp_path, "--home", tmp_path / "no-workspace")
    assert res.code == 1 and "no trust anchors" in res.stdout


def test_verify_json_shows_failure_codes_for_tampering(cli: Any, workspace: Workspace, mixed_folder: tuple) -> None:
    root, _ = mixed_folder
    doc = cli("verify", root / "reel1" / "sh010" / "tampered.mp4", "--home", workspace.home, "--format", "json").json()
    [asset] = doc["assets"]
    assert "assertion.bmffHash.mismatch" in [f["code"] for f in asset["failures"]]


def test_bad_trust_file_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    bogus = tmp_path / "anchors.pem"
    bogus.write_text("not a certificate")
    res = cli("verify", MEDIA / "plate.jpg", "--trust", bogus)
    assert res.code == 2 and len(res.error_lines) == 1 and str(bogus) in res.stderr


def test_demo_runs_as_a_process(cli_process: Any) -> None:
    res = cli_process("demo")
    assert res.code == 0, res.stderr
    assert "Demo complete" in res.stdout and "[FAIL]" not in res.stdout


def test_inputs_of_verify_are_never_modified(cli: Any, workspace: Workspace, mixed_folder: tuple) -> None:
    root, expected = mixed_folder
    before = {p: sha256(Path(p)) for p in expected}
    cli("verify", root, "--home", workspace.home, "--format", "json")
    assert {p: sha256(Path(p)) for p in expected} == before
