"""`sign` reports: what was written, where its history came from, and how it verified when read back."""

from __future__ import annotations

from typing import Any

from genai_provenance import __version__
from genai_provenance.credentials.sign_asset import SignResult
from genai_provenance.credentials.sign_sequence import SequenceSignResult
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
        "signer_revocation": result.signer_status.to_dict() if result.signer_status else None,
    }


def sign_text(result: SignResult) -> str:
    """`sign` in words: what was written, where its history came from, warnings."""
    lines = [f"Signed {result.output} ({result.report.status})"]
    if result.parent:
        origin = "the input's own credentials" if result.parent_was_input else str(result.parent)
        lines.append(f"  history carried forward from {origin}")
    if result.embedded_clearances:
        lines.append(f"  embedded signed clearances: {', '.join(result.embedded_clearances)}")
    if (answer := result.signer_status) is not None:
        lines.append(
            f"  signing certificate: {answer.status} at OCSP responder {answer.responder_url}"
            " (checked before signing; the answer is stapled into the signature)"
        )
    lines.extend(f"  warning: {warning}" for warning in result.warnings)
    return render(lines)


def sign_sequence_document(result: SequenceSignResult) -> dict[str, Any]:
    """`sign PATTERN --format json` (schemas/sign-sequence-report.schema.json): the record and each frame's sidecar."""
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


def sign_sequence_text(result: SequenceSignResult) -> str:
    """`sign PATTERN` in words: the sequence, how many frames, where the sidecars went."""
    record = result.record
    statuses = sorted({str(r.report.status) for r in result.frames})
    lines = [
        f"Signed image sequence {result.pattern.folder / result.display}: {record.count} frames "
        f"({', '.join(statuses)}), each with its sidecar (<frame>.c2pa)",
        f"  signed record of the frames: {record.pattern}, {record.first}-{record.last}, {record.digest()}",
    ]
    lines.extend(f"  warning: {warning}" for warning in result.warnings)
    return render(lines)
