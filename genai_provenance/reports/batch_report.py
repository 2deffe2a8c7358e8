"""`sign FOLDER` / `sign --batch`: a line per file and a summary, or JSON (schemas/sign-batch-report.schema.json)."""

from __future__ import annotations

from typing import Any

from genai_provenance import __version__
from genai_provenance.credentials.batch import ItemResult, ItemStatus
from genai_provenance.grammar import plural
from genai_provenance.reports.text import render


def summary(items: list[ItemResult]) -> dict[str, int]:
    counts = {status.value: sum(1 for i in items if i.status == status) for status in ItemStatus}
    counts["files"] = len(items)
    counts["bytes"] = sum(i.size for i in items if i.status == ItemStatus.SIGNED)
    return counts


def skipped_by_reason(items: list[ItemResult]) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for item in items:
        if item.status == ItemStatus.SKIPPED:
            reasons[item.error or "skipped"] = reasons.get(item.error or "skipped", 0) + 1
    return reasons


def batch_document(items: list[ItemResult], exit_code: int) -> dict[str, Any]:
    return {
        "tool": {"name": "genai-provenance", "version": __version__},
        "exit_code": exit_code,
        "summary": summary(items),
        "skipped_by_reason": skipped_by_reason(items),
        "files": [
            {
                "input": str(i.input),
                "output": str(i.output) if i.output is not None else None,
                "status": i.status.value,
                "error": i.error,
                "source": i.source,
                "bytes": i.size,
                "asset_status": i.asset_status,
                "warnings": list(i.warnings),
            }
            for i in items
        ],
    }


def batch_text(items: list[ItemResult]) -> str:
    lines = []
    for item in items:
        if item.status == ItemStatus.SIGNED:
            lines.append(f"signed   {item.output} ({item.asset_status})")
        elif item.status == ItemStatus.SKIPPED:
            lines.append(f"skipped  {item.input}: {item.error}")
        else:
            lines.append(f"{item.status.value:<8} {item.error}")
    counts = summary(items)
    lines.append("")
    line = (
        f"Signed {counts['signed']}, failed {counts['failed']}, input errors {counts['error']}, "
        f"skipped {counts['skipped']} of {plural(counts['files'], 'file')}"
    )
    reasons = skipped_by_reason(items)
    if reasons:
        line += " (skipped: " + "; ".join(f"{n} {why}" for why, n in reasons.items()) + ")"
    lines.append(line)
    return render(lines)
