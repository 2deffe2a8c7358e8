"""The top of an explanation: every problem first, the verdict they add up to, and the evidence
the report rests on (file hash, tool, anchors, policy, revocation source)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from genai_provenance import __version__
from genai_provenance.explain.model import AnchorView, EvidenceView, PolicyItem, ProblemView, Stage
from genai_provenance.explain.wording import join, sentence
from genai_provenance.gate.sequences import WHERE as SEQUENCE
from genai_provenance.grammar import plural
from genai_provenance.model.provenance import INVALID, NO_CREDENTIALS, UNREADABLE, AssetReport

BLOCKED, PROBLEMS, NO_PROBLEM = "blocked", "problems", "no-problem-found"
_UNTRUSTED = ("untrusted", "certificate-problem", "unreliable")


def _stage_name(stage: Stage) -> str:
    return f"stage {stage.number} ({stage.title})"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clearance_problems(stages: list[Stage]) -> list[ProblemView]:
    out = []
    for stage in stages:
        for activity in stage.activities:
            for view in activity.consents + activity.approvals:
                if view.status == "valid":
                    continue
                text = f"{_cap(_stage_name(stage))}: {view.sentence}"
                out.append(ProblemView("clearance", text, stage=stage.number))
    return out


def _stage_problems(report: AssetReport, stages: list[Stage]) -> list[ProblemView]:
    out = []
    for stage in stages:
        if stage.status == INVALID:
            why = f": {stage.problems[0]}" if stage.problems else ""
            out.append(ProblemView("broken-stage", sentence(_cap(f"{_stage_name(stage)} does not check out{why}"))))
            out[-1].stage = stage.number
    if not out:  # a broken stage the narrative did not draw as its own stage
        out += [ProblemView("broken-stage", sentence(f"Broken history: {p}")) for p in report.history_problems]
    return out


def _signer_problems(stages: list[Stage]) -> list[ProblemView]:
    out = []
    for stage in stages:
        if stage.signer and stage.signer.trust in _UNTRUSTED and stage.status != INVALID:
            who = stage.signer.common_name or "an unnamed certificate holder"
            out.append(
                ProblemView(
                    "untrusted-signer",
                    f"{_cap(_stage_name(stage))} was signed by {who}, {stage.signer.why}.",
                    stage=stage.number,
                )
            )
    return out


def problems_of(report: AssetReport, stages: list[Stage], policy: list[PolicyItem] | None) -> list[ProblemView]:
    """Every problem, in the order a reader needs them: the file, clearances, stages, signers, gaps, the policy."""
    name = Path(report.path).name or report.path
    out: list[ProblemView] = []
    if report.status == NO_CREDENTIALS:
        out.append(
            ProblemView(
                "no-credentials",
                f"{name} carries no Content Credentials: nothing in it says how it was made, or whether "
                "generative AI was used.",
            )
        )
    elif report.status == UNREADABLE:
        out.append(ProblemView("unreadable", sentence(f"{name} could not be read ({report.error or 'unknown error'})")))
    frames = [f.explanation for f in report.failures if f.where == SEQUENCE] if report.sequence is not None else []
    if report.status in (NO_CREDENTIALS, UNREADABLE):
        pass
    elif frames:  # an image sequence: each frame problem, naming its frame
        out += [ProblemView("sequence", sentence(_cap(f"Image sequence: {text}"))) for text in frames]
    elif report.status == INVALID and not any(s.status == INVALID for s in stages):
        out.append(ProblemView("invalid", sentence(f"The credentials of {name} do not check out")))
    out += _clearance_problems(stages)
    out += _stage_problems(report, stages)
    out += _signer_problems(stages)
    out += [
        ProblemView(
            "gap",
            f"{_cap(_stage_name(s))} carried no credentials: how it was made is not recorded.",
            stage=s.number,
        )
        for s in stages
        if s.kind == "no-credentials"
    ]
    for item in policy or []:
        if item.severity == "block":
            text = item.sentence.removeprefix("BLOCK: ")
            out.append(ProblemView("policy-block", f"Blocks: {text}", item.rule, item.stage))
        elif item.severity == "waived":
            text = item.sentence.replace("WAIVED: ", "Waived, not blocking: ", 1)
            out.append(ProblemView("policy-waived", text, item.rule, item.stage))
    return out


def verdict_of(problems: list[ProblemView], policy_applied: bool) -> tuple[str, str]:
    """The one line the top of the report opens with."""
    waived = list(dict.fromkeys(p.rule for p in problems if p.kind == "policy-waived" and p.rule))
    if waived and not any(p.kind == "policy-block" for p in problems):
        others = len(problems) - len([p for p in problems if p.kind == "policy-waived"])
        more = f"; {plural(others, 'problem')} listed below" if others else ""
        return PROBLEMS, f"Not blocked: the policy findings {join(waived)} are waived by signed waivers{more}."
    rules = list(dict.fromkeys(p.rule for p in problems if p.kind == "policy-block" and p.rule))
    if rules:
        others = len([p for p in problems if p.kind != "policy-block"])
        more = f"; {plural(others, 'other problem')} listed below" if others else ""
        return BLOCKED, f"BLOCKED by the policy ({join(rules)}){more}."
    if problems:
        return (
            PROBLEMS,
            f"{plural(len(problems), 'problem')} found: read {'them' if len(problems) > 1 else 'it'} first.",
        )
    scope = "" if policy_applied else " (no policy was applied)"
    return (
        NO_PROBLEM,
        f"No problem found: the credentials are intact and trusted, and every clearance cited checks out{scope}.",
    )


def _anchor_views(certs: list[x509.Certificate]) -> list[AnchorView]:
    return [AnchorView(c.subject.rfc4514_string(), c.fingerprint(hashes.SHA256()).hex()) for c in certs]


def _file_facts(path: Path, content_hash: Callable[[], str] | None) -> tuple[str | None, int | None]:
    """The file's SHA-256 and size; `content_hash` (a cached `sha256:<hex>`, as clearances use) saves a second read."""
    if content_hash is not None:
        value = content_hash()
        known = value.removeprefix("sha256:") if value.startswith("sha256:") and value != "sha256:unreadable" else None
        with contextlib.suppress(OSError):
            return known, path.stat().st_size
        return known, None
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest(), path.stat().st_size
    except OSError:
        return None, None


def evidence_for(
    path: Path,
    trust_anchors: list[x509.Certificate],
    approver_anchors: list[x509.Certificate],
    policy: tuple[str, str] | None,
    revocation: str,
    now: dt.datetime | None = None,
    content_hash: Callable[[], str] | None = None,
) -> EvidenceView:
    """`policy` is (name, sha256 of its file) when one was applied; `content_hash`, the file's own cached hash."""
    sha, size = _file_facts(path, content_hash)
    made = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    return EvidenceView(
        file_sha256=sha,
        file_size=size,
        made_at=made,
        tool=f"genai-provenance {__version__}",
        trust_anchors=_anchor_views(trust_anchors),
        approver_anchors=_anchor_views(approver_anchors),
        policy=policy[0] if policy else None,
        policy_sha256=policy[1] if policy else None,
        revocation=revocation,
    )
