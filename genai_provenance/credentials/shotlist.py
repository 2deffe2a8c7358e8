"""A shot list for batch signing: a CSV with columns file, disclosure and optional title (paths relative to it)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from genai_provenance.credentials.sequence_pattern import FrameSequence
from genai_provenance.credentials.title_template import check_template
from genai_provenance.errors import InputError
from genai_provenance.files import read_regular, regular_file_problem

REQUIRED = ("file", "disclosure")
OPTIONAL = ("title",)


@dataclass(frozen=True)
class BatchItem:
    """One file to sign, with its disclosure and, optionally, a title template."""

    input: Path
    disclosure: Path
    title: str | None = None  # a template for the disclosure's asset.title ({stem}, {name}, {parent})
    source: str = ""  # where the item came from: "shots.csv:3", or the folder walked
    sequence: FrameSequence | None = None  # an image sequence found in a folder: signed as one (input: its name)


def _path(base: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else base / path


def read_shotlist(csv_path: Path) -> list[BatchItem]:
    """Every row as a BatchItem; any problem is an InputError naming the file and the line."""
    data = read_regular(csv_path, "shot list")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{csv_path}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise InputError(f"{csv_path}:1: {exc}") from None
    columns = [c.strip() for c in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(f"{csv_path}:1: missing column {', '.join(missing)} (columns: file, disclosure, title)")
    unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise InputError(f"{csv_path}:1: unknown column {', '.join(unknown)} (columns: file, disclosure, title)")
    reader.fieldnames = columns
    base = csv_path.parent
    items: list[BatchItem] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            items.append(_item(csv_path, line, base, row, seen))
    except csv.Error as exc:
        raise InputError(f"{csv_path}:{reader.line_num}: {exc}") from None
    if not items:
        raise InputError(f"{csv_path}: no rows (one file per row: file, disclosure, title)")
    return items


def _item(csv_path: Path, line: int, base: Path, row: dict[str | None, object], seen: dict[str, int]) -> BatchItem:
    where = f"{csv_path}:{line}"
    if None in row:
        raise InputError(f"{where}: more values than columns")
    values = {k: (v.strip() if isinstance(v, str) else "") for k, v in row.items() if k is not None}
    for column in REQUIRED:
        if not values.get(column):
            raise InputError(f"{where}: {column}: empty")
    asset, disclosure = _path(base, values["file"]), _path(base, values["disclosure"])
    for path, column in ((asset, "file"), (disclosure, "disclosure")):
        problem = regular_file_problem(path)
        if problem:
            raise InputError(f"{where}: {column} {path}: {problem}")
    key = str(asset.resolve())
    if key in seen:
        raise InputError(f"{where}: file {asset} is already on line {seen[key]} (one row per file)")
    seen[key] = line
    title = values.get("title") or None
    if title is not None:
        check_template(title, where)
    return BatchItem(asset, disclosure, title, where)
