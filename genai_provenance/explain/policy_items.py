"""What the policy says about a file, in sentences tied to the stage each finding is about."""

from __future__ import annotations

from collections.abc import Sequence

from genai_provenance.explain.model import PolicyItem, Stage
from genai_provenance.explain.wording import join, sentence
from genai_provenance.grammar import plural
from genai_provenance.policy.rules import Cleared, Finding, Waived, WaiverNote

PolicyResult = Finding | Cleared | Waived | WaiverNote


def _stage(evidence: dict[str, object], stage_of: dict[str, Stage]) -> Stage | None:
    return stage_of.get(str(evidence.get("manifest")))


def _waived(waived: Waived, stage_of: dict[str, Stage]) -> PolicyItem:
    """A waived finding: which waiver, by whom, until when, why."""
    stage = _stage(waived.evidence, stage_of)
    text = (
        f"WAIVED: {waived.rule_id} {waived.title} (would {waived.severity}); by waiver {waived.waiver_id} "
        f"of {waived.issuer or 'an unnamed approver'}, until {waived.expires_at}, because "
        f"{waived.reason}; {waived.detail}"
    )
    return PolicyItem(
        "waived", waived.title, sentence(text), waived.rule_id or None, None, stage.number if stage else None
    )


def _not_applied(note: WaiverNote) -> PolicyItem:
    text = f"Waiver {note.waiver_id} for {note.rule_id} was not applied: {note.reason}"
    return PolicyItem("note", f"waiver {note.waiver_id} not applied", sentence(text), note.rule_id or None)


def _finding(result: Finding | Cleared, stage_of: dict[str, Stage]) -> PolicyItem:
    stage = _stage(result.evidence, stage_of)
    severity = result.severity if isinstance(result, Finding) else "cleared"
    title = result.title or result.rule_id or "finding"
    text = f"{severity.upper()}: {title}"
    if stage:
        text += f" (stage {stage.number}, {stage.title})"
    if isinstance(result, Finding) and result.needs:
        text += f"; needs {join(result.needs)}"
    if isinstance(result, Cleared) and result.clearances:
        text += f"; satisfied by {join(result.clearances)}"
    remedy = result.remedy if isinstance(result, Finding) else None
    return PolicyItem(severity, title, sentence(text), result.rule_id, remedy, stage.number if stage else None)


def _item(result: PolicyResult, stage_of: dict[str, Stage]) -> PolicyItem:
    if isinstance(result, Waived):
        return _waived(result, stage_of)
    if isinstance(result, WaiverNote):
        return _not_applied(result)
    return _finding(result, stage_of)


def policy_items(
    results: Sequence[PolicyResult] | None, stages: list[Stage]
) -> tuple[list[PolicyItem] | None, str | None]:
    """Policy findings (and rules a clearance satisfied or a waiver lifted) as sentences; None: no policy."""
    if results is None:
        return None, None
    stage_of = {s.manifest: s for s in stages if s.manifest}
    items = [_item(result, stage_of) for result in results]
    if not items:
        return items, "The policy raises no finding for this file."
    blocking = [i for i in items if i.severity == "block"]
    open_items = [i for i in items if i.severity not in ("cleared", "waived")]
    if blocking:
        return items, sentence(f"The policy blocks this file: {plural(len(blocking), 'finding')} must be resolved")
    waived = [i for i in items if i.severity == "waived"]
    if not open_items and waived:
        lifted = plural(len(waived), "finding")
        return items, sentence(f"The policy raises no open finding; {lifted} waived by signed waivers")
    if not open_items:
        return items, "The policy raises no open finding: every rule that applies is satisfied by a clearance."
    return items, sentence(f"The policy raises {plural(len(open_items), 'finding')}; none blocks the file")
