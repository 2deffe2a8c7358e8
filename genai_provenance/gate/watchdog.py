"""Clean up after a packaging run that dies before its final rename.

`package` starts this module as a separate process (`python -m genai_provenance.gate.watchdog STAGING
TARGET PREVIOUS`) before it creates the staging folder, and tells it "done" on standard input when
it has finished. If the packaging process dies first, even by SIGKILL, standard input closes
without "done" and the watchdog settles the folders: no partial package is left behind.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def settle(staging: Path, target: Path, previous: Path) -> None:
    """Remove the staging folder; if a --force run died between its two renames, restore the old package."""
    shutil.rmtree(staging, ignore_errors=True)
    if previous.is_dir():
        if target.exists():
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.replace(previous, target)


def main(argv: list[str]) -> None:
    staging, target, previous = (Path(a) for a in argv)
    if sys.stdin.buffer.read().strip() != b"done":
        settle(staging, target, previous)


if __name__ == "__main__":
    main(sys.argv[1:4])
