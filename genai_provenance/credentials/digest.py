"""One read of a file with hashlib (OpenSSL): large chunks into one reused buffer, memory flat at any size."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from genai_provenance.credentials.native import DataHash
from genai_provenance.errors import InputError
from genai_provenance.files import open_regular, os_problem

CHUNK = 8 * 1024 * 1024


def hash_file(path: Path, progress: Callable[[int], None] | None = None, chunk: int = CHUNK) -> DataHash:
    """SHA-256 of the whole file; `progress` gets the bytes read after each chunk."""
    digest = hashlib.sha256()
    buffer = bytearray(chunk)
    view = memoryview(buffer)
    with open_regular(path) as fh:
        try:
            while size := fh.readinto(view):  # type: ignore[attr-defined]  # a BufferedReader
                digest.update(view[:size])
                if progress is not None:
                    progress(size)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({os_problem(exc)})") from None
    return DataHash("sha256", digest.digest())
