"""Explain how a file was made, for a reader who is not an engineer (legal, first of all).

`explain(report)` turns a verified AssetReport into an Explanation: the stages of the file's
history oldest first (who signed each, when, what was done in words, from which inputs, under
which consents and approvals), and what the credentials do not prove and what cannot be known.
It only restates what the report holds; renderers in genai_provenance.reports format it.

What an explanation holds is in explain_model, the words it is made of in wording, what was done at
each stage in explain_activities, and the thumbnails a report shows in thumbnails.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from genai_provenance.credentials.failure_codes import stage_status
from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.errors import InputError
from genai_provenance.explain.activities import (
    declared_sentences,
    stage_activities,
    training_words,
    unknown_assertions,
)
from genai_provenance.explain.model import (
    UNCHECKED,
    Activity,
    ClearanceView,
    EvidenceView,
    ExplainResult,
    Explanation,
    SignerView,
    Stage,
    TimeView,
)
from genai_provenance.explain.policy_items import PolicyResult, policy_items
from genai_provenance.explain.verdict import evidence_for, problems_of, verdict_of
from genai_provenance.explain.wording import (
    DOES_NOT_PROVE_SIGNATURE,
    RELATIONSHIP_WORDS,
    STATUS_WORDS,
    count,
    format_words,
    join,
    sentence,
)
from genai_provenance.gate.check import CheckSettings, ClearanceSource, check_clearances, verdict_for
from genai_provenance.model.provenance import (
    INVALID,
    NO_CREDENTIALS,
    TRUSTED,
    UNREADABLE,
    VALID_UNTRUSTED,
    AssetReport,
    CawgIdentity,
    ClearanceCheck,
    Failure,
    IngredientNode,
    ManifestInfo,
    SignerInfo,
)
from genai_provenance.policy.rules import Policy

_BYTES_CHANGED = {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch"}
_SIGNER_CODES = ("signingCredential.", "claimSignature.outsideValidity")


# ---------------------------------------------------------------------------------------------
# signer, time, status


def _signer_view(signer: SignerInfo | None, status: str, failures: list[Failure]) -> SignerView:
    signer = signer or SignerInfo(None, None, None)
    who = signer.common_name or "an unnamed certificate holder"
    org = f" of {signer.organisation}" if signer.organisation and signer.organisation != signer.common_name else ""
    issuer = f"; certificate issued by {signer.issuer}" if signer.issuer else ""
    signed_by = f"Signed by {who}{org}{issuer}."
    codes = {f.code for f in failures}
    problems = [f for f in failures if f.code.startswith(_SIGNER_CODES) and f.code != "signingCredential.untrusted"]
    if "claimSignature.mismatch" in codes or "manifest.unreadable" in codes:
        trust, why = (
            "unreliable",
            ("the signature does not match the signed record, so the name on the certificate cannot be relied on"),
        )
    elif problems:
        trust, why = "certificate-problem", "; ".join(f.explanation for f in problems)
    elif "signingCredential.untrusted" in codes:
        trust, why = (
            "untrusted",
            (
                "not on the trust list: the certificate does not chain to any trust anchor used here, so who "
                "really signed cannot be confirmed (anyone can make a certificate that carries any name)"
            ),
        )
    elif status == VALID_UNTRUSTED and not codes:
        trust, why = "untrusted", "the signer could not be confirmed against the trust list used here"
    elif status in (TRUSTED, INVALID, VALID_UNTRUSTED):
        trust, why = "trusted", "on the trust list: the certificate chains to a trust anchor used here"
    else:
        trust, why = "unchecked", "this record was not checked against the trust list"
    return SignerView(signer.common_name, signer.organisation, signer.issuer, trust, why, signed_by)


def _identity_sentence(identity: CawgIdentity) -> str:
    who = identity.name or "an unnamed identity"
    issuer = f" (credential issued by {identity.issuer})" if identity.issuer else ""
    if identity.trusted:
        how = "its signature checks out and its credential is on a trust list"
    elif identity.verified:
        how = "its signature checks out, but its credential is not on a trust list, so who it names is unconfirmed"
    else:
        how = "it could not be verified"
    return sentence(f"A CAWG identity assertion names {who}{issuer}; {how}")


def _time_view(info: ManifestInfo, tsa_untrusted: bool) -> TimeView:
    stamped = info.signed_at if info.time_stamped else None
    claimed = info.claimed_time
    if stamped:
        text = f"Time-stamped at {stamped} by an independent time-stamp authority"
        if tsa_untrusted:
            text += " that is not on the trust list, so even that time is unconfirmed"
        text += "."
        if claimed and claimed != stamped:
            text += f" The signer's own tools recorded {claimed}."
        elif claimed:
            text += " The signer's own tools recorded the same time."
    elif claimed:
        text = (
            f"Not time-stamped: the only time is the signer's own claim, {claimed}, which nothing independent confirms."
        )
    else:
        text = "Not time-stamped, and the signer recorded no time: when this stage happened is not known."
    return TimeView(stamped, claimed, text)


def _problem_sentences(failures: list[Failure]) -> list[str]:
    return [sentence(f"{f.explanation} ({f.code})") for f in failures]


# ---------------------------------------------------------------------------------------------
# stages


def _walk(nodes: list[IngredientNode], owner: str, out: list[tuple[str, IngredientNode]]) -> None:
    for node in nodes:
        out.append((owner, node))
        if node.manifest:
            _walk(node.children, node.manifest, out)


def _genai_of(activities: list[Activity]) -> str:
    kinds = {a.genai for a in activities}
    for kind in ("generative", "maybe"):
        if kind in kinds:
            return kind
    return "none"


def _stage_title(info: ManifestInfo) -> str:
    if info.disclosure is not None and info.disclosure.asset.title:
        return info.disclosure.asset.title
    return info.title or "untitled"


def _tsa_untrusted(report: AssetReport) -> bool:
    return any(f.code == "timeStamp.untrusted" for f in report.failures) or any(
        "time-stamp authority is not among" in note for note in report.notes
    )


def _build_stages(report: AssetReport, checks: Sequence[ClearanceCheck]) -> list[Stage]:
    edges: list[tuple[str, IngredientNode]] = []
    if report.active_manifest:
        _walk(report.ingredients, report.active_manifest, edges)
    node_of: dict[str, IngredientNode] = {}
    for _, node in edges:
        if node.manifest and node.manifest not in node_of:
            node_of[node.manifest] = node
    stages: list[Stage] = []
    number_of: dict[str, int] = {}
    stripped_number: dict[int, int] = {}  # id(node) -> stage number

    def add(stage: Stage) -> Stage:
        stage.number = len(stages) + 1
        stages.append(stage)
        return stage

    for info in report.manifests:
        for owner, node in edges:
            if owner == info.label and not node.manifest and id(node) not in stripped_number:
                stage = add(
                    Stage(
                        0,
                        "no-credentials",
                        node.title or "untitled ingredient",
                        node.title,
                        None,
                        NO_CREDENTIALS if node.status == NO_CREDENTIALS else node.status,
                        STATUS_WORDS.get(node.status, node.status),
                        current=False,
                        genai="unknown",
                        problems=_problem_sentences(node.failures),
                        failure_codes=[f.code for f in node.failures],
                        thumbnail=f"ingredient:{owner}:{node.title}",
                    )
                )
                stripped_number[id(node)] = stage.number
        current = info.label == report.active_manifest
        if current:
            failures = [f for f in report.failures if f.where == "active manifest"]
            # c2pa reports an untrusted signer as a failure of the stage; with no failure anywhere, yet not
            # trusted, no trust check was made
            untrusted = report.status == VALID_UNTRUSTED and len(failures) == len(report.failures)
            status = stage_status(failures, trusted=not untrusted)
        elif info.label in node_of:
            failures, status = node_of[info.label].failures, node_of[info.label].status
        else:
            failures, status = [], UNCHECKED
        activities = stage_activities(info, checks)
        stage = add(
            Stage(
                0,
                "signed",
                _stage_title(info),
                info.title,
                info.label,
                status,
                STATUS_WORDS.get(status, status),
                current=current,
                genai=_genai_of(activities),
                signer=_signer_view(info.signer, status, failures),
                time=_time_view(info, current and _tsa_untrusted(report)),
                generator=info.claim_generator,
                declared=declared_sentences(info.disclosure),
                activities=activities,
                problems=_problem_sentences(failures),
                failure_codes=[f.code for f in failures],
                training_mining=training_words(info.training_mining),
                unknown_assertions=unknown_assertions(info),
                thumbnail=info.thumbnail,
                binding=binding_sentence(info.hard_binding, status, current, {f.code for f in failures}),
                identities=[_identity_sentence(i) for i in report.identities if i.manifest == info.label],
            )
        )
        number_of[info.label] = stage.number
        if status == UNCHECKED:
            stage.problems.append(
                "No stage of this file refers to this record; it was not checked as part of its history."
            )

    by_number = {s.number: s for s in stages}
    for owner, node in edges:
        if owner not in number_of:
            continue
        target = number_of.get(node.manifest or "") if node.manifest else stripped_number.get(id(node))
        if target is None:
            continue
        user, used = by_number[number_of[owner]], by_number[target]
        how = RELATIONSHIP_WORDS.get(node.relationship or "", f"as an ingredient ({node.relationship or 'unstated'})")
        name = used.title + (f" ({used.file_name})" if used.file_name and used.file_name != used.title else "")
        text = f"Used stage {used.number}, {name}, {how}"
        if used.kind == "no-credentials":
            text += "; that file carried no Content Credentials of its own"
        user.ingredients.append(sentence(text))
        used.used_by.append(sentence(f"Used by stage {user.number}, {user.title}, {how}"))
    return stages


# ---------------------------------------------------------------------------------------------
# the whole explanation


def _headline(report: AssetReport, name: str, stages: list[Stage]) -> str:
    signed = [s for s in stages if s.kind == "signed"]
    recorded = f"{count(len(signed))} signed stage{'s' if len(signed) != 1 else ''}"
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
        if set(first.failure_codes) & _BYTES_CHANGED
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
    return f"{name} carries Content Credentials (C2PA) {where}."


def _does_not_prove(report: AssetReport, stages: list[Stage], genai: str, clearances: list[ClearanceView]) -> list[str]:
    if report.status in (NO_CREDENTIALS, UNREADABLE):
        return [
            "Without credentials nothing here is signed: there is no signer, no signed time and no recorded history "
            "to rely on.",
            "A missing record is not evidence either way: it does not show how the file was made, who made it, or "
            "whether generative AI was involved.",
            DOES_NOT_PROVE_SIGNATURE,
        ]
    out = [DOES_NOT_PROVE_SIGNATURE]
    if any(s.signer and s.signer.trust == "trusted" for s in stages):
        out.append(
            "Being on the trust list means the certificate was issued under an authority you chose to trust; it "
            "says nothing about the quality of the work or whether the studio's rules were followed."
        )
    if any(v.status == UNCHECKED for v in clearances):
        out.append(
            "An approval or consent ID in a disclosure is only a reference: it proves nothing until the signed "
            "approval or consent record it names is checked."
        )
    if any(v.status == "valid" for v in clearances):
        out.append(
            "An approval or consent that checks out shows that a trusted approver signed a record with that ID "
            "covering this use; it does not show that the work stayed within what was approved."
        )
    if any(s.time and not s.time.time_stamped_at for s in stages):
        out.append("Times that are not time-stamped are the signer's own claims.")
    if genai == "none-recorded":
        out.append("That no generative AI use is recorded does not prove that none was used.")
    return out


def _cannot_know(report: AssetReport, stages: list[Stage], name: str, clearances_unchecked: bool) -> list[str]:
    out: list[str] = []
    if report.status == NO_CREDENTIALS:
        out.append(
            f"{name} has no Content Credentials. That does not tell you whether generative AI was used: "
            "credentials are often removed by exports, uploads, screenshots and transcodes, and many tools never "
            "write them. Its origin, its makers and the tools used cannot be known from the file itself."
        )
        out.append(
            "If the file was delivered with credentials, ask the supplier for the signed original or its .c2pa sidecar."
        )
        return out
    if report.status == UNREADABLE:
        return [
            f"{name} could not be read as media ({report.error or 'unknown error'}); nothing about its history can "
            "be said. Check that the file is complete and in a supported format."
        ]
    if not stages:
        return [
            f"The credentials in {name} are damaged and could not be verified ({report.error or 'unknown error'}); "
            "none of what they say can be relied on, and the file's history cannot be known from them."
        ]
    for stage in stages:
        label = f"stage {stage.number} ({stage.title})"
        cap_label = f"Stage {stage.number} ({stage.title})"
        codes = set(stage.failure_codes)
        if stage.kind == "no-credentials":
            out.append(
                sentence(
                    f"{cap_label} carried no Content Credentials when it was used: where it came from, who "
                    "made it and whether generative AI was involved before that point cannot be known"
                )
            )
        elif codes & _BYTES_CHANGED:
            out.append(
                sentence(
                    f"The bytes of {'this file' if stage.current else 'the asset of ' + label} changed after "
                    f"{label} was signed: the record describes the media as it was when signed, not necessarily "
                    "what you have now. This alone does not show the content was falsified (re-saving or editing "
                    "a file also changes its bytes), but the credentials no longer vouch for it"
                )
            )
        elif stage.status == INVALID:
            out.append(
                sentence(
                    f"The record of {label} was altered or damaged after signing, or could not be checked: what it "
                    "says cannot be relied on"
                )
            )
        if stage.signer and stage.signer.trust == "untrusted" and stage.status == INVALID:
            out.append(
                sentence(
                    f"{cap_label} was also signed by {stage.signer.common_name or 'an unnamed certificate'}, whose "
                    "certificate is not on the trust list used here, so who signed it cannot be confirmed either"
                )
            )
        elif stage.signer and stage.signer.trust == "untrusted":
            out.append(
                sentence(
                    f"{cap_label} was signed by {stage.signer.common_name or 'an unnamed certificate'}, "
                    "whose certificate is not on the trust list used here. Its signature is intact, so the record "
                    "has not changed since it was signed, but who really signed it cannot be confirmed. If you "
                    "know and trust this signer, add their root certificate to the trust anchors (--trust) and "
                    "explain the file again"
                )
            )
        elif stage.signer and stage.signer.trust == "certificate-problem":
            out.append(sentence(f"The signer of {label} cannot be relied on: {stage.signer.why}"))
    signed = [s for s in stages if s.kind == "signed"]
    if len(signed) > 1:
        out.append(
            "The media of earlier stages is not inside this file: each earlier stage's signed record can be "
            "checked, but not compared with the pictures or sound that stage actually produced."
        )
    untimed = [s for s in signed if s.time and not s.time.time_stamped_at]
    if untimed:
        which = join([str(s.number) for s in untimed])
        out.append(
            sentence(
                f"Stage{'s' if len(untimed) > 1 else ''} {which} {'have' if len(untimed) > 1 else 'has'} no "
                "time-stamp: when signing actually happened cannot be confirmed"
            )
        )
    if clearances_unchecked:
        out.append(
            "Approval and consent IDs were declared but could not be checked here: no signed clearance records "
            "were consulted, so whether they exist, are in force and cover this use is not known."
        )
    if any(s.unknown_assertions for s in stages):
        out.append(
            "Some records in the credentials are of kinds this tool does not interpret; they are listed under "
            "their stages but not explained."
        )
    if any(f.code == "manifest.remote" for f in report.failures):
        out.append("Part of the credentials is stored remotely and was not fetched.")
    out.append(
        "Anything done outside the signed stages (before the first one, or between two of them without a new "
        "signature) is not recorded."
    )
    return out


def explain(
    report: AssetReport,
    findings: Sequence[PolicyResult] | None = None,
    evidence: EvidenceView | None = None,
    checks: Sequence[ClearanceCheck] = (),
) -> Explanation:
    """Put a verified asset's provenance into words.

    `findings` are the policy's results (shown as given; None: no policy applied); `checks` are the
    clearance checks made for this report (gate.check.check_clearances). Without them, IDs found in
    disclosures are said to be declared but unchecked.
    """
    name = Path(report.path).name or report.path
    stages = _build_stages(report, checks) if report.status not in (NO_CREDENTIALS, UNREADABLE) else []
    genai, genai_sentence = _genai_summary(report, stages)
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
        headline=_headline(report, name, stages),
        credentials=_credentials_sentence(report, name),
        genai=genai,
        genai_sentence=genai_sentence,
        stages=stages,
        does_not_prove=_does_not_prove(report, stages, genai, views),
        cannot_know=_cannot_know(report, stages, name, unchecked),
        policy=policy,
        policy_sentence=policy_sentence,
        notes=[sentence(n) for n in report.notes],
        verdict=verdict,
        verdict_sentence=verdict_sentence,
        problems=problems,
        evidence=evidence,
    )


_BINDING_WORDS = {
    "c2pa.hash.data": "a SHA-256 hash of every byte of the file except the credentials themselves",
    "c2pa.hash.bmff": "SHA-256 hashes of the media container's boxes (picture and sound data included)",
    "c2pa.hash.boxes": "SHA-256 hashes of the file's boxes",
    "c2pa.hash.collection": "SHA-256 hashes of each file of a collection",
    "c2pa.hash.multi": "several hashes of the file's parts",
}


def binding_sentence(label: str | None, status: str, current: bool, codes: set[str]) -> str | None:
    """The hard binding in words: what makes "intact" true, and whether it holds."""
    if not label:
        return None
    words = next((w for k, w in _BINDING_WORDS.items() if label.startswith(k)), "a hash of the file's bytes")
    text = f"Bound to the bytes it describes by {words} ({label}), sealed by the signature."
    if current and codes & _BYTES_CHANGED:
        return text + " That hash no longer matches this file: its bytes changed after signing."
    if current and status in (TRUSTED, VALID_UNTRUSTED):
        return text + " It matches this file now: that is what makes the credentials intact."
    if current:
        return text
    return text + " This file does not hold that stage's bytes; what is known of them is what the next stage recorded."


# ---------------------------------------------------------------------------------------------
# reading and explaining a file


def read_asset(path: Path, trust: TrustSettings) -> AssetReport:
    """Verify one file for explaining; a missing path or a folder is an input error."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: is not a file (explain takes one file)")
    return verify_file(path, trust.context(), trust=trust)


def explain_file(
    path: Path, trust: TrustSettings, source: ClearanceSource | None = None, policy: Policy | None = None
) -> ExplainResult:
    """Verify `path`, check the approvals and consents it cites (when `source` is given), apply
    `policy` (when given) and explain the lot."""
    report = read_asset(path, trust)
    given = source or ClearanceSource()
    evidence = evidence_for(
        path,
        x509.load_pem_x509_certificates(trust.anchors_pem.encode()) if trust.anchors_pem else [],
        list(given.approver_anchors),
        (policy.name, policy.sha256) if policy is not None else None,
        revocation_words(given),
    )
    if policy is not None:
        verdict = verdict_for(report, path, CheckSettings(trust, policy, given))
        evaluation = verdict.evaluation
        findings: list[PolicyResult] = [
            *evaluation.findings,
            *evaluation.cleared,
            *evaluation.waived,
            *evaluation.waiver_notes,
        ]
        explanation = explain(report, findings, evidence=evidence, checks=verdict.clearances)
        return ExplainResult(report, explanation, verdict.blocked)
    checks = check_clearances(report, path, source) if source is not None else ()
    return ExplainResult(report, explain(report, evidence=evidence, checks=checks))


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
