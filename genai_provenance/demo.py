"""The main job end to end on bundled fixtures, in a throw-away workspace."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from genai_provenance.bmff import payload_offset
from genai_provenance.provenance import INVALID, TRUSTED, AssetReport
from genai_provenance.resources import bundled
from genai_provenance.sign import SignRequest, sign_asset
from genai_provenance.verify import TrustSettings, verify_paths
from genai_provenance.workspace import init_workspace


@dataclass
class DemoStep:
    title: str
    ok: bool
    reports: list[AssetReport] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


@dataclass
class DemoResult:
    folder: Path
    steps: list[DemoStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


def flip_payload_byte(src: Path, dst: Path) -> int:
    """Copy `src` to `dst` with one byte of the MP4 media data (mdat) inverted; return its offset."""
    data = bytearray(src.read_bytes())
    offset = payload_offset(bytes(data))
    data[offset] ^= 0xFF
    dst.write_bytes(bytes(data))
    return offset


def run_demo(folder: Path | None = None, on_step: Callable[[DemoStep], None] | None = None) -> DemoResult:
    """Init, sign a plate, sign a GenAI comp with the plate as parent, verify, tamper, verify."""
    own = folder is None
    work = folder or Path(tempfile.mkdtemp(prefix="genai-provenance-demo-"))
    result = DemoResult(work)

    def step(s: DemoStep) -> None:
        result.steps.append(s)
        if on_step:
            on_step(s)

    try:
        media, disclosures = bundled("fixtures/media"), bundled("fixtures/disclosures")
        init = init_workspace(work / "workspace", "Demo Post House")
        ws = init.workspace
        step(
            DemoStep(
                "Created a workspace with development credentials",
                True,
                lines=[f"{label}: {path}" for label, path in init.files.items()],
            )
        )
        identity, trust = ws.identity(), TrustSettings(ws.trust_anchors())
        out = work / "deliverables"
        plate = sign_asset(
            SignRequest(
                media / "plate.mp4", out / "EP101_SH010_plate_v001.mp4", disclosures / "plate.json", identity, trust
            )
        )
        step(DemoStep("Signed the camera plate (digitalCapture)", plate.report.status == TRUSTED, [plate.report]))
        comp = sign_asset(
            SignRequest(
                media / "comp.mp4",
                out / "EP101_SH010_bg_v003.mp4",
                disclosures / "bg_replace.json",
                identity,
                trust,
                parent=plate.output,
            )
        )
        step(
            DemoStep(
                "Signed the GenAI sky replacement with the plate as its parent",
                comp.report.status == TRUSTED and comp.report.genai,
                [comp.report],
            )
        )
        reports = verify_paths([out], trust)
        step(DemoStep("Verified the deliverables folder", all(r.status == TRUSTED for r in reports), reports))
        tampered_dir = work / "tampered"
        tampered_dir.mkdir()
        tampered = tampered_dir / comp.output.name
        offset = flip_payload_byte(comp.output, tampered)
        caught = verify_paths([tampered], trust)
        step(
            DemoStep(
                f"Flipped one byte of picture data (offset {offset}) in a copy and verified it",
                caught[0].status == INVALID,
                caught,
            )
        )
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return result
