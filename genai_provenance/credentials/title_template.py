"""Disclosure titles templated from the file name: `{stem}`, `{name}`, `{parent}` (`{{` for a brace)."""

from __future__ import annotations

import copy
import string
from enum import StrEnum
from pathlib import Path
from typing import Any

from genai_provenance.errors import InputError


class Placeholder(StrEnum):
    STEM = "stem"  # EP101_SH010_comp_v003 for EP101_SH010_comp_v003.exr
    NAME = "name"  # the whole file name
    PARENT = "parent"  # the folder the file is in


def placeholder_values(asset: Path) -> dict[str, str]:
    return {Placeholder.STEM: asset.stem, Placeholder.NAME: asset.name, Placeholder.PARENT: asset.parent.name}


def check_template(template: str, source: str) -> None:
    """Raise InputError naming `source` when `template` holds an unknown or malformed placeholder."""
    known = ", ".join("{" + p + "}" for p in Placeholder)
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InputError(f"{source}: title {template!r}: {exc} (placeholders: {known}; {{{{ for a brace)") from None
    for _, field, spec, conversion in fields:
        if field is None:
            continue
        if field not in set(Placeholder) or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise InputError(f"{source}: title {template!r}: unknown placeholder {shown} (known: {known})")


def render_title(template: str, asset: Path, source: str) -> str:
    check_template(template, source)
    title = template.format_map(placeholder_values(asset))
    if not title.strip():
        raise InputError(f"{source}: title {template!r} is empty for {asset.name}")
    return title


def templated(document: Any, asset: Path, source: str, title: str | None) -> Any:
    """The disclosure document with asset.title set from `title` (when given) and its placeholders filled in."""
    if not isinstance(document, dict) or not isinstance(document.get("asset"), dict):
        return document  # the schema check names what is wrong
    template = title if title is not None else document["asset"].get("title")
    if not isinstance(template, str):
        return document
    out = copy.deepcopy(document)
    out["asset"]["title"] = render_title(template, asset, "--title" if title is not None else source)
    return out
