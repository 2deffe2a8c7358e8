"""verify-package: a package's bag checksums, its signed report (packager roots only), and every asset again."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import bagit

from genai_provenance.clearances.records import load_anchors, parse_time
from genai_provenance.credentials.sequence_pattern import FrameSequence, pattern_from_printf
from genai_provenance.errors import InputError, SchemaError
from genai_provenance.gate.check import AssetVerdict, CheckConfig
from genai_provenance.gate.discovery import Target, unreadable_entries
from genai_provenance.gate.pool import check_many
from genai_provenance.gate.results import FAILED, PASSED
from genai_provenance.schemas import validate
from genai_provenance.trust.detached import BadSignature, chain_problem, verify_bytes

REPORT_FILE = "genai-provenance/package-report.json"
SIGNATURE_FILE = "genai-provenance/package-report.sig.json"


@dataclass
class PackageVerification:
    path: Path
    problems: list[str] = field(default_factory=list)
    verdicts: list[AssetVerdict] = field(default_factory=list)
    report: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and not any(v.blocked for v in self.verdicts)

    @property
    def exit_code(self) -> int:
        return PASSED if self.ok else FAILED


def _bag_problems(path: Path, workers: int) -> list[str]:
    cwd = os.getcwd()
    try:
        bagit.Bag(str(path)).validate(processes=max(1, workers), fast=False)
    except bagit.BagValidationError as exc:
        details = [str(d) for d in getattr(exc, "details", None) or []]
        return details or [str(exc)]
    except bagit.BagError as exc:
        return [f"not a valid bag: {exc}"]
    finally:
        os.chdir(cwd)
    return []


def _sequence(data: Path, entry: dict[str, Any]) -> FrameSequence | None:
    """The sequence a package report lists (frame numbers and payload paths), to check again."""
    frames = []
    for frame in entry.get("frames") or []:
        number, rel = frame.get("frame"), str(frame.get("path", "")).removeprefix("data/")
        if type(number) is not int or not rel or ".." in rel.split("/"):
            return None
        frames.append((number, data / rel))
    if not frames:
        return None
    pattern = pattern_from_printf(frames[0][1].parent, str(entry.get("pattern", "")))
    return FrameSequence(pattern, tuple(sorted(frames))) if pattern is not None else None


class PackageProgress(Protocol):
    """What a progress display is told: a phase begins, how many assets, one more done."""

    def phase(self, name: str) -> None: ...
    def total(self, count: int) -> None: ...
    def advance(self, count: int) -> None: ...


def verify_package(
    path: Path,
    config: CheckConfig,
    workers: int = 1,
    pool: Any = None,
    progress: PackageProgress | None = None,
) -> PackageVerification:
    """Re-check a package: bag checksums (full), report signature, and every asset again.

    `pool` is a check_pool made with the same config and intended use final, to reuse its workers;
    `progress` hears of each phase and each asset checked.
    """
    if not path.is_dir() or not (path / "bagit.txt").is_file():
        raise InputError(f"{path}: not a package (no bagit.txt)")
    out = PackageVerification(path)
    unsafe = unreadable_entries(path)
    if unsafe:  # bagit would open a FIFO and wait forever: fail closed without reading anything
        out.problems += [f"{e.rel}: {e.reason}; a package holds regular files only" for e in unsafe]
        return out
    if progress:
        progress.phase("hashing the bag")
    out.problems += _bag_problems(path, workers)
    report_path, sig_path = path / REPORT_FILE, path / SIGNATURE_FILE
    try:
        body = report_path.read_bytes()
        signature = json.loads(sig_path.read_text(encoding="utf-8"))
        out.report = json.loads(body)
        validate("package-manifest-report", out.report, REPORT_FILE)
        validate("package-manifest-report#/$defs/signature_file", signature, SIGNATURE_FILE)
    except (OSError, ValueError, SchemaError) as exc:
        out.problems.append(f"package report unreadable or malformed: {exc}")
        return out
    try:
        certs = verify_bytes(signature.get("signature") or {}, body)
        created = parse_time(str(out.report.get("created_at")))
        # Packager roots only: a media signer or an approver cannot vouch for a package.
        if config.packager_pem:
            problem = chain_problem(certs, load_anchors(config.packager_pem), created)
        else:
            problem = "no packager trust anchors (pass --packager-trust PEM, or re-create the workspace: init --force)"
        if problem:
            out.problems.append(f"package report signer not trusted as a packager: {problem}")
    except BadSignature as exc:
        out.problems.append(f"package report signature: {exc}")
    except ValueError:
        out.problems.append("package report signature: the report's created_at is not a date-time")
    payload = {p.relative_to(path / "data").as_posix() for p in (path / "data").rglob("*") if p.is_file()}
    listed: dict[str, Any] = {}
    targets: list[tuple[Target, str | None]] = []
    for asset in out.report.get("assets") or []:
        rel = str(asset.get("path", "")).removeprefix("data/")
        frames = (asset.get("sequence") or {}).get("frames")
        if frames is not None:  # an image sequence: its frames and their sidecars are the payload
            for frame in frames:
                for key in ("path", "sidecar"):
                    if frame.get(key):
                        listed[str(frame[key]).removeprefix("data/")] = asset
            sequence = _sequence(path / "data", asset["sequence"])
            if sequence is None:
                out.problems.append(f"{asset['path']}: the package report's sequence entry is unusable")
            elif all(f["path"].removeprefix("data/") in payload for f in frames):
                targets.append((sequence, asset["path"]))
            continue
        listed[rel] = asset
        if asset.get("sidecar"):
            listed[str(asset["sidecar"]).removeprefix("data/")] = asset
        if rel in payload:
            targets.append((path / "data" / rel, asset["path"]))
    for rel in out.report.get("structure") or []:  # IMF package XML: carried, checked by the bag's checksums
        listed[str(rel).removeprefix("data/")] = {}
    for rel in sorted(payload - set(listed)):
        out.problems.append(f"data/{rel}: in the payload but not in the package report")
    for rel in sorted(set(listed) - payload):
        out.problems.append(f"data/{rel}: in the package report but missing from the payload")
    assets = targets
    final = dataclasses.replace(config, intended_use="final")
    if progress:
        progress.phase("checking")
        progress.total(len(assets))
    advance = progress.advance if progress else None
    out.verdicts = check_many(assets, final, workers, advance, pool=pool if final == config else None)
    return out
