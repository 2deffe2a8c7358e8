"""Machine-readable reports, each validated by a schema in schemas/."""

from __future__ import annotations

import json
from typing import Any

from genai_provenance import __version__
from genai_provenance.gate.discovery import Discovery
from genai_provenance.model.provenance import CheckedAsset, summarise
from genai_provenance.safe_text import has_lone_surrogate, json_safe


def verify_document(assets: list[CheckedAsset], found: Discovery | None = None) -> dict[str, Any]:
    document = {
        "tool": {"name": "genai-provenance", "version": __version__},
        "assets": [a.to_dict() for a in assets],
        "summary": summarise([a.report for a in assets]),
    }
    if found is not None:
        document["discovery"] = found.to_dict()
    return document


def dumps(document: dict[str, Any]) -> str:
    """JSON any UTF-8 writer accepts: undecodable bytes of file names (lone surrogates) become `\\xNN`.

    orjson writes the same text as `json.dumps(indent=2, ensure_ascii=False)` about ten times faster
    (the standard library's C encoder does not indent); keys that are enums, numbers or None are written
    as the standard library writes them; whatever it refuses (a lone surrogate, an integer beyond
    64 bits) goes the standard library's way."""
    import orjson

    try:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        pass
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
    if has_lone_surrogate(text):  # rare: pass every string through json_safe (walking 1,000 assets costs)
        text = json.dumps(json_safe(document), indent=2, ensure_ascii=False, sort_keys=False)
    return text
