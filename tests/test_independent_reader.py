"""An independent C2PA implementation agrees with what we write: @trustnxt/c2pa-ts (pure TypeScript).

`make test` installs the pinned package into tests/.cache/js (see the Makefile); tests never touch
the network. c2pa-ts does not check trust anchors and cannot parse c2pa-rs time-stamp tokens, so
these assets are signed without a TSA; trust is covered by our own tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from genai_provenance.bmff import payload_offset
from genai_provenance.genai_scan import DISCLOSURE_LABEL
from genai_provenance.sign import SignRequest, sign_asset
from genai_provenance.verify import TrustSettings
from genai_provenance.workspace import init_workspace

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "fixtures" / "media"
DISCLOSURES = ROOT / "fixtures" / "disclosures"
SCRIPT = ROOT / "tests" / "js" / "verify.mjs"
C2PA_TS_VERSION = "0.9.4"  # keep in step with the Makefile
PACKAGE = ROOT / "tests" / ".cache" / "js" / "node_modules" / "@trustnxt" / "c2pa-ts"
GENAI_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
HASH_MISMATCH = {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch"}

NODE = shutil.which("node")


def _installed_version() -> str | None:
    try:
        return json.loads((PACKAGE / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed (Debian: apt-get install nodejs npm)"),
    pytest.mark.skipif(
        _installed_version() is None,
        reason=f"@trustnxt/c2pa-ts {C2PA_TS_VERSION} is not installed in tests/.cache/js; `make test` installs it",
    ),
]


def c2pa_ts(path: Path) -> dict:
    assert NODE is not None
    done = subprocess.run([NODE, str(SCRIPT), str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def flip_jpeg_scan_byte(src: Path, dst: Path) -> int:
    """Copy a JPEG with one byte of entropy-coded picture data changed (markers left intact)."""
    data = bytearray(src.read_bytes())
    sos = data.rfind(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")
    offset = (start + len(data) - 2) // 2
    while data[offset] in (0x00, 0xFE, 0xFF) or data[offset - 1] == 0xFF:
        offset += 1
    data[offset] ^= 0x01
    dst.write_bytes(bytes(data))
    return offset


def flip_mp4_payload_byte(src: Path, dst: Path) -> int:
    data = bytearray(src.read_bytes())
    offset = payload_offset(bytes(data))
    data[offset] ^= 0xFF
    dst.write_bytes(bytes(data))
    return offset


def alter_disclosure(src: Path, dst: Path) -> None:
    """Copy with the production ID inside our signed disclosure changed (same length, so offsets hold)."""
    data = src.read_bytes()
    assert data.count(b"PRJ-0042") >= 1
    dst.write_bytes(data.replace(b"PRJ-0042", b"PRJ-0666"))


@dataclass
class Signed:
    files: dict[str, Path]
    results: dict[str, dict]
    folder: Path


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    base = tmp_path_factory.mktemp("independent")
    ws = init_workspace(base / "ws", "Independent Check Studio").workspace
    trust = TrustSettings(ws.trust_anchors())
    files, results = {}, {}
    for name in ("plate.jpg", "plate.mp4"):
        out = base / "signed" / name
        req = SignRequest(MEDIA / name, out, DISCLOSURES / "bg_replace.json", ws.identity(), trust)
        assert sign_asset(req).report.status == "trusted"
        files[name] = out
        results[name] = c2pa_ts(out)
    return Signed(files, results, base)


def test_pinned_version_is_installed() -> None:
    assert _installed_version() == C2PA_TS_VERSION


@pytest.mark.parametrize("name", ["plate.jpg", "plate.mp4"])
def test_c2pa_ts_validates_our_output(signed: Signed, name: str) -> None:
    result = signed.results[name]
    assert result["manifest_found"] is True
    assert result["manifests"] == 1
    assert result["validation_errors"] == []
    assert result["valid"] is True
    assert result["claim_signature_ok"] is True


@pytest.mark.parametrize("name", ["plate.jpg", "plate.mp4"])
def test_c2pa_ts_sees_our_assertions(signed: Signed, name: str) -> None:
    result = signed.results[name]
    assert result["disclosure_label_seen"] is True
    assert result["disclosure_created"] is True  # attributed to the signer, not merely gathered
    assert "c2pa.actions.v2" in result["assertions"]
    assert "cawg.training-mining" in result["assertions"]
    assert result["digital_source_type_seen"] is True
    assert GENAI_SOURCE in result["digital_source_types"]
    assert not any(uri.endswith(DISCLOSURE_LABEL) for uri in result["gathered_assertions"])


def test_c2pa_ts_finds_nothing_in_an_unsigned_file() -> None:
    result = c2pa_ts(MEDIA / "plate.jpg")
    assert result["manifest_found"] is False
    assert result["valid"] is False


@pytest.mark.parametrize(
    ("name", "flip"), [("plate.jpg", flip_jpeg_scan_byte), ("plate.mp4", flip_mp4_payload_byte)]
)
def test_c2pa_ts_catches_a_flipped_payload_byte(signed: Signed, tmp_path: Path, name: str, flip) -> None:
    tampered = tmp_path / name
    flip(signed.files[name], tampered)
    result = c2pa_ts(tampered)
    assert result["manifest_found"] is True
    assert result["valid"] is False
    assert {e["code"] for e in result["validation_errors"]} & HASH_MISMATCH, result["validation_errors"]


@pytest.mark.parametrize("name", ["plate.jpg", "plate.mp4"])
def test_c2pa_ts_catches_an_altered_disclosure(signed: Signed, tmp_path: Path, name: str) -> None:
    tampered = tmp_path / name
    alter_disclosure(signed.files[name], tampered)
    result = c2pa_ts(tampered)
    assert result["valid"] is False
    assert any(
        e["code"] == "assertion.hashedURI.mismatch" and (e["url"] or "").endswith(DISCLOSURE_LABEL)
        for e in result["validation_errors"]
    ), result["validation_errors"]
