"""Reports for `package` and `verify-package`: text, JSON and JUnit XML."""

from __future__ import annotations

from typing import Any

from genai_provenance import __version__
from genai_provenance.gate.discovery import Stray
from genai_provenance.gate.package import ALLOWLIST_RULE, PackageResult
from genai_provenance.gate.verify_package import PackageVerification
from genai_provenance.grammar import plural
from genai_provenance.policy.rules import BLOCK
from genai_provenance.reports.check_report import revocation_lines, verdict_dict, verdict_text
from genai_provenance.reports.junit import Case, junit_xml, verdict_case
from genai_provenance.reports.text import render

STRAY_TITLE = "File is not covered by verified Content Credentials (closed allow-list)"
STRAY_REMEDY = "Remove the file from the deliverable, sign it, or name it with --exclude GLOB if it must stay out."


def _stray_finding(stray: Stray) -> dict[str, Any]:
    return {
        "rule_id": ALLOWLIST_RULE,
        "severity": BLOCK,
        "principle": None,
        "title": STRAY_TITLE,
        "evidence": {"asset": stray.rel, "reason": stray.reason},
        "remedy": STRAY_REMEDY,
        "needs": [],
    }


def package_document(result: PackageResult) -> dict[str, Any]:
    verdicts = result.verdicts
    return {
        "tool": {"name": "genai-provenance", "version": __version__},
        "source": str(result.source),
        "package": str(result.target) if result.written else None,
        "written": result.written,
        "blocked": result.blocked,
        "assets": [verdict_dict(v) for v in verdicts],
        "stray": [{"path": s.rel, "reason": s.reason, "findings": [_stray_finding(s)]} for s in result.discovery.stray],
        "excluded": result.discovery.excluded,
        "discovery": result.discovery.to_dict(),
        "summary": {
            "assets": len(verdicts),
            "cleared_assets": sum(not v.blocked for v in verdicts),
            "blocked_assets": sum(v.blocked for v in verdicts),  # strays apart: assets = cleared + blocked
            "stray_files": len(result.discovery.stray),
            "excluded_files": len(result.discovery.excluded),
            "block_findings": sum(f.severity == BLOCK for v in verdicts for f in v.evaluation.findings)
            + len(result.discovery.stray),
            "cleared": sum(len(v.evaluation.cleared) for v in verdicts),
            "waived": sum(len(v.evaluation.waived) for v in verdicts),
        },
    }


def package_text(result: PackageResult) -> str:
    lines: list[str] = []
    for verdict in result.verdicts:
        if verdict.blocked or verdict.evaluation.findings or verdict.evaluation.waived:
            lines.extend(verdict_text(verdict))
            lines.append("")
    for stray in result.discovery.stray:
        lines += [
            f"{stray.rel}",
            f"  BLOCK {ALLOWLIST_RULE}: {STRAY_TITLE} ({stray.reason})",
            f"      remedy: {STRAY_REMEDY}",
            "",
        ]
    if result.discovery.excluded:
        lines.append("excluded (not packaged): " + ", ".join(result.discovery.excluded))
    lines.extend(result.discovery.lines())
    lines.extend(f"note: {note}" for note in result.notes)
    doc = package_document(result)["summary"]
    lines.extend(revocation_lines(result.verdicts))
    strays = doc["stray_files"]
    lines.append(
        f"{plural(doc['assets'], 'asset')} checked: {doc['cleared_assets']} cleared, {doc['blocked_assets']} blocked"
        + (f"; {plural(strays, 'stray file')} (each blocks the package)" if strays else "")
        + f"; {plural(doc['cleared'], 'rule')} cleared by clearances"
        + (f"; {plural(doc['waived'], 'finding')} waived" if doc["waived"] else "")
    )
    if result.written:
        lines.append(f"PACKAGED: {result.target} (BagIt, SHA-256 + SHA-512, signed package report inside)")
    else:
        lines.append("NOT PACKAGED: nothing was written. Fix the blocking findings above and run again.")
    return render(lines)


def package_junit(result: PackageResult) -> str:
    """One test case per asset (and per stray or excluded file) for CI systems."""
    cases = [verdict_case(v) for v in result.verdicts]
    cases += [
        Case(s.rel, ALLOWLIST_RULE, f"{ALLOWLIST_RULE}: {STRAY_TITLE} ({s.reason})", STRAY_REMEDY)
        for s in result.discovery.stray
    ]
    cases += [Case(rel, skipped="excluded with --exclude") for rel in result.discovery.excluded]
    return junit_xml("genai-provenance package", "genai-provenance.package", cases)


def verification_document(check: PackageVerification) -> dict[str, Any]:
    return {
        "tool": {"name": "genai-provenance", "version": __version__},
        "package": str(check.path),
        "ok": check.ok,
        "problems": check.problems,
        "assets": [verdict_dict(v) for v in check.verdicts],
    }


def verification_text(check: PackageVerification) -> str:
    lines = [f"package {check.path}"]
    lines += [f"  ! {p}" for p in check.problems]
    for verdict in check.verdicts:
        if verdict.blocked or verdict.evaluation.waived:
            lines.extend(verdict_text(verdict))
    blocked = sum(v.blocked for v in check.verdicts)
    lines.extend(revocation_lines(check.verdicts))
    lines.append(
        f"{plural(len(check.verdicts), 'asset')} re-checked, {blocked} blocked; "
        f"{plural(len(check.problems), 'package problem')}"
    )
    lines.append("PACKAGE VERIFIED" if check.ok else "PACKAGE FAILED VERIFICATION")
    return render(lines)
