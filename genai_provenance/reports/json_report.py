"""Machine-readable reports, each validated by a schema in schemas/."""

from __future__ import annotations

import json
from typing import Any

from genai_provenance import __version__
from genai_provenance.gate.discovery import Discovery
from genai_provenance.model.provenance import CheckedAsset, summarise
from genai_provenance.safe_text import json_safe


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
    return json.dumps(json_safe(document), indent=2, ensure_ascii=False, sort_keys=False)


def sign_document(result: Any) -> dict[str, Any]:
    """`sign --format json`: what was written and how it verified when read back."""
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
        "signer_revocation": result.signer_status.to_dict() if result.signer_status else None,
    }


def sign_sequence_document(result: Any) -> dict[str, Any]:
    """`sign PATTERN --format json`: the sequence record signed into every frame, and each frame's sidecar."""
    record = result.record
    return {
        "tool": {"name": "genai-provenance", "version": __version__},
        "sequence": {
            "name": result.display,
            "pattern": record.pattern,
            "first": record.first,
            "last": record.last,
            "count": record.count,
            "record": record.digest(),
        },
        "frames": [
            {"frame": f.number, "sidecar": str(r.output), "status": r.report.status}
            for f, r in zip(record.frames, result.frames, strict=True)
        ],
        "warnings": list(result.warnings),
    }


def report_check_document(path: str, check: Any) -> dict[str, Any]:
    """`verify-report --format json`."""
    return {
        "tool": {"name": "genai-provenance", "version": __version__},
        "report": path,
        "ok": check.ok,
        "reason": check.reason,
        "signer": check.signer,
        "signed_at": check.signed_at,
        "report_tool": check.report_format,
    }
