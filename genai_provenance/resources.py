"""Bundled data: schemas and fixtures, inside the installed package or beside it in a checkout."""

from __future__ import annotations

from pathlib import Path


def bundled(relative: str) -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / relative, here.parent / relative):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"bundled data {relative!r} is missing from this installation")
