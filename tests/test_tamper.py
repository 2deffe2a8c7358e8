"""Tampering, moved manifests, missing credentials and untrusted signers are all caught."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import IPTC, MEDIA, IdentityFiles, disclosure, sha256
from payload import OFFSETS as PAYLOAD
from payload import flipped_copy, jpeg_segments
from PIL import Image, ImageDraw

from genai_provenance.credentials.bmff import top_level_boxes
from genai_provenance.credentials.identity import Identity
from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.model.provenance import INVALID, NO_CREDENTIALS, TRUSTED, VALID_UNTRUSTED
from genai_provenance.workspace import Workspace


@pytest.fixture(scope="module")
def signed(sign_media: Any) -> dict[str, Path]:
    return {name: sign_media(name, "bg_replace.json").output for name in PAYLOAD}


# --------------------------------------------------------------------------- flipped payload byte


@pytest.mark.parametrize("name", sorted(PAYLOAD))
def test_flipped_payload_byte_is_invalid(
    name: str, signed: dict[str, Path], trust: TrustSettings, tmp_path: Path, cli: Any, workspace: Workspace
) -> None:
    good = signed[name]
    data = good.read_bytes()
    offset = PAYLOAD[name](data)
    assert 64 < offset < len(data) - 256, "must be payload, not the padding at the end"
    bad = flipped_copy(good, tmp_path / name, offset)
    report = verify_file(bad, trust.context())
    assert report.status == INVALID
    assert any(f.code.endswith("Hash.mismatch") for f in report.failures), [f.code for f in report.failures]
    assert verify_file(good, trust.context()).status == TRUSTED  # the untouched original still passes
    res = cli("verify", bad, "--home", workspace.home)
    assert res.code == 1
    assert "INVALID" in res.stdout


def test_edited_disclosure_is_invalid(signed: dict[str, Path], trust: TrustSettings, tmp_path: Path) -> None:
    """Changing the declared approval ID inside the manifest breaks it."""
    good = signed["plate.jpg"]
    data = bytearray(good.read_bytes())
    at = data.index(b"APR-2026-0042")
    data[at + 12] = ord("3")
    bad = tmp_path / "forged.jpg"
    bad.write_bytes(bytes(data))
    report = verify_file(bad, trust.context())
    assert report.status == INVALID
    assert report.failures


# --------------------------------------------------------------------------- moved manifests


def other_jpeg(path: Path) -> Path:
    """A different picture with the same JPEG layout as the fixture."""
    with Image.open(MEDIA / "plate.jpg") as img:
        pic = img.convert("RGB")
    ImageDraw.Draw(pic).rectangle((10, 10, 120, 80), fill=(250, 20, 20))
    pic.save(path, "JPEG", quality=90)
    return path


def test_manifest_moved_to_another_jpeg_is_invalid(
    signed: dict[str, Path], trust: TrustSettings, tmp_path: Path, cli: Any, workspace: Workspace
) -> None:
    donor = signed["plate.jpg"].read_bytes()
    manifest = [(pos, n) for marker, pos, n in jpeg_segments(donor) if marker == 0xEB]  # APP11: JUMBF
    assert manifest
    start, end = manifest[0][0], manifest[-1][0] + manifest[-1][1]
    jumbf = donor[start:end]
    target = other_jpeg(tmp_path / "target.jpg")
    assert verify_file(target, trust.context()).status == NO_CREDENTIALS
    data = target.read_bytes()
    assert jpeg_segments(data)[0][:2] == jpeg_segments(donor)[0][:2] == (0xE0, 2)  # same APP0 header layout
    moved = tmp_path / "moved.jpg"
    moved.write_bytes(data[:start] + jumbf + data[start:])
    report = verify_file(moved, trust.context())
    assert report.status == INVALID
    assert "assertion.dataHash.mismatch" in [f.code for f in report.failures]
    # The signature itself is intact: it names the original signer, but the file is not the one signed.
    assert report.signer is not None and report.signer.common_name.startswith("Test Post House")
    assert cli("verify", moved, "--home", workspace.home).code == 1


def test_manifest_moved_to_another_mp4_is_invalid(
    signed: dict[str, Path], trust: TrustSettings, tmp_path: Path
) -> None:
    donor = signed["plate.mp4"].read_bytes()
    [(_, pos, size)] = [b for b in top_level_boxes(donor) if b[0] == "uuid"]
    target = (MEDIA / "comp.mp4").read_bytes()
    ftyp_end = next(o + s for kind, o, s in top_level_boxes(target) if kind == "ftyp")
    moved = tmp_path / "moved.mp4"
    moved.write_bytes(target[:ftyp_end] + donor[pos : pos + size] + target[ftyp_end:])
    report = verify_file(moved, trust.context())
    assert report.status == INVALID
    assert "assertion.bmffHash.mismatch" in [f.code for f in report.failures]


def test_sidecar_moved_to_another_exr_is_invalid(identity: Identity, trust: TrustSettings, tmp_path: Path) -> None:
    """EXR cannot embed: a sidecar signed for one frame does not verify against another."""
    frame = tmp_path / "frame.exr"
    shutil.copy(MEDIA / "plate.exr", frame)
    definition = {
        "claim_generator_info": [{"name": "sidecar-test", "version": "1"}],
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}]},
            }
        ],
    }
    builder = c2pa.Builder(definition, context=trust.context())
    builder.set_no_embed()
    with builder, open(frame, "rb") as src, open(tmp_path / "copy.exr", "w+b") as dst:
        manifest = builder.sign(identity.signer(), "image/x-exr", src, dst)
    (tmp_path / "frame.exr.c2pa").write_bytes(manifest)
    good = verify_file(frame, trust.context())
    assert good.status == TRUSTED and good.embedded is False

    other = tmp_path / "other.exr"
    data = bytearray(frame.read_bytes())
    data[len(data) // 2] ^= 0xFF
    other.write_bytes(bytes(data))
    (tmp_path / "other.exr.c2pa").write_bytes(manifest)
    report = verify_file(other, trust.context())
    assert report.status == INVALID
    assert "assertion.dataHash.mismatch" in [f.code for f in report.failures]


# --------------------------------------------------------------------------- no credentials, untrusted


def test_unsigned_file_is_no_credentials_not_no_genai(
    tmp_path: Path, trust: TrustSettings, cli: Any, workspace: Workspace
) -> None:
    plain = tmp_path / "plain.jpg"
    shutil.copy(MEDIA / "plate.jpg", plain)
    assert verify_file(plain, trust.context()).status == NO_CREDENTIALS
    res = cli("verify", plain, "--home", workspace.home)
    assert res.code == 1
    assert "NO CREDENTIALS" in res.stdout and "does not mean no AI" in res.stdout
    doc = cli("verify", plain, "--home", workspace.home, "--format", "json").json()
    assert doc["assets"][0]["status"] == NO_CREDENTIALS and doc["summary"]["failed"] == 1


def test_exr_without_sidecar_is_no_credentials(trust: TrustSettings) -> None:
    report = verify_file(MEDIA / "plate.exr", trust.context())
    assert report.status == NO_CREDENTIALS
    assert any("sidecar" in note for note in report.notes)


def test_outsider_signature_is_valid_untrusted(
    sign_media: Any, outsider: IdentityFiles, trust: TrustSettings, cli: Any, workspace: Workspace
) -> None:
    result = sign_media("plate.jpg", "plate.json", identity=outsider.identity)
    assert result.report.status == VALID_UNTRUSTED
    assert any("trust anchors" in w for w in result.warnings)
    report = verify_file(result.output, trust.context())
    assert report.status == VALID_UNTRUSTED
    assert [f.code for f in report.failures] == ["signingCredential.untrusted"]
    assert report.signer is not None and report.signer.common_name == "Elsewhere Signer"
    assert report.disclosures[0]["disclosure"] == disclosure("plate.json")
    res = cli("verify", result.output, "--home", workspace.home)
    assert res.code == 1 and "VALID BUT UNTRUSTED" in res.stdout
    # The same file is trusted by whoever trusts the outsider's root.
    assert cli("verify", result.output, "--trust", outsider.root_pem).code == 0


# --------------------------------------------------------------------------- tampered parent ingredient


def test_tampered_parent_ingredient_fails_the_child(
    sign_media: Any, trust: TrustSettings, tmp_path: Path, cli: Any, workspace: Workspace
) -> None:
    marker = "PLATE-MARKER-7Q"
    plate_disclosure = disclosure("plate.json")
    plate_disclosure["asset"]["title"] = marker
    parent = sign_media("plate.jpg", plate_disclosure).output
    child = sign_media("plate.png", "bg_replace.json", parent=parent).output
    clean = verify_file(child, trust.context())
    assert clean.status == TRUSTED and clean.ingredients[0].status == TRUSTED

    data = bytearray(child.read_bytes())
    at = data.index(marker.encode())  # inside the parent's manifest, as carried in the child's store
    data[at] ^= 0x01
    bad = tmp_path / "child.png"
    bad.write_bytes(bytes(data))
    before = sha256(bad)
    report = verify_file(bad, trust.context())
    assert report.status != TRUSTED
    assert report.status == INVALID
    [node] = report.ingredients
    assert node.relationship == "parentOf" and node.status == INVALID
    codes = {f.code for f in node.failures}
    assert "ingredient.manifest.mismatch" in codes, codes
    # The failure names the ingredient as the reader knows it (its title), not an assertion label.
    assert all(f.where == f"ingredient {node.title}" for f in node.failures), [f.where for f in node.failures]
    assert cli("verify", bad, "--home", workspace.home).code == 1
    assert sha256(bad) == before
