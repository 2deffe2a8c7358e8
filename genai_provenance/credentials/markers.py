"""Is there a C2PA manifest store in this file, readable or not? A cheap look for its containers.

When c2pa says "no manifest", a damaged store must not pass as a file that never had credentials
(`no-credentials` lets `check --intended-use temporary` through). Looked for: the JUMBF
description of a C2PA store (`jumd` + the `c2pa` UUID), a BMFF `uuid` box with the C2PA UUID, a
RIFF `C2PA` chunk (WAV, AVI, WebP), a PNG `caBX` chunk, a JPEG APP11 JUMBF segment. Structures are
walked by their headers (a few reads); the JUMBF signature is also searched in the bytes, bounded.
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path
from typing import BinaryIO

BMFF_C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
JUMBF_C2PA = b"jumdc2pa"  # a JUMBF description box whose type UUID begins with "c2pa" (63327061-0011-0010-...)
SEARCH_WINDOW = 64 * 1024 * 1024  # searched at each end of a large file
_MAX_ITEMS = 100_000  # boxes/chunks/segments walked before giving up


def c2pa_marker(path: Path) -> str | None:
    """What shows a C2PA store is present (`BMFF uuid box at offset 1234`), or None."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(16)
            for walk in (_bmff, _riff, _png, _jpeg):
                found = walk(fh, head, size)
                if found:
                    return found
            return _search(fh, size)
    except (OSError, ValueError, struct.error):
        return None


def _bmff(fh: BinaryIO, head: bytes, size: int) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    pos = 0
    for _ in range(_MAX_ITEMS):
        if pos + 8 > size:
            return None
        box, kind, header = _read_box(fh, pos)
        if kind == b"uuid":
            fh.seek(pos + header)
            if fh.read(16) == BMFF_C2PA_UUID:
                return f"C2PA 'uuid' box at offset {pos}"
        if box == 0:
            return None
        if box < header:
            return None
        pos += box
    return None


def _read_box(fh: BinaryIO, pos: int) -> tuple[int, bytes, int]:
    fh.seek(pos)
    raw = fh.read(16)
    box, kind = struct.unpack(">I4s", raw[:8])
    if box == 1 and len(raw) >= 16:
        return struct.unpack(">Q", raw[8:16])[0], kind, 16
    return box, kind, 8


def _riff(fh: BinaryIO, head: bytes, size: int) -> str | None:
    if head[:4] != b"RIFF":
        return None
    pos = 12
    for _ in range(_MAX_ITEMS):
        if pos + 8 > size:
            return None
        fh.seek(pos)
        chunk_id, length = struct.unpack("<4sI", fh.read(8))
        if chunk_id == b"C2PA":
            return f"RIFF 'C2PA' chunk at offset {pos}"
        pos += 8 + length + (length & 1)
    return None


def _png(fh: BinaryIO, head: bytes, size: int) -> str | None:
    if not head.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    pos = 8
    for _ in range(_MAX_ITEMS):
        if pos + 8 > size:
            return None
        fh.seek(pos)
        length, kind = struct.unpack(">I4s", fh.read(8))
        if kind == b"caBX":
            return f"PNG 'caBX' chunk at offset {pos}"
        if kind == b"IEND":
            return None
        pos += 12 + length
    return None


def _jpeg(fh: BinaryIO, head: bytes, size: int) -> str | None:
    if not head.startswith(b"\xff\xd8"):
        return None
    pos = 2
    for _ in range(_MAX_ITEMS):
        if pos + 4 > size:
            return None
        fh.seek(pos)
        marker, length = struct.unpack(">HH", fh.read(4))
        if marker >> 8 != 0xFF or marker in (0xFFDA, 0xFFD9):  # start of scan, end of image, or lost sync
            return None
        if marker == 0xFFEB:  # APP11: JUMBF, "JP" common identifier
            fh.seek(pos + 4)
            if fh.read(2) == b"JP":
                return f"JPEG APP11 JUMBF segment at offset {pos}"
        pos += 2 + length
    return None


def _search(fh: BinaryIO, size: int) -> str | None:
    if size < len(JUMBF_C2PA):
        return None
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
        spans = [(0, size)] if size <= 2 * SEARCH_WINDOW else [(0, SEARCH_WINDOW), (size - SEARCH_WINDOW, size)]
        for start, end in spans:
            at = view.find(JUMBF_C2PA, start, end)
            if at >= 0:
                return f"C2PA JUMBF store at offset {at - 4}"
    return None
