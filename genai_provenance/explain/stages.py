"""The stages of a file's history, oldest first: who signed each, when, what was done, and its status."""

from __future__ import annotations

from collections.abc import Sequence

from genai_provenance.credentials.failure_codes import stage_status
from genai_provenance.explain.activities import (
    declared_sentences,
    stage_activities,
    training_words,
    unknown_assertions,
)
from genai_provenance.explain.model import (
    UNCHECKED,
    Activity,
    SignerView,
    Stage,
    TimeView,
)
from genai_provenance.explain.wording import (
    RELATIONSHIP_WORDS,
    STATUS_WORDS,
    sentence,
)
from genai_provenance.model.provenance import (
    INVALID,
    NO_CREDENTIALS,
    TRUSTED,
    VALID_UNTRUSTED,
    AssetReport,
    CawgIdentity,
    ClearanceCheck,
    Failure,
    IngredientNode,
    ManifestInfo,
    SignerInfo,
)

BYTES_CHANGED = {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch"}
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


def build_stages(report: AssetReport, checks: Sequence[ClearanceCheck]) -> list[Stage]:
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
        status: str  # a Status, or UNCHECKED for a record no stage refers to
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
    if current and codes & BYTES_CHANGED:
        return text + " That hash no longer matches this file: its bytes changed after signing."
    if current and status in (TRUSTED, VALID_UNTRUSTED):
        return text + " It matches this file now: that is what makes the credentials intact."
    if current:
        return text
    return text + " This file does not hold that stage's bytes; what is known of them is what the next stage recorded."
