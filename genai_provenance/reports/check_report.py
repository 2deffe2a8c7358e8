"""Reports for `check` (verify + clearances + policy): text and JSON."""

from __future__ import annotations

from typing import Any

from genai_provenance import __version__
from genai_provenance.gate.check import AssetVerdict
from genai_provenance.gate.discovery import Discovery
from genai_provenance.grammar import plural
from genai_provenance.model.dicts import json_dict
from genai_provenance.policy.rules import BLOCK, NOTIFY, WARN, Policy
from genai_provenance.reports.console import Row, View, by_status
from genai_provenance.reports.text import SIGNATURE_LIMITS, asset_text, assets_block, render


def summary(verdicts: list[AssetVerdict]) -> dict[str, int]:
    findings = [f for v in verdicts for f in v.evaluation.findings]
    return {
        "assets": len(verdicts),
        "blocked": sum(v.blocked for v in verdicts),
        "passed": sum(not v.blocked for v in verdicts),
        "block_findings": sum(f.severity == BLOCK for f in findings),
        "warnings": sum(f.severity == WARN for f in findings),
        "notices": sum(f.severity == NOTIFY for f in findings),
        "cleared": sum(len(v.evaluation.cleared) for v in verdicts),
        "waived": sum(len(v.evaluation.waived) for v in verdicts),
    }


def verdict_dict(verdict: AssetVerdict) -> dict[str, Any]:
    return {
        "path": verdict.report.path,
        "status": verdict.report.status,
        "genai": verdict.report.genai,
        "intended_use": verdict.intended_use,
        "intended_use_source": verdict.intended_use_source,
        "blocked": verdict.blocked,
        "findings": json_dict(verdict.evaluation.findings),
        "cleared": json_dict(verdict.evaluation.cleared),
        "waived": json_dict(verdict.evaluation.waived),
        "waiver_notes": json_dict(verdict.evaluation.waiver_notes),
        "verification": verdict.report_dict(),
        "checked_on": verdict.checked_on,
    }


def check_document(verdicts: list[AssetVerdict], policy: Policy, found: Discovery | None = None) -> dict[str, Any]:
    document = {
        "tool": {"name": "genai-provenance", "version": __version__},
        "policy": {"name": policy.name, "source": policy.source},
        "assets": [verdict_dict(v) for v in verdicts],
        "summary": summary(verdicts),
    }
    if found is not None:
        document["discovery"] = found.to_dict()
    return document


def verdict_text(verdict: AssetVerdict) -> list[str]:
    lines = asset_text(verdict.report, verdict.clearances)
    head = "BLOCKED" if verdict.blocked else "PASSES POLICY"
    head += f" with {plural(len(verdict.evaluation.waived), 'waived finding')}" if verdict.evaluation.waived else ""
    lines.insert(1, f"  policy: {head} (intended use: {verdict.intended_use}, {verdict.intended_use_source})")
    for f in verdict.evaluation.findings:
        ev = f.evidence
        where = f" in stage {ev.get('stage')!r}" if ev.get("stage") else ""
        what = f" [{ev.get('tool') or ''} {ev.get('category') or ''}]".replace("[ ", "[").replace(" ]", "]")
        what = "" if what == " []" else what
        principle = f", principle {f.principle}" if f.principle else ""
        lines.append(f"  {f.severity.upper()} {f.rule_id}{principle}: {f.title}{where}{what}")
        lines.extend(f"      missing: {n}" for n in f.needs)
        failing = [c for c in ev.get("clearances") or [] if c["status"] != "valid"]
        lines.extend(f"      {c['kind']} {c['id']}: {c['status']} ({c['detail']})" for c in failing)
        lines.append(f"      remedy: {f.remedy}")
    for c in verdict.evaluation.cleared:
        lines.append(f"  CLEARED {c.rule_id} by {', '.join(c.clearances)}: {c.title}")
    lines.extend(waived_lines(verdict))
    return lines


def waived_lines(verdict: AssetVerdict) -> list[str]:
    """Waived findings (apart from passing and blocking ones), and waivers that fit but did not apply."""
    lines = []
    for w in verdict.evaluation.waived:
        lines.append(
            f"  WAIVED {w.rule_id} (would {w.severity}) by waiver {w.waiver_id} until {w.expires_at}: {w.title}"
        )
        lines.append(f"      waived by {w.issuer or 'unknown issuer'}: {w.reason}; {w.detail}")
    for n in verdict.evaluation.waiver_notes:
        lines.append(f"  waiver {n.waiver_id} for {n.rule_id} NOT applied: {n.reason}")
    return lines


def revocation_lines(verdicts: list[AssetVerdict]) -> list[str]:
    """Which revocation sources were consulted (and how fresh), and how many clearances went unchecked."""
    checks = [c for v in verdicts for c in v.clearances]
    sources = sorted({c.revocation_source for c in checks if c.revocation_source})
    lines = [f"revocation checked against {source}" for source in sources]
    unchecked = sum(1 for c in checks if c.ok and not c.revocation_checked)
    if unchecked:
        lines.append(f"revocation NOT checked for {plural(unchecked, 'valid clearance')}: see GP-REVOCATION findings")
    return lines


def check_row(verdict: AssetVerdict) -> Row:
    report = verdict.report
    signer = (report.signer.common_name or "unnamed") if report.signer else "-"
    policy = "BLOCKED" if verdict.blocked else "pass"
    return Row(
        report.path,
        str(report.status),
        report.genai,
        signer,
        len(verdict.evaluation.findings),
        not verdict.blocked,
        policy,
    )


def check_text(
    verdicts: list[AssetVerdict], policy: Policy, found: Discovery | None = None, view: View | None = None
) -> str:
    # The built-in policy's name already says "(default)"; a studio file is named by its path.
    where = "" if policy.source == "default" else f" ({policy.source})"
    view = view or View()
    shown = [v for v in verdicts if v.blocked] if view.only_failures or view.quiet else verdicts

    def detail() -> list[str]:
        lines: list[str] = []
        for verdict in shown:
            block = verdict_text(verdict)
            if view.verbose:
                block.insert(2, f"  checked on: {verdict.checked_on}")
            lines.extend(block)
            lines.append("")
        return lines

    plain, drawn = assets_block([check_row(v) for v in shown], detail, view)
    lines: list[str] = []
    if found is not None and found.lines():
        lines += [*found.lines(), ""]
    s = summary(verdicts)
    lines.extend(revocation_lines(verdicts))
    lines.append(
        f"{plural(s['assets'], 'asset')}: {s['passed']} pass, {s['blocked']} blocked; findings: {s['block_findings']} "
        f"blocking, {plural(s['warnings'], 'warning')}, {plural(s['notices'], 'notice')}; "
        f"{plural(s['cleared'], 'rule')} cleared by clearances"
        + (f"; {plural(s['waived'], 'finding')} waived" if s["waived"] else "")
    )
    lines.append(by_status(v.report.status for v in verdicts))
    lines.append(SIGNATURE_LIMITS)
    head = render([f"policy: {policy.name}{where}", ""])
    return "\n".join(filter(None, [head, render(plain), "\n".join(drawn), render(lines)]))
