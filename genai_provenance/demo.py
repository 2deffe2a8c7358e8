"""The main job end to end on bundled fixtures, in a throw-away workspace."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from genai_provenance.clearances.ledger import Grant, Ledger, grant
from genai_provenance.clearances.records import load_anchors
from genai_provenance.credentials.bmff import payload_offset
from genai_provenance.credentials.read import TrustSettings, verify_paths
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.gate.check import CheckConfig
from genai_provenance.gate.package import PackageRequest, PackageResult, run_package
from genai_provenance.gate.verify_package import verify_package
from genai_provenance.model.provenance import INVALID, TRUSTED, AssetReport
from genai_provenance.resources import bundled
from genai_provenance.workspace import Workspace, init_workspace


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


def _gate(work: Path, ws: Workspace, out: Path, step: Callable[[DemoStep], None]) -> None:
    """The final-deliverable gate: blocked without approval, packaged with it, re-verified."""
    anchors = ws.trust_anchors(), ws.approver_anchors()
    config = CheckConfig(*anchors, str(ws.ledger_path), None, "final", packager_pem=ws.packager_anchors())
    target = work / "package" / "EP101_delivery"

    def attempt() -> PackageResult:
        return run_package(PackageRequest(out, target, config, ws.packager_identity(), ws.org))

    blocked = attempt()
    rules = sorted({f.rule_id for v in blocked.verdicts for f in v.evaluation.findings if f.severity == "block"})
    step(
        DemoStep(
            "Tried to package the deliverables as a final delivery",
            blocked.blocked and not target.exists(),
            lines=[
                f"blocked by {', '.join(rules)}: the GenAI sky replacement has no written approval",
                "nothing was written",
            ],
        )
    )
    with Ledger(ws.ledger_path, load_anchors(ws.approver_anchors())) as ledger:
        grant(
            ledger,
            Grant(
                "approval",
                "APR-2026-0042",
                "PRJ-0042",
                ["EP101_SH0*"],
                ["background-element", "final-deliverable"],
                note="demo approval",
            ),
            ws.approver_identity(),
        )
    step(
        DemoStep(
            "Studio legal granted APR-2026-0042 (background-element, final-deliverable, EP101_SH0*)",
            True,
            lines=["a signed record in the workspace ledger, issued by the approver identity"],
        )
    )
    packaged = attempt()
    check = verify_package(target, config) if packaged.written else None
    lines = [f"{target}: BagIt (SHA-256 + SHA-512), {len(packaged.verdicts)} assets, signed package report"]
    if check is not None:
        lines.append("verify-package: " + ("passed" if check.ok else "; ".join(check.problems)))
    step(DemoStep("Packaged the delivery and re-verified the package", bool(check and check.ok), lines=lines))


def run_demo(folder: Path | None = None, on_step: Callable[[DemoStep], None] | None = None) -> DemoResult:
    """Init, sign a plate and a GenAI comp, verify, catch tampering, then the final-deliverable gate."""
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
        summary = [f"{Path(r.path).name}: {r.status}, GenAI {'yes' if r.genai else 'none recorded'}" for r in reports]
        step(DemoStep("Verified the deliverables folder", all(r.status == TRUSTED for r in reports), lines=summary))
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
        _gate(work, ws, out, step)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return result
