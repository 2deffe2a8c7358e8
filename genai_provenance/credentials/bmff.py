"""Top-level ISO BMFF (MP4/MOV) boxes: enough to find the media payload."""

from __future__ import annotations

import os
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


def structure_problem(path: str | os.PathLike[str], require: bytes | None = b"moov") -> str | None:
    """Why the top-level boxes of a BMFF file do not tile it (truncated, malformed), or None.

    Reads only the box headers, so it is cheap on large files.
    """
    size = os.path.getsize(path)
    kinds: set[bytes] = set()
    with open(path, "rb") as stream:
        pos = 0
        while pos < size:
            stream.seek(pos)
            head = stream.read(16)
            if len(head) < 8:
                return f"truncated box header at offset {pos}"
            box, kind = struct.unpack(">I4s", head[:8])
            header = 8
            if box == 1:
                if len(head) < 16:
                    return f"truncated box header at offset {pos}"
                box, header = struct.unpack(">Q", head[8:16])[0], 16
            elif box == 0:
                box = size - pos
            if box < header:
                return f"malformed box at offset {pos}"
            if pos + box > size:
                name = kind.decode("latin-1")
                return f"'{name}' box at offset {pos} extends beyond the end of the file (truncated?)"
            kinds.add(kind)
            pos += box
    if require and require not in kinds:
        return f"no '{require.decode()}' box (incomplete file)"
    return None
