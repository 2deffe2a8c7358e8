"""An independent C2PA implementation agrees with what we write: @trustnxt/c2pa-ts (pure TypeScript).

`make test` installs the pinned package into tests/.cache/js (see the Makefile); tests never touch
the network. c2pa-ts does not check trust anchors and cannot parse c2pa-rs time-stamp tokens, so
these assets are signed without a TSA; trust is covered by our own tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from payload import flipped_copy

from genai_provenance.credentials.genai_scan import DISCLOSURE_LABEL
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.workspace import init_workspace

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "fixtures" / "media"
DISCLOSURES = ROOT / "fixtures" / "disclosures"
SCRIPT = ROOT / "tests" / "js" / "verify.mjs"
# The pin lives in the Makefile, which installs it (`make test`).
C2PA_TS_VERSION = re.search(r"^C2PA_TS_VERSION\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
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


def c2pa_ts(*paths: Path) -> list[dict]:
    """Run tests/js/verify.mjs once over all `paths` (node and c2pa-ts start once)."""
    assert NODE is not None
    argv = [NODE, str(SCRIPT), *map(str, paths)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    return results if len(paths) > 1 else [results]


def alter_disclosure(src: Path, dst: Path) -> None:
    """Copy with the production ID inside our signed disclosure changed (same length, so offsets hold)."""
    data = src.read_bytes()
    assert data.count(b"PRJ-0042") >= 1
    dst.write_bytes(data.replace(b"PRJ-0042", b"PRJ-0666"))


@dataclass
class Checked:
    files: dict[str, Path]
    results: dict[tuple[str, str], dict]  # (variant, name) -> c2pa-ts result; variant signed/flipped/altered


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    """Our signed JPEG and MP4, tampered copies of each, and an unsigned file, all read by c2pa-ts."""
    base = tmp_path_factory.mktemp("independent")
    ws = init_workspace(base / "ws", "Independent Check Studio").workspace
    trust = TrustSettings(ws.trust_anchors())
    files: dict[tuple[str, str], Path] = {("unsigned", "plate.jpg"): MEDIA / "plate.jpg"}
    for name in ("plate.jpg", "plate.mp4"):
        out = base / "signed" / name
        req = SignRequest(MEDIA / name, out, DISCLOSURES / "bg_replace.json", ws.identity(), trust)
        assert sign_asset(req).report.status == "trusted"
        files["signed", name] = out
        for variant in ("flipped", "altered"):
            (base / variant).mkdir(exist_ok=True)
            files[variant, name] = base / variant / name
        flipped_copy(out, files["flipped", name])
        alter_disclosure(out, files["altered", name])
    keys = list(files)
    results = dict(zip(keys, c2pa_ts(*(files[k] for k in keys)), strict=True))
    return Checked({name: files["signed", name] for name in ("plate.jpg", "plate.mp4")}, results)


def test_pinned_version_is_installed() -> None:
    assert _installed_version() == C2PA_TS_VERSION


@pytest.mark.parametrize("name", ["plate.jpg", "plate.mp4"])
def test_c2pa_ts_validates_our_output(checked: Checked, name: str) -> None:
    result = checked.results["signed", name]
    assert result["manifest_found"] is True
    assert result["manifests"] == 1
    assert result["validation_errors"] == []
    assert result["valid"] is True
    assert result["claim_signature_ok"] is True


@pytest.mark.parametrize("name", ["plate.jpg", "plate.mp4"])
def test_c2pa_ts_sees_our_assertions(checked: Checked, name: str) -> None:
    result = checked.results["signed", name]
    assert result["disclosure_label_seen"] is True
    assert result["disclosure_created"] is True  # attributed to the signer, not merely gathered
    assert "c2pa.actions.v2" in result["assertions"]
    assert "cawg.training-mining" in result["assertions"]
    assert result["digital_source_type_seen"] is True
    assert GENAI_SOURCE in result["digital_source_types"]
    assert not any(uri.endswith(DISCLOSURE_LABEL) for uri in result["gathered_assertions"])


def test_c2pa_ts_finds_nothing_in_an_unsigned_file(checked: Checked) -> None:
    result = checked.results["unsigned", "plate.jpg"]
    assert result["manifest_found"] is False
    assert result["valid"] is False


@pytest.mark.parametrize("name", ["plate.jpg", "plate.mp4"])
def test_c2pa_ts_catches_a_flipped_payload_byte(checked: Checked, name: str) -> None:
    result = checked.results["flipped", name]
    assert result["manifest_found"] is True
    assert result["valid"] is False
    assert {e["code"] for e in result["validation_errors"]} & HASH_MISMATCH, result["validation_errors"]


@pytest.mark.parametrize("name", ["plate.jpg", "plate.mp4"])
def test_c2pa_ts_catches_an_altered_disclosure(checked: Checked, name: str) -> None:
    result = checked.results["altered", name]
    assert result["valid"] is False
    assert any(
        e["code"] == "assertion.hashedURI.mismatch" and (e["url"] or "").endswith(DISCLOSURE_LABEL)
        for e in result["validation_errors"]
    ), result["validation_errors"]


def test_single_file_mode_prints_one_object(checked: Checked) -> None:
    (result,) = c2pa_ts(checked.files["plate.jpg"])
    assert result["file"] == str(checked.files["plate.jpg"])
    assert result["valid"] is True
