"""`explain` as plain text: a narrative a lawyer can read, wrapped for a terminal or an e-mail."""

from __future__ import annotations

import textwrap

from genai_provenance.explain.model import Activity, AnchorView, EvidenceView, Explanation, SequenceView, Stage
from genai_provenance.explain.wording import input_sentence
from genai_provenance.reports.text import render

WIDTH = 100


def _para(text: str, indent: str = "", bullet: str = "") -> list[str]:
    first = indent + bullet
    rest = indent + " " * len(bullet)
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [first]


def _heading(text: str, char: str = "-") -> list[str]:
    return ["", text, char * len(text)]


def _activity(activity: Activity, indent: str) -> list[str]:
    lines = _para(activity.summary, indent, "- ")
    sub = indent + "  "
    for detail in activity.details:
        lines += _para(detail, sub)
    for item in activity.inputs:
        lines += _para(input_sentence(item), sub)
    if activity.data_handling:
        lines += _para(activity.data_handling, sub)
    for view in activity.consents + activity.approvals:
        lines += _para(view.sentence, sub)
    return lines


def _stage(stage: Stage, total: int) -> list[str]:
    name = stage.title + (f" ({stage.file_name})" if stage.file_name and stage.file_name != stage.title else "")
    current = " - the file you have" if stage.current else ""
    lines = _heading(f"Stage {stage.number} of {total}: {name} [{stage.status}: {stage.status_words}]{current}", "~")
    ind = "  "
    if stage.kind == "no-credentials":
        lines += _para(
            "This asset carried no Content Credentials: nothing is recorded about who made it, when, or how.", ind
        )
    if stage.signer:
        lines += _para(f"Who: {stage.signer.sentence} {stage.signer.why[0].upper()}{stage.signer.why[1:]}.", ind)
    if stage.time:
        lines += _para(f"When: {stage.time.sentence}", ind)
    if stage.generator:
        lines += _para(f"Written with: {stage.generator}.", ind)
    for text in stage.declared:
        lines += _para(text, ind)
    if stage.kind == "signed":
        lines.append(f"{ind}What was done:")
        for activity in stage.activities:
            lines += _activity(activity, ind + "  ")
    for text in stage.ingredients:
        lines += _para(text, ind)
    for text in stage.used_by:
        lines += _para(text, ind)
    if stage.training_mining:
        prefs = "; ".join(f"{k}: {v}" for k, v in stage.training_mining.items())
        lines += _para(f"Training and data-mining preferences: {prefs}.", ind)
    if stage.unknown_assertions:
        lines += _para(
            "Other records in this stage, not interpreted by this tool: " + ", ".join(stage.unknown_assertions) + ".",
            ind,
        )
    if stage.binding:
        lines += _para(f"Binding: {stage.binding}", ind)
    for text in stage.identities:
        lines += _para(f"Identity: {text}", ind)
    for text in stage.problems:
        lines += _para(f"Problem: {text}", ind)
    return lines


def _sequence(view: SequenceView) -> list[str]:
    lines = _heading(f"Image sequence: {view.name}")
    lines += _para(view.sentence)
    facts = [("missing", view.missing), ("extra", view.extra), ("gaps on disk", view.gaps)]
    said = "; ".join(f"{label}: {', '.join(map(str, numbers))}" for label, numbers in facts if numbers)
    recorded = f"{view.count} in the signed record" if view.record is not None else "no signed record"
    lines += _para(
        f"Frames {view.first}-{view.last}, {recorded}, {view.present} on disk" + (f"; {said}." if said else ".")
    )
    for text in view.problems:
        lines += _para(text, "", "- ")
    return lines


def evidence_rows(evidence: EvidenceView, sequence: SequenceView | None = None) -> list[tuple[str, str]]:
    """What the report rests on, as label and value pairs (text and HTML share them)."""

    def anchors(items: list[AnchorView]) -> str:
        return "; ".join(f"{a.subject} (SHA-256 {a.sha256})" for a in items) or "none"

    size = f"{evidence.file_size:,} bytes" if evidence.file_size is not None else "unknown"
    policy = f"{evidence.policy} (SHA-256 {evidence.policy_sha256})" if evidence.policy else "none applied"
    files = [("File SHA-256", evidence.file_sha256 or "could not be read"), ("File size", size)]
    if sequence is not None:
        record = sequence.record or "none agreed by the frames"
        given = [(f"Frame given: {label}", value) for label, value in files] if sequence.frame_given else []
        files = [("Sequence record", record), *given]
    return [
        *files,
        ("Report made", f"{evidence.made_at} by {evidence.tool}"),
        ("Media trust anchors", anchors(evidence.trust_anchors)),
        ("Approver roots", anchors(evidence.approver_anchors)),
        ("Policy", policy),
        ("Revocation", evidence.revocation),
    ]


def explain_text(explanation: Explanation) -> str:
    e = explanation
    title = f"How this file was made: {e.file_name}"
    lines = [title, "=" * len(title)]
    lines += _para(f"VERDICT: {e.verdict_sentence}")
    for problem in e.problems:
        lines += _para((f"[{problem.rule}] " if problem.rule else "") + problem.sentence, "  ", "- ")
    lines.append("")
    lines += _para(e.headline)
    lines.append("")
    lines += _para(f"What the file is: {e.file}, {e.format_words}.")
    lines += _para(f"Credentials: {e.credentials} Status: {e.status} ({e.status_words}).")
    lines += _para(f"Generative AI: {e.genai_sentence}")
    if e.sequence is not None:
        lines += _sequence(e.sequence)
    if e.stages:
        lines += _heading(f"History, oldest first ({len(e.stages)} stage{'s' if len(e.stages) != 1 else ''})")
        for stage in e.stages:
            lines += _stage(stage, len(e.stages))
    if e.policy is not None:
        lines += _heading("What the policy says")
        lines += _para(e.policy_sentence or "")
        for item in e.policy:
            lines += _para(item.sentence, "", "- ")
            if item.remedy:
                lines += _para(f"Remedy: {item.remedy}", "  ")
    lines += _heading("What the credentials do not prove")
    for text in e.does_not_prove:
        lines += _para(text, "", "- ")
    lines += _heading("What cannot be known here")
    for text in e.cannot_know:
        lines += _para(text, "", "- ")
    if e.notes:
        lines += _heading("Notes")
        for text in e.notes:
            lines += _para(text, "", "- ")
    if e.evidence:
        lines += _heading("What this report rests on")
        for label, value in evidence_rows(e.evidence, e.sequence):
            lines += _para(f"{label}: {value}", "", "- ")
    return render(lines) + "\n"
