"""Import, on a background thread, what reading a file's credentials needs once c2pa has read it.

c2pa's Reader spends most of a large file's check in native code that hashes the file, with the GIL
released; the disclosure schema (jsonschema and its dependencies, about 0.15 s) and the report encoder
load meanwhile instead of after it. Only third-party modules and our schema loader are imported here,
never a module of ours that could be mid-import on the main thread.

It starts at c2pa's first bulk read (`BulkReadStream`), not before: c2pa reads through Python
callbacks that need the GIL, and while it parses the file's structure it makes many small reads,
each of which would wait for the warm-up thread to yield the GIL (up to 5 ms). A small file, read
in a few small calls, never starts it.

The thread is started once per process and joined before any worker is forked (`settle`), so a fork
never copies a half-held import lock.
"""

from __future__ import annotations

import io
import threading

BULK_READ = 16 * 1024 * 1024  # c2pa hashes large files in reads of up to 256 MB
_thread: threading.Thread | None = None
_lock = threading.Lock()


def _warm() -> None:
    try:
        import orjson  # noqa: F401  (the report encoder)

        from genai_provenance.schemas import validator

        validator("disclosure").is_valid({})  # imports jsonschema, builds and resolves the schema once
    except Exception:
        pass


def start() -> None:
    """Begin warming up (once per process; later calls do nothing)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm, name="genai-provenance-warmup", daemon=True)
            _thread.start()


def settle() -> None:
    """Wait for a warm-up under way to finish (before forking workers)."""
    with _lock:
        thread = _thread
    if thread is not None:
        thread.join()


class BulkReadStream:
    """The file c2pa reads, unchanged, starting the warm-up at its first read of BULK_READ bytes or more."""

    def __init__(self, stream: io.BufferedReader) -> None:
        self._stream = stream

    def readinto(self, buffer: bytearray | memoryview) -> int:
        if len(buffer) >= BULK_READ:
            start()
        return self._stream.readinto(buffer)

    def read(self, size: int = -1) -> bytes:
        if size >= BULK_READ:
            start()
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def write(self, data: bytes) -> int:
        return self._stream.write(data)

    def flush(self) -> None:
        self._stream.flush()
