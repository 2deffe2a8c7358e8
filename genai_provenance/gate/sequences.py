"""An image sequence checked as one asset: every frame verified, and the frames held against the signed record.

Fails (status invalid, each problem naming its frame) when a frame fails verification, has no credentials
or no sequence record, a recorded frame is missing, an extra frame is present, a frame's bytes are not
the ones recorded at its position (replaced, or swapped with another frame: both named), or frames
disagree on the record or on what they declare.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import c2pa

from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.credentials.sequence_pattern import FramePattern, FrameSequence, gaps, pattern_from_printf
from genai_provenance.credentials.sequence_record import SequenceRecord, hash_file, hash_frames
from genai_provenance.errors import InputError
from genai_provenance.gate.discovery import Target
from genai_provenance.model.provenance import (
    INVALID,
    NO_CREDENTIALS,
    TRUSTED,
    UNREADABLE,
    VALID_UNTRUSTED,
    AssetReport,
    Failure,
    SequenceSummary,
)
from genai_provenance.model.vocabulary import Status

WHERE = "sequence"
_WORST_FIRST = (UNREADABLE, INVALID, NO_CREDENTIALS, VALID_UNTRUSTED, TRUSTED)


@dataclass(frozen=True)
class VerifiedAsset:
    """One asset's report (a file, or a whole sequence) and the content hash clearances and waivers match."""

    report: AssetReport
    content_hash: Callable[[], str]


def _codes(report: AssetReport) -> str:
    return ", ".join(dict.fromkeys(f.code for f in report.failures)) or str(report.status)


def _hashes(frames: list[tuple[int, Path]]) -> dict[int, str]:
    """Each frame's SHA-256; a frame that cannot be read now gets none (it then differs from the record)."""
    try:
        return hash_frames(frames)
    except InputError:
        out = {}
        for number, path in frames:
            with contextlib.suppress(InputError):
                out[number] = hash_file(path)
        return out


def _reference(reports: dict[int, AssetReport]) -> SequenceRecord | None:
    """The record most frames carry (a tie goes to the lowest-numbered frame's)."""
    claims = [(n, r.sequence_claim.record) for n, r in sorted(reports.items()) if r.sequence_claim is not None]
    if not claims:
        return None
    votes = Counter(record for _, record in claims)
    best = max(votes.values())
    return next(record for _, record in claims if votes[record] == best)


def _declared(report: AssetReport) -> tuple[object, ...]:
    """What a frame declares, without its manifest labels (which differ frame to frame)."""
    uses = tuple(sorted(str((u.evidence.text, u.source_type, u.tool, u.category)) for u in report.genai_uses))
    return (tuple(str(d["disclosure"]) for d in report.disclosures), uses)


class _Findings:
    def __init__(self, pattern: FramePattern) -> None:
        self.pattern = pattern
        self.failures: list[Failure] = []

    def add(self, code: str, text: str) -> None:
        self.failures.append(Failure(f"sequence.{code}", text, WHERE))

    def name(self, number: int) -> str:
        return f"frame {number} ({self.pattern.name(number)})"


def _frame_problems(
    found: _Findings, reports: dict[int, AssetReport], hashes: dict[int, str], ref: SequenceRecord | None
) -> None:
    recorded = ref.hashes() if ref is not None else {}
    by_hash = {h: n for n, h in recorded.items()}
    for number, report in sorted(reports.items()):
        name = found.name(number)
        claim = report.sequence_claim
        if report.status == NO_CREDENTIALS:
            found.add("frame-unsigned", f"{name}: no credentials (no sidecar) inside a signed sequence")
        elif report.status not in (TRUSTED, VALID_UNTRUSTED):
            found.add("frame-invalid", f"{name}: {report.status} ({_codes(report)})")
        if report.sequence_malformed:
            found.add("record-malformed", f"{name}: its sequence record is malformed")
        elif claim is None and report.status != NO_CREDENTIALS and ref is not None:
            found.add("frame-not-in-record", f"{name}: signed on its own, not as a frame of this sequence")
        elif claim is not None and ref is not None and claim.record != ref:
            found.add("record-mismatch", f"{name}: signed as part of another sequence ({claim.record.describe()})")
        elif claim is not None and claim.frame != number:
            found.add("frame-renamed", f"{name}: carries the credentials of frame {claim.frame}")
        if ref is None:
            continue
        if number not in recorded:
            found.add("extra-frame", f"{name}: extra frame, not in the signed record ({ref.describe()})")
        elif hashes.get(number) != recorded[number]:
            other = by_hash.get(hashes.get(number, ""))
            if other is not None and other != number:
                found.add("frame-moved", f"{name}: holds the bytes of {found.name(other)} (frames swapped or copied)")
            else:
                found.add("frame-changed", f"{name}: bytes differ from the signed record")


