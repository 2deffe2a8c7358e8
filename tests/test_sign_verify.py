"""Round trip for every promised format: sign, read back, verify trusted, and check what was written."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import IPTC, MEDIA, SIGNABLE, disclosure, needs_ffmpeg, sha256
from PIL import Image

from genai_provenance.credentials.genai_scan import DISCLOSURE_LABEL
from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.credentials.sign_asset import SignResult
from genai_provenance.model.provenance import TRUSTED

FORMATS = sorted(SIGNABLE)
OUR_CREATED = {"c2pa.actions.v2", DISCLOSURE_LABEL, "cawg.training-mining"}


@dataclass
class ReadBack:
    """What c2pa itself reads from a signed file (independent of our store.py model)."""

    store: dict[str, Any]
    detailed: dict[str, Any]
    thumbnail: bytes | None

    @property
    def active(self) -> dict[str, Any]:
        return self.store["manifests"][self.store["active_manifest"]]

    def assertion(self, label: str) -> Any:
        return next(a["data"] for a in self.active["assertions"] if a["label"] == label)

    @property
    def created_labels(self) -> set[str]:
        claim = self.detailed["manifests"][self.store["active_manifest"]]["claim"]
        return {entry["url"].rsplit("/", 1)[-1] for entry in claim.get("created_assertions", [])}


def read_back(path: Path, mime: str, trust: TrustSettings) -> ReadBack:
    with open(path, "rb") as stream, c2pa.Reader(mime, stream, context=trust.context()) as reader:
        store = json.loads(reader.json())
        detailed = json.loads(reader.detailed_json())
        thumb = None
        ident = (store["manifests"][store["active_manifest"]].get("thumbnail") or {}).get("identifier")
        if ident:
            out = io.BytesIO()
            reader.resource_to_stream(ident, out)
            thumb = out.getvalue()
    return ReadBack(store, detailed, thumb)


@pytest.fixture(scope="module")
def signed(sign_media: Any) -> dict[str, tuple[SignResult, str, str]]:
    """Each format signed once with the GenAI background-replacement disclosure."""
    out = {}
    for name in FORMATS:
        before = sha256(MEDIA / name)
        result = sign_media(name, "bg_replace.json")
        assert sha256(MEDIA / name) == before, f"{name}: input was modified"
        out[name] = (result, *SIGNABLE[name])
    return out


@pytest.mark.parametrize("name", FORMATS)
def test_round_trip_is_trusted_and_disclosure_reads_back(name: str, signed: dict, trust: TrustSettings) -> None:
    result, mime, _ = signed[name]
    assert result.report.status == TRUSTED
    assert result.output.stat().st_size > (MEDIA / name).stat().st_size
    report = verify_file(result.output, trust.context())
    assert report.status == TRUSTED, [f.code for f in report.failures]
    assert report.format == mime
    assert report.failures == []
    assert report.genai is True
    assert report.signer is not None and report.signer.common_name == "Test Post House Media Signer (development)"
    assert [d["disclosure"] for d in report.disclosures] == [disclosure("bg_replace.json")]
    assert report.disclosures[0]["manifest"] == report.active_manifest
    [use] = report.genai_uses
    assert (use.declared, use.category, use.source_type) == (
        True,
        "background-element",
        "compositeWithTrainedAlgorithmicMedia",
    )


@pytest.mark.parametrize("name", FORMATS)
def test_actions_carry_source_types_agent_description_and_time_range(
    name: str, signed: dict, trust: TrustSettings
) -> None:
    result, mime, _ = signed[name]
    actions = read_back(result.output, mime, trust).assertion("c2pa.actions.v2")["actions"]
    first, edit = actions
    assert first["action"] == "c2pa.created"
    assert first["digitalSourceType"] == IPTC + "digitalCapture"
    assert edit["action"] == "c2pa.edited"
    assert edit["digitalSourceType"] == IPTC + "compositeWithTrainedAlgorithmicMedia"
    assert edit["softwareAgent"] == {"name": "Runway Gen-4", "version": "4.0"}
    assert edit["description"] == "sky replaced"
    [change] = edit["changes"]
    # 00:00:00:03 to 00:00:00:09 at the default 24 fps
    assert change["region"] == [{"type": "temporal", "time": {"type": "npt", "start": "0.125", "end": "0.375"}}]
    assert edit["parameters"]["com.genai-provenance.model"] == "gen4-turbo"


@pytest.mark.parametrize("name", FORMATS)
def test_training_mining_forbidden_and_our_assertions_are_created(
    name: str, signed: dict, trust: TrustSettings
) -> None:
    result, mime, _ = signed[name]
    back = read_back(result.output, mime, trust)
    entries = back.assertion("cawg.training-mining")["entries"]
    for key in ("cawg.ai_generative_training", "cawg.ai_training", "cawg.data_mining"):
        assert entries[key]["use"] == "notAllowed"
    assert back.created_labels >= OUR_CREATED, back.created_labels
    gathered = {
        e["url"].rsplit("/", 1)[-1]
        for e in back.detailed["manifests"][back.store["active_manifest"]]["claim"].get("gathered_assertions", [])
    }
    assert not OUR_CREATED & gathered
    assert back.assertion(DISCLOSURE_LABEL) == disclosure("bg_replace.json")
    assert result.report.manifest(result.report.active_manifest).training_mining == {
        "ai_generative_training": "notAllowed",
        "ai_training": "notAllowed",
        "data_mining": "notAllowed",
    }


@needs_ffmpeg()
@pytest.mark.parametrize("name", FORMATS)
def test_thumbnail_for_stills_and_video(name: str, signed: dict, trust: TrustSettings) -> None:
    result, mime, kind = signed[name]
    thumb = read_back(result.output, mime, trust).thumbnail
    if kind == "audio":
        assert thumb is None and result.thumbnail is False
        return
    assert result.thumbnail is True
    assert thumb is not None and thumb[:2] == b"\xff\xd8"
    with Image.open(io.BytesIO(thumb)) as img:
        assert img.format == "JPEG" and max(img.size) <= 320 and min(img.size) > 0


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed")
@pytest.mark.parametrize("name", ["plate.mp4", "plate_h264.mov", "plate_prores.mov", "dialogue.wav", "dialogue.mp3"])
def test_signed_av_still_decodes(name: str, signed: dict) -> None:
    result = signed[name][0]
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", str(result.output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0 and probe.stderr == "", probe.stderr
    assert probe.stdout.split()


def test_created_genai_from_yaml_disclosure(sign_media: Any, trust: TrustSettings) -> None:
    """A GenAI 'created' use becomes the first action, with the generator as software agent."""
    result = sign_media("plate.png", "moodboard.yaml")
    back = read_back(result.output, "image/png", trust)
    [first] = back.assertion("c2pa.actions.v2")["actions"]
    assert first["action"] == "c2pa.created"
    assert first["digitalSourceType"] == IPTC + "trainedAlgorithmicMedia"
    assert first["softwareAgent"] == {"name": "Firefly Image", "version": "4"}
    report = verify_file(result.output, trust.context())
    assert report.status == TRUSTED and report.genai is True
    assert report.disclosures[0]["disclosure"] == disclosure("moodboard.yaml")


def test_capture_only_disclosure_is_not_genai(sign_media: Any, trust: TrustSettings) -> None:
    result = sign_media("plate.jpg", "plate.json")
    report = verify_file(result.output, trust.context())
    assert report.status == TRUSTED
    assert report.genai is False and report.genai_possible is False
    assert report.disclosures[0]["disclosure"] == disclosure("plate.json")
