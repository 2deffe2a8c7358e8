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
    """JSON any UTF-8 writer accepts: undecodable bytes of file names (lone surrogates) become `\\xNN`."""
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
    if has_lone_surrogate(text):  # rare: pass every string through json_safe (walking 1,000 assets costs)
        text = json.dumps(json_safe(document), indent=2, ensure_ascii=False, sort_keys=False)
    return text
