"""Write files whole or not at all: a temporary file beside the target, then a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def staged_path(target: Path, *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success rename it into place, else delete it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, mode)
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes(target: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Atomically write `data`; `mode` is applied before any byte is written (0600 for keys)."""
    with staged_path(target, mode=mode) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_text(target: Path, text: str, *, mode: int = 0o644) -> None:
    write_bytes(target, text.encode("utf-8"), mode=mode)
