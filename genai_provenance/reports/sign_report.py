"""`sign` reports: what was written, where its history came from, and how it verified when read back."""

from __future__ import annotations

from typing import Any

from genai_provenance import __version__
from genai_provenance.credentials.sign_asset import SignResult
from genai_provenance.reports.text import render


def sign_document(result: SignResult) -> dict[str, Any]:
    """`sign --format json` (schemas/sign-report.schema.json)."""
    return {
        "tool": {"name": "genai-provenance", "version": __version__},
        "output": str(result.output),
        "sidecar": result.sidecar,
        "parent": str(result.parent) if result.parent else None,
        "thumbnail": result.thumbnail,
        "warnings": list(result.warnings),
        "embedded_clearances": list(result.embedded_clearances),
        "broken_history": [
            {"path": str(b.path), "relationship": b.relationship, "status": b.status, "problems": list(b.problems)}
            for b in result.broken_history
        ],
        "asset": result.report.to_dict(),
    }


def sign_text(result: SignResult) -> str:
    """`sign` in words: what was written, where its history came from, warnings."""
    lines = [f"Signed {result.output} ({result.report.status})"]
    if result.parent:
        origin = "the input's own credentials" if result.parent_was_input else str(result.parent)
        lines.append(f"  history carried forward from {origin}")
    if result.embedded_clearances:
        lines.append(f"  embedded signed clearances: {', '.join(result.embedded_clearances)}")
    lines.extend(f"  warning: {warning}" for warning in result.warnings)
    return render(lines)
