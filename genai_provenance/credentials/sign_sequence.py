"""Sign an image sequence: every frame gets its own sidecar, each carrying the record of the whole sequence.

All or nothing: every frame is checked before the first is signed, and when one fails, the sidecars
this run wrote are removed again (the frames themselves are never modified).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from genai_provenance.credentials.sequence_pattern import (
    FramePattern,
    frames_on_disk,
    gaps,
    is_pattern,
    parse_frames,
    parse_pattern,
)
from genai_provenance.credentials.sequence_record import FrameClaim, SequenceRecord, record_for
from genai_provenance.credentials.sign_asset import SignRequest, SignResult, sign_asset
from genai_provenance.errors import InputError, SigningError
from genai_provenance.gate.discovery import SIDECAR_SUFFIX

SHOWN = 10  # frame numbers quoted in one message at most


@dataclass
class SequenceSignResult:
    pattern: FramePattern
    record: SequenceRecord
    frames: list[SignResult]
    warnings: list[str] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.pattern.display(self.record.first, self.record.last)


def _numbers(items: list[int]) -> str:
    shown = ", ".join(map(str, items[:SHOWN]))
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def select_frames(pattern: FramePattern, spec: str | None) -> list[tuple[int, Path]]:
    """The frames to sign: those `--frames` names (all must exist), else every frame on disk (contiguous)."""
    where = pattern.folder / pattern.printf
    on_disk = frames_on_disk(pattern)
    if spec is not None:
        wanted = parse_frames(spec)
        missing = [n for n in wanted if n not in on_disk]
        if missing:
            raise InputError(f"{where}: frames {_numbers(missing)} named by --frames are not on disk")
        return [(n, on_disk[n]) for n in wanted]
    if not on_disk:
        raise InputError(f"{where}: no frames match the pattern")
    holes = gaps(on_disk)
    if holes:
        raise InputError(
            f"{where}: frames {_numbers(holes)} are missing between {min(on_disk)} and {max(on_disk)}; "
            "pass --frames to sign a sequence with gaps"
        )
    return list(on_disk.items())


def sequence_input(path: Path, frames: str | None) -> FramePattern | None:
    """The sequence pattern INPUT names (None: one file); `--frames` only goes with a pattern.

    A file that exists is signed as itself, whatever its name (`shot@2x.png` is no pattern)."""
    if is_pattern(path) and not os.path.lexists(path):
        return parse_pattern(path)
    if frames is not None:
        raise InputError(f"{path}: --frames needs a sequence pattern as INPUT (name.%04d.exr, name.####.exr)")
    return None


def _stat(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


@dataclass(frozen=True)
class SequencePlan:
    """A sequence ready to sign: its frames (checked, none with a sidecar unless forced), their record, and
    each frame's size and modification time when it was hashed (a frame that changes after is refused)."""

    pattern: FramePattern
    frames: tuple[tuple[int, Path], ...]
    record: SequenceRecord
    before: dict[int, tuple[int, int]]

    @property
    def size(self) -> int:
        """Bytes of all its frames."""
        return sum(size for size, _ in self.before.values())


def plan_sequence(pattern: FramePattern, spec: str | None = None, force: bool = False) -> SequencePlan:
    """Select and check the frames, then hash each once for the record (nothing is written)."""
    frames = select_frames(pattern, spec)
    for _, path in frames:
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        if (sidecar.exists() or sidecar.is_symlink()) and not force:
            raise InputError(f"{sidecar}: already exists (use --force to replace it); nothing was written")
    before = {n: _stat(p) for n, p in frames}
    return SequencePlan(pattern, tuple(frames), record_for(pattern.printf, frames), before)


def sign_frame(template: SignRequest, plan: SequencePlan, index: int) -> SignResult:
    """Sign frame `index` of the plan into its sidecar, carrying the record and its own frame number.

    The sidecar is removed again when the frame changed after it was hashed for the record."""
    number, path = plan.frames[index]
    request = dataclasses.replace(
        template,
        input=path,
        output=None,
        sidecar=True,
        extra_assertions=[*template.extra_assertions, FrameClaim(plan.record, number).assertion()],
        thumbnail=template.thumbnail and index == 0,
        known_sha256=plan.record.hashes()[number],  # read once, for the record; unchanged (checked below)
    )
    result = sign_asset(request)
    if _stat(path) != plan.before[number]:
        with contextlib.suppress(OSError):
            result.output.unlink()
        raise SigningError(f"{path}: frame changed while the sequence was being signed; nothing was written")
    return result


def sign_sequence(template: SignRequest, pattern: FramePattern, spec: str | None = None) -> SequenceSignResult:
    """Sign every frame of `pattern` (sidecars), each manifest carrying the sequence record and its frame number."""
    if template.output is not None:
        raise InputError(f"{pattern.folder / pattern.printf}: -o/--output does not apply to a sequence (sidecars)")
    return sign_plan(template, plan_sequence(pattern, spec, template.force))


def sign_plan(
    template: SignRequest, plan: SequencePlan, on_frame: Callable[[int], None] | None = None
) -> SequenceSignResult:
    """Sign the plan's frames in order, in this process; any failure or interrupt removes the sidecars written."""
    results: list[SignResult] = []
    try:
        for index in range(len(plan.frames)):
            results.append(sign_frame(template, plan, index))
            if on_frame is not None:
                on_frame(1)
    except BaseException:
        for done in results:
            with contextlib.suppress(OSError):
                done.output.unlink()
        raise
    return sequence_result(plan, results)


def sequence_result(plan: SequencePlan, results: list[SignResult]) -> SequenceSignResult:
    """The signed sequence as reports show it: its record, each frame's sidecar (in frame order), the warnings."""
    warnings = list(dict.fromkeys(w for r in results for w in r.warnings))
    return SequenceSignResult(plan.pattern, plan.record, results, warnings)
