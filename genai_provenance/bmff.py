"""Top-level ISO BMFF (MP4/MOV) boxes: enough to find the media payload."""

from __future__ import annotations

import struct
from collections.abc import Iterator


def top_level_boxes(data: bytes) -> Iterator[tuple[str, int, int]]:
    """Yield (type, offset, size) for each top-level box; stops at the first malformed one."""
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= len(data):
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            return
        yield kind.decode("latin-1"), pos, size
        pos += size


def payload_offset(data: bytes) -> int:
    """Offset of a byte in the middle of the first `mdat` box's payload."""
    for kind, offset, size in top_level_boxes(data):
        if kind == "mdat" and size > 16:
            return offset + 8 + (size - 8) // 2
    raise ValueError("no mdat box")
