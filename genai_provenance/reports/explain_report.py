"""`explain` and `verify-report` reports: the whole JSON documents and the text around the narrative."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genai_provenance import __version__
from genai_provenance.explain.model import ExplainResult
from genai_provenance.explain.signed_report import ReportCheck
from genai_provenance.reports.explain_text import explain_text
from genai_provenance.reports.text import NO_ANCHORS
from genai_provenance.safe_text import one_line


def explain_document(result: ExplainResult, html: Path | None = None) -> dict[str, Any]:
    """`explain --format json`, validated by schemas/explain-report.schema.json."""
    return {
        "tool": {"name": "genai-provenance", "version": __version__},
        "passed": result.passed,
        "policy_blocked": result.blocked,
        "html": str(html) if html else None,
        "explanation": result.explanation.to_dict(),
    }


def explain_report_text(result: ExplainResult, html: Path | None = None) -> str:
    """The narrative, after a note when no signer could be trusted, and where the HTML page went."""
    note = "" if result.anchors_configured else NO_ANCHORS + "\n"
    written = "\n" + one_line(f"HTML report written to {html}") + "\n" if html else ""
    return note + explain_text(result.explanation) + written


def report_check_document(path: Path, check: ReportCheck) -> dict[str, Any]:
    """`verify-report --format json`."""
    return {
        "tool": {"name": "genai-provenance", "version": __version__},
        "report": str(path),
        "ok": check.ok,
        "reason": check.reason,
        "signer": check.signer,
        "signed_at": check.signed_at,
        "report_tool": check.report_format,
    }


def report_check_text(path: Path, check: ReportCheck) -> str:
    if check.ok:
        return one_line(f"{path}: VERIFIED: {check.reason}; signed by {check.signer} at {check.signed_at}")
    return one_line(f"{path}: FAILED: {check.reason}")
