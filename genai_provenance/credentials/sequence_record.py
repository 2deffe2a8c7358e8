"""The signed record of an image sequence: its pattern and every frame's SHA-256, in order.

The same record goes into every frame's manifest (a created assertion, SEQUENCE_LABEL), with the
number of the frame that manifest belongs to, so each frame verifies on its own with its sidecar and
any frame vouches for the whole sequence: a missing, extra, replaced or reordered frame is named.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_provenance.credentials.formats import SIDECAR_SUFFIX, media_format
from genai_provenance.errors import InputError
from genai_provenance.files import open_regular, os_problem, regular_file_problem

SEQUENCE_LABEL = "com.genai-provenance.sequence"
CHUNK = 4 << 20  # hashlib (OpenSSL) in 4 MiB reads
_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_RECORD_FRAMES = 1_000_000


@dataclass(frozen=True)
class FrameHash:
    number: int
    sha256: str  # hex


@dataclass(frozen=True)
class SequenceRecord:
    """Pattern (printf form of the file name) and the frames, by number, each with its SHA-256."""

    pattern: str
    frames: tuple[FrameHash, ...]

    @property
    def first(self) -> int:
        return self.frames[0].number

    @property
    def last(self) -> int:
        return self.frames[-1].number

    @property
    def count(self) -> int:
        return len(self.frames)

    def numbers(self) -> list[int]:
        return [f.number for f in self.frames]

    def hashes(self) -> dict[int, str]:
        return {f.number: f.sha256 for f in self.frames}

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "first": self.first,
            "last": self.last,
            "count": self.count,
            "frames": [{"frame": f.number, "sha256": f.sha256} for f in self.frames],
        }

    def digest(self) -> str:
        """`sha256:<hex>` of the record: the sequence's content hash (clearance and waiver scopes)."""
        body = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode("utf-8")
        return f"sha256:{hashlib.sha256(body).hexdigest()}"

    def describe(self) -> str:
        return f"{self.pattern} frames {self.first}-{self.last} ({self.count})"

    @classmethod
    def parse(cls, data: Any) -> SequenceRecord | None:
        """A record read from a manifest (untrusted content), or None when it is malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("pattern"), str):
            return None
        raw = data.get("frames")
        if not isinstance(raw, list) or not 0 < len(raw) <= MAX_RECORD_FRAMES:
            return None
        frames = []
        for entry in raw:
            if not isinstance(entry, dict):
                return None
            number, digest = entry.get("frame"), entry.get("sha256")
            if type(number) is not int or number < 0 or not isinstance(digest, str) or not _HEX.match(digest):
                return None
            frames.append(FrameHash(number, digest))
        record = cls(data["pattern"], tuple(frames))
        numbers = record.numbers()
        if numbers != sorted(set(numbers)):
            return None
        if (data.get("first"), data.get("last"), data.get("count")) != (record.first, record.last, record.count):
            return None
        return record


@dataclass(frozen=True)
class FrameClaim:
    """What one frame's manifest says: the sequence record, and which frame of it this is."""

    record: SequenceRecord
    frame: int

    def assertion(self) -> dict[str, Any]:
        """The created assertion for the manifest definition."""
        return {"label": SEQUENCE_LABEL, "data": {**self.record.to_dict(), "frame": self.frame}, "created": True}

    @classmethod
    def parse(cls, data: Any) -> FrameClaim | None:
        record = SequenceRecord.parse(data)
        if record is None or not isinstance(data, dict):
            return None
        frame = data.get("frame")
        if type(frame) is not int or frame not in record.hashes():
            return None
        return cls(record, frame)


def hash_file(path: Path) -> str:
    """SHA-256 (hex) of a file, read once in large chunks."""
    digest = hashlib.sha256()
    try:
        with open_regular(path, "frame") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({os_problem(exc)})") from None
    return digest.hexdigest()


def hash_frames(frames: Iterable[tuple[int, Path]]) -> dict[int, str]:
    """Every frame's SHA-256, in parallel threads (hashlib releases the GIL)."""
    items = list(frames)
    workers = max(1, min(8, len(items), os.cpu_count() or 1))
    from concurrent.futures import ThreadPoolExecutor  # a sequence only: not at start-up

    with ThreadPoolExecutor(workers) as pool:
        digests = list(pool.map(hash_file, [p for _, p in items]))
    return {n: d for (n, _), d in zip(items, digests, strict=True)}


def record_for(pattern: str, frames: Iterable[tuple[int, Path]]) -> SequenceRecord:
    hashes = hash_frames(frames)
    return SequenceRecord(pattern, tuple(FrameHash(n, hashes[n]) for n in sorted(hashes)))


SEQUENCE_MARK = SEQUENCE_LABEL.encode()
MAX_SIDECAR_PEEK = 16 << 20


def _sidecar_mentions_sequence(frame: Path) -> bool | None:
    """Whether `<frame>.c2pa` names the sequence assertion (None: there is no readable sidecar)."""
    sidecar = frame.with_name(frame.name + SIDECAR_SUFFIX)
    if regular_file_problem(sidecar) is not None:
        return None
    try:
        with open_regular(sidecar) as fh:
            return SEQUENCE_MARK in fh.read(MAX_SIDECAR_PEEK)
    except (OSError, InputError):
        return None


def signed_as_sequence(frames: list[Path]) -> bool:
    """Numbered frames are one asset when a frame's sidecar carries a sequence record, or when none has a
    sidecar and the format cannot embed (an unsigned EXR or DPX sequence). Otherwise they stay files of their
    own (stills signed one by one); any of them whose manifest is a frame's is still checked as its sequence."""
    seen = [_sidecar_mentions_sequence(f) for f in frames]
    if any(seen):
        return True
    fmt = media_format(frames[0])
    return all(s is None for s in seen) and fmt is not None and not fmt.embeddable
