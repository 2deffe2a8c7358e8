"""Explain how a file was made, for a reader who is not an engineer (legal, first of all).

`explain(report)` turns a verified AssetReport into an Explanation: the stages of the file's
history oldest first (who signed each, when, what was done in words, from which inputs, under
which consents and approvals), and what the credentials do not prove and what cannot be known.
It only restates what the report holds; renderers in genai_provenance.reports format it.

What an explanation holds is in model, the words it is made of in wording, the stages in stages
(what was done at each in activities), its limits in limits, the policy's results in policy_items,
and the problems and verdict at its top in verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from genai_provenance.credentials.read import TrustSettings
from genai_provenance.explain.limits import cannot_know, does_not_prove
from genai_provenance.explain.model import (
    UNCHECKED,
    EvidenceView,
    ExplainResult,
    Explanation,
    SequenceView,
    Stage,
)
from genai_provenance.explain.policy_items import PolicyResult, policy_items
from genai_provenance.explain.sequence import explain_target, read_asset, sequence_view
from genai_provenance.explain.stages import BYTES_CHANGED, build_stages
from genai_provenance.explain.verdict import evidence_for, problems_of, verdict_of
from genai_provenance.explain.wording import (
    STATUS_WORDS,
    count,
    format_words,
    join,
    sentence,
)
from genai_provenance.gate.check import CheckSettings, ClearanceSource, check_clearances, verdict_for
from genai_provenance.grammar import plural
from genai_provenance.model.provenance import (
    INVALID,
    NO_CREDENTIALS,
    TRUSTED,
    UNREADABLE,
    VALID_UNTRUSTED,
    AssetReport,
    ClearanceCheck,
)
from genai_provenance.policy.rules import Policy

__all__ = ["explain", "explain_file", "read_asset", "revocation_words"]

# ---------------------------------------------------------------------------------------------
# the whole explanation


def _headline(report: AssetReport, name: str, stages: list[Stage], sequence: SequenceView | None) -> str:
    signed = [s for s in stages if s.kind == "signed"]
    recorded = f"{count(len(signed))} signed stage{'s' if len(signed) != 1 else ''}"
    if sequence is not None and sequence.problems and report.status != NO_CREDENTIALS:
        more = f" (and {plural(len(sequence.problems) - 1, 'more problem')})" if len(sequence.problems) > 1 else ""
        return (
            f"{name} is an image sequence whose frames do not all check out against its signed record: "
            f"{sequence.problems[0]}{more}."
        )
    if report.status == NO_CREDENTIALS:
        return (
            f"{name} carries no Content Credentials, so the file itself says nothing about how it was made, "
            "including whether generative AI was used."
        )
    if report.status == UNREADABLE:
        why = report.error or "unknown error"
        return f"{name} could not be read ({why}), so nothing about how it was made can be said."
    if not stages:
        why = report.error or "unknown error"
        return f"{name} carries Content Credentials that are damaged and could not be verified ({why})."
    stripped = [s for s in stages if s.kind == "no-credentials"]
    gap = ""
    if stripped:
        names = join([f"stage {s.number} ({s.title})" for s in stripped])
        gap = f" Earlier material, {names}, carried no credentials of its own."
    if report.status == TRUSTED:
        each = "each signed" if len(signed) > 1 else "signed"
        unconfirmed = [i for i in report.identities if not i.trusted]
        also = (
            f" The CAWG identity it names ({unconfirmed[0].name or 'unnamed'}) cannot be confirmed: its credential "
            "is not on a trust list."
            if unconfirmed
            else ""
        )
        return (
            f"{name} carries intact Content Credentials recording {recorded}, {each} by an identity on the trust "
            f"list used here.{also}{gap}"
        )
    if report.status == VALID_UNTRUSTED:
        untrusted = [s for s in signed if s.signer and s.signer.trust == "untrusted"]
        which = join([f"stage {s.number}" for s in untrusted]) or "a stage"
        verb = "was signed by an identity that is" if len(untrusted) <= 1 else "were signed by identities that are"
        return (
            f"{name} carries intact Content Credentials recording {recorded}, but {which} {verb} not on the trust "
            f"list used here, so who signed cannot be confirmed.{gap}"
        )
    bad = [s for s in stages if s.status == INVALID] or signed[-1:]
    first = bad[0]
    what = (
        "the media bytes changed after signing"
        if set(first.failure_codes) & BYTES_CHANGED
        else "the signed record was altered, is damaged or could not be checked"
    )
    return (
        f"{name} carries Content Credentials recording {recorded}, but they do not all check out: {what} "
        f"(stage {first.number}, {first.title}).{gap}"
    )


def _genai_summary(report: AssetReport, stages: list[Stage]) -> tuple[str, str]:
    if report.status in (NO_CREDENTIALS, UNREADABLE) or not stages:
        return "unknown", (
            "Whether generative AI was used cannot be determined from this file: there are no readable credentials."
        )
    gen = [s for s in stages if s.genai == "generative"]
    maybe = [s for s in stages if s.genai == "maybe"]
    if gen:
        names = join([f"stage {s.number} ({s.title})" for s in gen])
        return "generative", sentence(f"Generative AI is recorded in {names}")
    if maybe:
        names = join([f"stage {s.number} ({s.title})" for s in maybe])
        return "maybe", sentence(f"{names} record a kind of source that may involve generative AI")
    return "none-recorded", (
        "No generative AI use is recorded in these credentials. That is what the signers declared or what "
        "their tools wrote; it does not show that none was used."
    )


def _credentials_sentence(report: AssetReport, name: str) -> str:
    if report.status == NO_CREDENTIALS:
        return f"{name} carries no Content Credentials (C2PA)."
    if report.status == UNREADABLE:
        return f"{name} could not be read as media, so its credentials could not be looked for."
    where = "embedded in the file" if report.embedded is not False else "in a sidecar file beside it"
    if report.sequence is not None:
        where = "in a sidecar beside each frame, every one carrying the signed record of the whole sequence"
    return f"{name} carries Content Credentials (C2PA) {where}."


def explain(
    report: AssetReport,
    findings: Sequence[PolicyResult] | None = None,
    evidence: EvidenceView | None = None,
    checks: Sequence[ClearanceCheck] = (),
    frame_given: Path | None = None,
) -> Explanation:
    """Put a verified asset's provenance into words.

    `findings` are the policy's results (shown as given; None: no policy applied); `checks` are the
    clearance checks made for this report (gate.check.check_clearances). Without them, IDs found in
    disclosures are said to be declared but unchecked. A sequence's report (gate/sequences.py) is explained as
    one asset, each of its frame problems named; `frame_given` is the frame `explain` was given, if any.
    """
    name = Path(report.path).name or report.path
    stages = build_stages(report, checks) if report.status not in (NO_CREDENTIALS, UNREADABLE) else []
    genai, genai_sentence = _genai_summary(report, stages)
    sequence = sequence_view(report, frame_given)
    views = [v for s in stages for a in s.activities for v in a.approvals + a.consents]
    unchecked = any(v.status == UNCHECKED for v in views)
    policy, policy_sentence = policy_items(findings, stages)
    problems = problems_of(report, stages, policy)
    verdict, verdict_sentence = verdict_of(problems, policy is not None)
    return Explanation(
        file=report.path,
        file_name=name,
        format=report.format,
        format_words=format_words(report.format),
        status=report.status,
        status_words=STATUS_WORDS.get(report.status, report.status),
        headline=_headline(report, name, stages, sequence),
        credentials=_credentials_sentence(report, name),
        genai=genai,
        genai_sentence=genai_sentence,
        stages=stages,
        does_not_prove=does_not_prove(report, stages, genai, views),
        cannot_know=cannot_know(report, stages, name, unchecked),
        policy=policy,
        policy_sentence=policy_sentence,
        notes=[sentence(n) for n in report.notes],
        verdict=verdict,
        verdict_sentence=verdict_sentence,
        problems=problems,
        evidence=evidence,
        sequence=sequence,
    )


# ---------------------------------------------------------------------------------------------
# reading and explaining a file


def explain_file(
    path: Path, trust: TrustSettings, source: ClearanceSource | None = None, policy: Policy | None = None
) -> ExplainResult:
    """Verify `path` (a file, or an image sequence: see explain.sequence.explain_target), check the approvals
    and consents it cites (when `source` is given), apply `policy` (when given) and explain the lot."""
    target = explain_target(path, trust)
    report, content_hash = target.found.report, target.found.content_hash
    asset = Path(report.path) if report.sequence is not None else path
    anchors = trust.anchors_pem is not None
    given = source or ClearanceSource()
    evidence = evidence_for(
        target.frame_given or path,
        x509.load_pem_x509_certificates(trust.anchors_pem.encode()) if trust.anchors_pem else [],
        list(given.approver_anchors),
        (policy.name, policy.sha256) if policy is not None else None,
        revocation_words(given),
        content_hash=content_hash if report.sequence is None else None,  # one read of the file for both
    )
    if policy is not None:
        verdict = verdict_for(report, asset, CheckSettings(trust, policy, given), content_hash)
        evaluation = verdict.evaluation
        findings: list[PolicyResult] = [
            *evaluation.findings,
            *evaluation.cleared,
            *evaluation.waived,
            *evaluation.waiver_notes,
        ]
        explanation = explain(report, findings, evidence, verdict.clearances, target.frame_given)
        return ExplainResult(report, explanation, verdict.blocked, anchors, target.media, target.files)
    checks = check_clearances(report, asset, source, content_hash) if source is not None else ()
    explanation = explain(report, evidence=evidence, checks=checks, frame_given=target.frame_given)
    return ExplainResult(report, explanation, anchors_configured=anchors, media=target.media, files=target.files)


def revocation_words(source: ClearanceSource) -> str:
    """Where revocations were looked up, and how fresh that is (or why they could not be)."""
    found = []
    if source.ledger is not None:
        described = source.ledger.describe()
        found.append(
            f"the clearance ledger ({described}), read when this report was made"
            if described
            else f"not the clearance ledger: {source.ledger.revocation_problem() or 'it could not be verified'}"
        )
    if source.revocation_list is not None:
        found.append(f"the signed revocation list ({source.revocation_list.describe()})")
    elif source.list_problem:
        found.append(f"not the imported revocation list: {source.list_problem}")
    if not found:
        return "Revocations were not checked: no clearance ledger and no revocation list were available."
    return sentence("Revocations were looked up in " + "; ".join(found))