def check_sequence(
    sequence: FrameSequence,
    context: c2pa.Context,
    trust: TrustSettings | None,
    display: str | None = None,
    known: dict[Path, AssetReport] | None = None,
) -> VerifiedAsset:
    """Verify every frame of `sequence` and hold them against the signed record (see the module docstring)."""
    known = known or {}
    reports = {n: known.get(p) or verify_file(p, context, display=str(p), trust=trust) for n, p in sequence.frames}
    hashes = _hashes([(n, p) for n, p in sequence.frames if reports[n].status != UNREADABLE])
    ref = _reference(reports)
    found = _Findings(sequence.pattern)
    if ref is not None and ref.pattern != sequence.pattern.printf:
        found.add(
            "pattern-mismatch", f"frames are named {sequence.pattern.printf}, the signed record says {ref.pattern}"
        )
    _frame_problems(found, reports, hashes, ref)
    on_disk = [n for n, _ in sequence.frames]
    missing = [n for n in ref.numbers() if n not in reports] if ref is not None else []
    for number in missing:
        found.add(
            "frame-missing", f"{found.name(number)}: missing (the signed record has {ref.describe() if ref else ''})"
        )
    signed = [r for r in reports.values() if r.status != NO_CREDENTIALS]
    if ref is None and signed:
        found.add(
            "no-record",
            "no frame carries a signed sequence record, so a missing, extra or reordered frame cannot be detected "
            f"(sign the frames as one sequence: sign '{sequence.pattern.folder / sequence.pattern.printf}')",
        )
    good = [n for n, r in sorted(reports.items()) if r.sequence_claim is not None and r.sequence_claim.record == ref]
    representative = reports[good[0]] if good else reports[on_disk[0]]
    for number in good[1:]:
        if _declared(reports[number]) != _declared(representative):
            found.add("declarations-differ", f"{found.name(number)}: declares other uses than {found.name(good[0])}")
    for number, frame_report in sorted(reports.items()):
        if frame_report is not representative:  # the representative's own are carried in the report itself
            for problem in frame_report.history_problems:
                found.add("frame-history", f"{found.name(number)}: {problem}")
    statuses = [r.status for r in reports.values()]
    worst: Status = next(s for s in _WORST_FIRST if s in statuses)
    if not signed:
        status: Status = NO_CREDENTIALS
    elif found.failures:
        status = worst if worst == UNREADABLE else INVALID
    else:
        status = worst
    first, last = (ref.first, ref.last) if ref is not None else (on_disk[0], on_disk[-1])
    summary = SequenceSummary(
        pattern=ref.pattern if ref is not None else sequence.pattern.printf,
        first=first,
        last=last,
        count=ref.count if ref is not None else len(on_disk),
        present=len(on_disk),
        missing=missing,
        extra=[n for n in on_disk if n not in ref.hashes()] if ref is not None else [],
        gaps=gaps(on_disk),
        record=ref.digest() if ref is not None else None,
    )
    shown = display or str(sequence.path)  # named for the frames on disk, as package names it
    report = dataclasses.replace(
        representative,
        path=shown,
        status=status,
        failures=list(representative.failures) + found.failures,
        notes=[n for n in representative.notes if not n.startswith("credentials read from sidecar")]
        + [f"image sequence: {len(on_disk)} frames on disk, each verified with its own credentials"],
        sequence=summary,
        sequence_claim=None,
    )
    if not signed:
        report.notes = [f"image sequence of {len(on_disk)} frames without credentials"]
    joined = "".join(hashes.get(n, "") for n in on_disk).encode()
    digest = ref.digest() if ref is not None else f"sha256:{hashlib.sha256(joined).hexdigest()}"
    return VerifiedAsset(report, lambda: digest)


def single_frame(path: Path, report: AssetReport) -> FrameSequence | None:
    """A file checked on its own whose manifest says it is a frame of a sequence: check it as that sequence."""
    claim = report.sequence_claim
    if claim is None:
        return None
    pattern = pattern_from_printf(path.parent, claim.record.pattern) or FramePattern(path.parent, "", 1, "")
    number = pattern.number(path.name)
    return FrameSequence(pattern, ((claim.frame if number is None else number, path),))


def verify_target(
    target: Target, context: c2pa.Context, trust: TrustSettings | None, display: str | None = None
) -> VerifiedAsset:
    """Verify a file or a sequence; a file whose manifest makes it a frame of a sequence is checked as one."""
    if isinstance(target, FrameSequence):
        return check_sequence(target, context, trust, display)
    report = verify_file(target, context, display=display, trust=trust)
    sequence = single_frame(target, report)
    if sequence is None:
        return VerifiedAsset(report, file_hash(target))
    return check_sequence(sequence, context, trust, display or str(target), known={target: report})


def file_hash(path: Path) -> Callable[[], str]:
    """`sha256:<hex>` of a file, computed once and only when asked."""

    @cache
    def compute() -> str:
        try:
            return f"sha256:{hash_file(path)}"
        except InputError:
            return "sha256:unreadable"  # matches no scope

    return compute
