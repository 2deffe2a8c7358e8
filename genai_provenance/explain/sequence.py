"""What `explain` explains: one file, or an image sequence as one asset (named by its pattern, or by one of
its frames), checked as verify checks it (gate/sequences.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.credentials.sequence_pattern import (
    FrameSequence,
    frames_on_disk,
    is_pattern,
    parse_pattern,
    pattern_from_printf,
)
from genai_provenance.errors import InputError
from genai_provenance.explain.model import SequenceView
from genai_provenance.explain.wording import sentence
from genai_provenance.gate.discovery import SIDECAR_SUFFIX
from genai_provenance.gate.sequences import WHERE, VerifiedAsset, check_sequence, file_hash, single_frame
from genai_provenance.grammar import plural
from genai_provenance.model.provenance import NO_CREDENTIALS, AssetReport


@dataclass(frozen=True)
class ExplainTarget:
    """The asset explained, as verified: a file, or a whole sequence; and the frame named, if one was."""

    found: VerifiedAsset
    media: Path  # a file on disk that stands for it (the frame given, else the sequence's first frame)
    frame_given: Path | None = None
    files: tuple[Path, ...] = ()  # every file it is made of (a sequence: each frame and its sidecar)


def read_asset(path: Path, trust: TrustSettings) -> AssetReport:
    """Verify one file for explaining; a missing path or a folder is an input error."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: is not a file (explain takes one file or an image sequence pattern)")
    return verify_file(path, trust.context(), trust=trust)


def explain_target(path: Path, trust: TrustSettings) -> ExplainTarget:
    """`path` as explain sees it: a sequence pattern (name.%04d.exr, name.####.exr) is the frames on disk as one
    asset; a file whose manifest makes it a frame of a sequence is explained as that sequence (every frame of it
    on disk, checked); any other file is itself."""
    if is_pattern(path) and not os.path.lexists(path):
        pattern = parse_pattern(path)
        frames = frames_on_disk(pattern)
        if not frames:
            raise InputError(f"{path}: no frames match the pattern")
        sequence = FrameSequence(pattern, tuple(frames.items()))
        found = check_sequence(sequence, trust.context(), trust)
        return ExplainTarget(found, sequence.frames[0][1], None, _files(sequence))
    report = read_asset(path, trust)
    claim = report.sequence_claim
    if claim is None:
        return ExplainTarget(VerifiedAsset(report, file_hash(path)), path, None, (path,))
    recorded = pattern_from_printf(path.parent, claim.record.pattern)
    on_disk = frames_on_disk(recorded) if recorded is not None else {}
    if recorded is not None and path in on_disk.values():
        whole: FrameSequence | None = FrameSequence(recorded, tuple(on_disk.items()))
    else:  # named unlike its record: checked alone, as verify checks it
        whole = single_frame(path, report)
    assert whole is not None  # the report carries a claim
    found = check_sequence(whole, trust.context(), trust, known={path: report})
    return ExplainTarget(found, path, path, _files(whole))


def _files(sequence: FrameSequence) -> tuple[Path, ...]:
    return tuple(f for _, p in sequence.frames for f in (p, p.with_name(p.name + SIDECAR_SUFFIX)))


def sequence_view(report: AssetReport, frame_given: Path | None) -> SequenceView | None:
    """The sequence part of an explanation (None for a file)."""
    summary = report.sequence
    if summary is None:
        return None
    unsigned = report.status == NO_CREDENTIALS  # no frame carries credentials: nothing to hold them against
    problems = [] if unsigned else [f.explanation for f in report.failures if f.where == WHERE]
    name = Path(report.path).name
    if summary.record is not None:
        record = f"its signed record lists {plural(summary.count, 'frame')}, {summary.first} to {summary.last}"
    elif unsigned:
        record = "none of its frames carries credentials"
    else:
        record = "its frames agree on no signed record of the sequence"
    given = f" The frame given, {frame_given.name}, is explained as part of it." if frame_given is not None else ""
    if problems:
        verdict = f" {plural(len(problems), 'problem')} with its frames, each naming its frame."
    else:
        verdict = "" if unsigned else " Every frame checks out against the record."
    text = sentence(
        f"{name} is an image sequence of {plural(summary.present, 'frame')} on disk ({summary.pattern}); {record}"
    )
    return SequenceView(
        name=name,
        pattern=summary.pattern,
        first=summary.first,
        last=summary.last,
        count=summary.count,
        present=summary.present,
        missing=list(summary.missing),
        extra=list(summary.extra),
        gaps=list(summary.gaps),
        record=summary.record,
        frame_given=str(frame_given) if frame_given is not None else None,
        problems=problems,
        sentence=text + given + verdict,
    )
