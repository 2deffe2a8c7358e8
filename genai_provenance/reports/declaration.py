"""`preflight` reports: the declaration as JSON (also the file -o writes) and in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genai_provenance import __version__
from genai_provenance.policy.preflight import DECLARATION_FORMAT, Declaration, UseDecision
from genai_provenance.reports.text import render


def _use_dict(decision: UseDecision) -> dict[str, Any]:
    use = decision.use
    return {
        "index": use.index,
        "tool": use.tool.label,
        "category": use.category,
        "description": use.description,
        "classification": decision.classification,
        "rules": [{"id": r.id, "title": r.title, "principle": r.principle} for r in decision.rules],
        "reasons": list(decision.reasons),
        "needs": list(decision.needs),
        "requests": [r.command() for r in decision.requests],
        "to_cite": {"approvals": list(decision.to_cite.approvals), "consents": list(decision.to_cite.consents)},
    }


def declaration_document(declaration: Declaration) -> dict[str, Any]:
    """Validated by schemas/declaration.schema.json; the asset and disclosure as they were given."""
    answers = declaration.answers
    return {
        "format": DECLARATION_FORMAT,
        "created_at": declaration.created_at,
        "tool": {"name": "genai-provenance", "version": __version__},
        "policy": declaration.policy,
        "asset": declaration.disclosure.raw["asset"],
        "overall": declaration.overall,
        "principles": {str(k): v for k, v in sorted(answers.by_principle.items())} if answers else None,
        "uses": [_use_dict(u) for u in declaration.uses],
        "requests": [r.command() for r in declaration.requests],
        "disclosure": declaration.disclosure.raw,
    }


def declaration_text(declaration: Declaration, written_to: Path | None) -> str:
    asset = declaration.disclosure.asset
    lines = [
        f"Preflight for {asset.asset_id} ({asset.production}), intended use {asset.intended_use}",
        f"overall: {declaration.overall.upper()}",
        "",
    ]
    for decision in declaration.uses:
        where = f"genai[{decision.use.index}]"
        lines.append(f"{where} {decision.use.tool.label} [{decision.use.category}]: {decision.classification.upper()}")
        lines.extend(f"    because {r}" for r in decision.reasons)
        lines.extend(f"    needs {n}" for n in decision.needs)
        for field, ids in (("approvals", decision.to_cite.approvals), ("consents", decision.to_cite.consents)):
            lines.extend(f"    cites no {field[:-1]}: list {i} under {where}.{field} in the disclosure" for i in ids)
    if declaration.requests:
        lines += ["", "For legal, each once; then sign with the disclosure:"]
        lines.extend(f"  request: {r.command()}" for r in declaration.requests)
    lines += ["", f"declaration written to {written_to}" if written_to else "no declaration written (use -o FILE)"]
    return render(lines)
