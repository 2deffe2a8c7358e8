"""Where each test format keeps its media payload, and a copy with one payload byte flipped.

A tamper test must change bytes a C2PA hash covers (picture data, samples), not padding inside
the manifest or the last bytes of the file.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from genai_provenance.credentials.bmff import payload_offset


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, offset, length incl. marker) for each segment up to and including SOS."""
    out, pos = [], 2
    while pos + 4 <= len(data):
        assert data[pos] == 0xFF, f"not a marker at {pos}"
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0] + 2
        out.append((marker, pos, length))
        if marker == 0xDA:
            break
        pos += length
    return out


def jpeg_scan_offset(data: bytes) -> int:
    """A byte in the middle of the entropy-coded scan data (between SOS header and EOI)."""
    marker, pos, length = jpeg_segments(data)[-1]
    assert marker == 0xDA
    start, end = pos + length, data.rindex(b"\xff\xd9")
    return start + (end - start) // 2


def png_idat_offset(data: bytes) -> int:
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            return pos + 8 + length // 2
        pos += 12 + length
    raise AssertionError("no IDAT chunk")


def wav_pcm_offset(data: bytes) -> int:
    pos = 12
    while pos < len(data):
        kind, size = struct.unpack("<4sI", data[pos : pos + 8])
        if kind == b"data":
            return pos + 8 + size // 2
        pos += 8 + size + (size & 1)
    raise AssertionError("no data chunk")


OFFSETS: dict[str, Callable[[bytes], int]] = {
    "plate.mp4": payload_offset,
    "plate_h264.mov": payload_offset,
    "plate_prores.mov": payload_offset,
    "plate.jpg": jpeg_scan_offset,
    "plate.png": png_idat_offset,
    "dialogue.wav": wav_pcm_offset,
}


def offset_for(path: Path, data: bytes) -> int:
    """A payload byte of `path`, chosen by its file extension."""
    by_suffix = {
        ".mp4": payload_offset,
        ".mov": payload_offset,
        ".jpg": jpeg_scan_offset,
        ".png": png_idat_offset,
        ".wav": wav_pcm_offset,
    }
    return by_suffix[path.suffix.lower()](data)


def flipped_copy(src: Path, dst: Path, offset: int | None = None) -> Path:
    """Copy `src` to `dst` (they may be the same file) with one payload byte inverted."""
    data = bytearray(src.read_bytes())
    data[offset_for(src, bytes(data)) if offset is None else offset] ^= 0xFF
    dst.write_bytes(bytes(data))
    return dst
