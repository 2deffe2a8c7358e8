"""Explain how a file was made, for a reader who is not an engineer (legal, first of all).

`explain(report)` turns a verified AssetReport into an Explanation: the stages of the file's
history oldest first (who signed each, when, what was done in words, from which inputs, under
which consents and approvals), and what the credentials do not prove and what cannot be known.
It only restates what the report holds; renderers in genai_provenance.reports format it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

import c2pa
from PIL import Image

from genai_provenance import __version__
from genai_provenance.check import CheckSettings, ClearanceSource, check_clearances, verdict_for
from genai_provenance.errors import InputError
from genai_provenance.explanations import TRUST_ONLY
from genai_provenance.formats import FORMATS, media_format
from genai_provenance.genai_scan import CLEARANCES_LABEL, DISCLOSURE_LABEL, PARAM
from genai_provenance.policy import Policy
from genai_provenance.provenance import (
    INVALID,
    NO_CREDENTIALS,
    TRUSTED,
    UNREADABLE,
    VALID_UNTRUSTED,
    AssetReport,
    Failure,
    GenAIUse,
    IngredientNode,
    ManifestInfo,
    SignerInfo,
)
from genai_provenance.schemas import vocabulary
from genai_provenance.sourcetypes import classify, describe, normalise
from genai_provenance.thumbnails import MAX_EDGE, make_thumbnail
from genai_provenance.verify import TrustSettings, sidecar_for, verify_file

UNCHECKED = "unchecked"  # a stage whose record is in the file but that no stage refers to
FILE_THUMBNAIL = "file"  # thumbnail key: a picture made from the file itself

# Assertions this module reads and puts into words; any other label is listed as not interpreted.
_INTERPRETED = (
    "c2pa.actions",
    DISCLOSURE_LABEL,
    CLEARANCES_LABEL,
    "cawg.training-mining",
    "c2pa.training-mining",
    "com.adobe.generative-ai",
)
_BYTES_CHANGED = {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch"}
_SIGNER_CODES = ("signingCredential.", "claimSignature.outsideValidity")

STATUS_WORDS = {
    TRUSTED: "intact, signed by an identity on the trust list",
    VALID_UNTRUSTED: "intact, but the signer is not on the trust list",
    INVALID: "failed verification",
    NO_CREDENTIALS: "no Content Credentials",
    UNREADABLE: "could not be read",
    UNCHECKED: "recorded in the file but not linked to its history",
}

ACTION_WORDS = {
    "c2pa.created": "Created",
    "c2pa.opened": "Opened an existing asset",
    "c2pa.edited": "Edited",
    "c2pa.edited.metadata": "Edited the metadata",
    "c2pa.placed": "Placed an element into it",
    "c2pa.removed": "Removed an element",
    "c2pa.converted": "Converted to another format",
    "c2pa.transcoded": "Transcoded",
    "c2pa.repackaged": "Repackaged without re-encoding",
    "c2pa.color_adjustments": "Adjusted the colour",
    "c2pa.cropped": "Cropped",
    "c2pa.resized": "Resized",
    "c2pa.filtered": "Applied a filter",
    "c2pa.drawing": "Drew on it",
    "c2pa.orientation": "Changed the orientation",
    "c2pa.published": "Published",
    "c2pa.produced": "Produced",
    "c2pa.redacted": "Redacted part of it",
    "c2pa.translated": "Translated",
    "c2pa.watermarked": "Added a watermark",
    "c2pa.unknown": "Did something the tool did not name",
}
_OUR_ACTION_LEAD = {
    "created": "Generated",
    "edited": "Edited",
    "placed": "Generated element placed into the shot",
}
RELATIONSHIP_WORDS = {
    "parentOf": "as its parent (the asset it was made from)",
    "componentOf": "as a component (an element placed into it)",
    "inputTo": "as an input (for example a prompt or a reference)",
}
_INPUT_NOUNS: dict[str, tuple[str, str | None]] = {
    # kind: (one, several) -- several is None for material that is not counted
    "own-footage": ("the production's own footage", None),
    "licensed": ("licensed material", None),
    "public-domain": ("public-domain material", None),
    "studio-proprietary": ("studio-owned material (unreleased assets, scripts)", None),
    "personal-data": ("personal data of cast or crew", None),
    "talent-likeness": ("a performer's likeness or voice", "{n} performers' likenesses or voices"),
    "copyrighted-reference": ("a copyrighted reference", "{n} copyrighted references"),
    "estate-controlled": ("estate-controlled material", None),
    "public-figure-likeness": ("the likeness or voice of a public figure", "{n} public figures' likenesses or voices"),
    "text-prompt": ("a text prompt", "{n} text prompts"),
}
_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
CLEARANCE_WORDS = {
    "valid": "checks out: a valid signed record was found",
    "expired": "does not check out: the record has expired",
    "revoked": "does not check out: the record has been revoked",
    "missing": "does not check out: no record with this ID was found",
    "forged": "does not check out: a record was found but its signature does not verify (altered or forged)",
    "issuer-untrusted": "does not check out: the record was issued by someone who is not a trusted approver",
    "out-of-scope": "does not check out: the record does not cover this asset",
    "category-not-covered": "does not check out: the record does not cover this category of use",
    "wrong-kind": "does not check out: the ID names a different kind of record",
}
_MIME_NAMES = {
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/tiff": "TIFF image",
    "image/webp": "WebP image",
    "image/gif": "GIF image",
    "image/avif": "AVIF image",
    "image/heic": "HEIC image",
    "video/mp4": "MP4 video",
    "video/quicktime": "QuickTime (MOV) video",
    "audio/mp4": "M4A audio file",
    "audio/wav": "WAV audio file",
    "audio/mpeg": "MP3 audio file",
    "application/pdf": "PDF document",
    "image/x-exr": "OpenEXR image",
    "image/x-dpx": "DPX image",
    "application/mxf": "MXF video",
    "video/x-matroska": "Matroska (MKV) video",
    "video/webm": "WebM video",
    "audio/ogg": "Ogg audio file",
}

DOES_NOT_PROVE_SIGNATURE = (
    "A valid signature shows who signed each stage (as named in their certificate) and that the signed "
    "record and the media have not changed since. It does not prove that what the signer declared is true: "
    "a signer can leave out a tool, misdescribe an input or choose the wrong category."
)


@dataclass
class SignerView:
    common_name: str | None
    organisation: str | None
    issuer: str | None
    trust: str  # trusted | untrusted | certificate-problem | unreliable | unchecked
    why: str
    sentence: str


@dataclass
class TimeView:
    time_stamped_at: str | None
    claimed_time: str | None
    sentence: str


@dataclass
class InputView:
    kind: str | None
    kind_words: str
    ref: str | None = None
    description: str | None = None


@dataclass
class ClearanceView:
    id: str
    kind: str  # approval | consent
    status: str  # valid, expired, revoked, missing, forged, ... or "unchecked"
    sentence: str


@dataclass
class Activity:
    """One thing done at a stage, in words, with the facts it was built from."""

    summary: str
    source: str  # disclosure (our signed declaration) | action (a c2pa action) | record (another assertion)
    genai: str  # generative | maybe | none | unknown
    action: str | None = None
    tool: str | None = None
    model: str | None = None
    source_type: str | None = None
    source_type_words: str | None = None
    category: str | None = None
    category_words: str | None = None
    time_range: str | None = None
    inputs: list[InputView] = field(default_factory=list)
    data_handling: str | None = None
    approvals: list[ClearanceView] = field(default_factory=list)
    consents: list[ClearanceView] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


@dataclass
class Stage:
    number: int
    kind: str  # signed | no-credentials
    title: str
    file_name: str | None
    manifest: str | None
    status: str
    status_words: str
    current: bool  # the stage that produced the file being explained
    genai: str  # generative | maybe | none | unknown
    signer: SignerView | None = None
    time: TimeView | None = None
    generator: str | None = None
    declared: list[str] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    ingredients: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failure_codes: list[str] = field(default_factory=list)
    training_mining: dict[str, str] = field(default_factory=dict)
    unknown_assertions: list[str] = field(default_factory=list)
    thumbnail: str | None = None


@dataclass
class PolicyItem:
    severity: str
    title: str
    sentence: str
    rule: str | None = None
    remedy: str | None = None
    stage: int | None = None


@dataclass
class Explanation:
    file: str
    file_name: str
    format: str | None
    format_words: str
    status: str
    status_words: str
    headline: str
    credentials: str
    genai: str  # generative | maybe | none-recorded | unknown
    genai_sentence: str
    stages: list[Stage] = field(default_factory=list)
    does_not_prove: list[str] = field(default_factory=list)
    cannot_know: list[str] = field(default_factory=list)
    policy: list[PolicyItem] | None = None
    policy_sentence: str | None = None
    notes: list[str] = field(default_factory=list)
    thumbnail: str | None = FILE_THUMBNAIL

    @property
    def passed(self) -> bool:
        return self.status == TRUSTED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# small wording helpers


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _count(n: int) -> str:
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def _quote(text: str) -> str:
    return f"\u201c{' '.join(str(text).split())}\u201d"


def _d(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (manifest content is untrusted)."""
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _agent_name(agent: Any) -> str | None:
    if isinstance(agent, list) and agent:
        agent = agent[0]
    if isinstance(agent, str):
        return agent.strip() or None
    if isinstance(agent, dict):
        return " ".join(str(agent[k]) for k in ("name", "version") if agent.get(k)) or None
    return None


def _terms(name: str) -> dict[str, str]:
    return dict(vocabulary().get(name, {}).get("x-terms") or {})


def format_words(mime: str | None) -> str:
    if not mime:
        return "a file of unknown format"
    name = _MIME_NAMES.get(mime)
    if name:
        return f"{'an' if name[0] in 'AEHIMO' else 'a'} {name}"
    kinds = {f.mime: f.kind for f in FORMATS.values()}
    return f"a {kinds.get(mime, 'file')} ({mime})"


def source_words(value: str | None) -> str | None:
    """An IPTC / C2PA source type in words, saying so when the term is not one we know."""
    if not value:
        return None
    if classify(value) == "unknown":
        return f"source type {_quote(str(value))}, a term this tool does not recognise"
    return describe(value)


# ---------------------------------------------------------------------------------------------
# signer, time, status


def _signer_view(signer: SignerInfo | None, status: str, failures: list[Failure]) -> SignerView:
    signer = signer or SignerInfo(None, None, None)
    who = signer.common_name or "an unnamed certificate holder"
    org = f" of {signer.organisation}" if signer.organisation and signer.organisation != signer.common_name else ""
    issuer = f"; certificate issued by {signer.issuer}" if signer.issuer else ""
    sentence = f"Signed by {who}{org}{issuer}."
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
    return SignerView(signer.common_name, signer.organisation, signer.issuer, trust, why, sentence)


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
    return [_sentence(f"{f.explanation} ({f.code})") for f in failures]


# ---------------------------------------------------------------------------------------------
# what was done


def _clearance_views(
    ids: Iterable[str],
    kind: str,
    info: ManifestInfo,
    use_index: int,
    clearances: dict[str, str] | None,
    checks: list[Any],
) -> list[ClearanceView]:
    views = []
    for ref in ids:
        status, detail = UNCHECKED, None
        if clearances is not None and ref in clearances:
            status = clearances[ref]
        else:
            for check in checks:
                if (
                    getattr(check, "id", None) == ref
                    and getattr(check, "manifest", info.label) in (info.label, None)
                    and getattr(check, "use", use_index) in (use_index, None)
                ):
                    status, detail = str(check.status), getattr(check, "detail", None)
                    break
        noun = "Approval" if kind == "approval" else "Consent"
        if status == UNCHECKED:
            text = f"{noun} {ref} is cited: it was declared, but it could not be checked here"
        else:
            words = CLEARANCE_WORDS.get(status, f"was checked, status {_quote(status)}")
            text = f"{noun} {ref} {words}"
            if detail and status not in ("valid", "missing"):
                text += f" ({detail})"
        views.append(ClearanceView(ref, kind, status, _sentence(text)))
    return views


def _input_phrase(inputs: list[InputView]) -> str:
    counts: dict[str, int] = {}
    for item in inputs:
        counts[item.kind or "?"] = counts.get(item.kind or "?", 0) + 1
    parts = []
    for kind, n in counts.items():
        one, several = _INPUT_NOUNS.get(kind, (None, None))
        if one is None:
            parts.append(_terms("input_kind").get(kind, kind).lower() if kind != "?" else "an unstated input")
        elif n > 1 and several:
            parts.append(several.format(n=_count(n)))
        else:
            parts.append(one)
    return _join(parts)


def _data_handling(handling: dict[str, Any]) -> str | None:
    parts = []
    if "trains_on_inputs" in handling:
        parts.append("trains on the inputs" if handling["trains_on_inputs"] else "does not train on the inputs")
    if "retains_inputs" in handling:
        parts.append("retains the inputs" if handling["retains_inputs"] else "does not retain the inputs")
    if "enterprise_environment" in handling:
        parts.append(
            "ran in an enterprise-secured environment"
            if handling["enterprise_environment"]
            else "did not run in an enterprise-secured environment"
        )
    return _sentence("The signer declared that the tool " + _join(parts)) if parts else None


def _disclosure_activity(
    use: dict[str, Any], index: int, info: ManifestInfo, clearances: dict[str, str] | None, checks: list[Any]
) -> Activity:
    tool = _d(use.get("tool"))
    tool_name = _agent_name({"name": _s(tool.get("name")), "version": _s(tool.get("version"))})
    vendor = _s(tool.get("vendor"))
    if tool_name and vendor and vendor.lower() not in tool_name.lower():
        tool_name = f"{tool_name} ({vendor})"
    action, source, model = _s(use.get("action")), _s(use.get("source_type")), _s(use.get("model"))
    inputs = []
    for item in _l(use.get("inputs")):
        kind = _s(_d(item).get("kind"))
        words = _terms("input_kind").get(kind or "", kind or "an unstated kind of input")
        inputs.append(InputView(kind, words, _s(_d(item).get("ref")), _s(_d(item).get("description"))))
    span = _d(use.get("time_range"))
    time_range = f"{_s(span.get('start'))} to {_s(span.get('end'))}" if span else None
    text = _s(use.get("description")) or _OUR_ACTION_LEAD.get(action or "", "Used")
    if tool_name:
        text += f" with {tool_name}"
    if model:
        text += f" (model {model})"
    if inputs:
        text += f" from {_input_phrase(inputs)}"
    if span:
        text += f" between {_s(span.get('start'))} and {_s(span.get('end'))}"
    words = source_words(source)
    if words:
        text += f" ({words})"
    category = _s(use.get("category"))
    activity = Activity(
        summary=_sentence(text),
        source="disclosure",
        genai=classify(source),
        action=action,
        tool=tool_name,
        model=model,
        source_type=normalise(source),
        source_type_words=words,
        category=category,
        category_words=_terms("category").get(category or ""),
        time_range=time_range,
        inputs=inputs,
        data_handling=_data_handling(_d(use.get("data_handling"))),
        approvals=_clearance_views(_ids(use.get("approvals")), "approval", info, index, clearances, checks),
        consents=_clearance_views(_ids(use.get("consents")), "consent", info, index, clearances, checks),
    )
    if action:
        activity.details.append(_sentence(f"Declared action: {action}{_meaning(_terms('action').get(action))}"))
    if category:
        activity.details.append(_sentence(f"Declared purpose: {category}{_meaning(activity.category_words)}"))
    return activity


def _ids(value: Any) -> list[str]:
    return [text for text in (_s(v) for v in _l(value)) if text]


def _meaning(words: str | None) -> str:
    return f" \u2014 {words[0].lower()}{words[1:]}" if words else ""


_EVIDENCE_INDEX = re.compile(r"action (\S+) \[(\d+)\]")


def _use_for_action(info: ManifestInfo, action: dict[str, Any], index: int) -> GenAIUse | None:
    for use in info.genai_uses:
        found = _EVIDENCE_INDEX.search(use.evidence)
        if found and found.group(1) == str(action.get("action")) and int(found.group(2)) == index:
            return use
    return None


def _action_activity(info: ManifestInfo, action: dict[str, Any], index: int) -> Activity:
    name = str(action.get("action") or "unnamed action")
    text = ACTION_WORDS.get(name, f"Action {_quote(name)}")
    agent = _agent_name(action.get("softwareAgent"))
    if agent:
        text += f" with {agent}"
    description = action.get("description")
    if isinstance(description, str) and description.strip() and description.strip().lower() != text.lower():
        text += f": {_quote(description)}"
    params = action.get("parameters") if isinstance(action.get("parameters"), dict) else {}
    raw_source = action.get("digitalSourceType") or params.get("com.adobe.digitalSourceType")
    words = source_words(raw_source)
    use = _use_for_action(info, action, index)
    genai = use.certainty if use else classify(raw_source)
    if words:
        text += f" ({words})"
    elif use and use.certainty == "generative":
        text += " (the software named is a known generative AI product; no source type was recorded)"
    activity = Activity(
        summary=_sentence(text),
        source="action",
        genai=genai if genai in ("generative", "maybe", "none") else "unknown",
        action=name,
        tool=agent,
        source_type=normalise(raw_source),
        source_type_words=words,
    )
    if action.get("when"):
        activity.details.append(f"Recorded time: {action['when']}.")
    return activity


def _record_activities(info: ManifestInfo) -> list[Activity]:
    """GenAI found outside the actions list: action templates, Adobe's legacy record, a disclosure
    that does not follow our schema (so it was not read as one)."""
    out = []
    for use in info.genai_uses:
        if (use.declared and info.disclosure is not None) or _EVIDENCE_INDEX.search(use.evidence):
            continue
        if "com.adobe.generative-ai" in use.evidence:
            what = "Adobe's older generative AI record"
        elif " template for " in use.evidence:
            what = f"An action template (for {use.action or 'every'} actions)"
        elif use.declared:
            what = "A disclosure record that does not follow this tool's disclosure schema"
        else:
            what = use.evidence
        text = f"{what} says generative AI was {'used' if use.certainty == 'generative' else 'possibly used'}"
        if use.tool:
            text += f" ({use.tool})"
        words = source_words(use.source_type)
        if words:
            text += f": {words}"
        out.append(
            Activity(
                _sentence(text),
                "record",
                use.certainty,
                action=use.action,
                tool=use.tool,
                source_type=use.source_type,
                source_type_words=words,
            )
        )
    return out


def _is_ours(action: dict[str, Any]) -> bool:
    params = action.get("parameters")
    return action.get("action") == "c2pa.opened" or (
        isinstance(params, dict) and any(str(k).startswith(PARAM) for k in params)
    )


def _activities(info: ManifestInfo, clearances: dict[str, str] | None, checks: list[Any]) -> list[Activity]:
    out: list[Activity] = []
    disclosure = info.disclosure
    if isinstance(disclosure, dict):
        uses = [u for u in _l(disclosure.get("genai")) if isinstance(u, dict)]
        base = _s(disclosure.get("source_type"))
        if base:
            lead = "Underlying material declared as" if uses else "Declared as"
            out.append(
                Activity(
                    _sentence(f"{lead} {source_words(base)}"),
                    "disclosure",
                    classify(base),
                    source_type=normalise(base),
                    source_type_words=source_words(base),
                )
            )
        out += [_disclosure_activity(use, i, info, clearances, checks) for i, use in enumerate(uses)]
        if not uses:
            out.append(Activity("No generative AI use is declared for this stage.", "disclosure", "none"))
        # actions our tool did not write (another tool edited the same manifest's claim)
        rest = [(i, a) for i, a in enumerate(info.actions) if not _is_ours(a) and a.get("action") != "c2pa.created"]
    else:
        rest = list(enumerate(info.actions))
    out += [_action_activity(info, action, i) for i, action in rest]
    out += _record_activities(info)
    if not out:
        out.append(Activity("The signer recorded no actions for this stage.", "record", "unknown"))
    return out


def _declared(disclosure: dict[str, Any] | None) -> list[str]:
    if not isinstance(disclosure, dict):
        return []
    asset = _d(disclosure.get("asset"))
    asset_id, production = _s(asset.get("asset_id")), _s(asset.get("production"))
    intended, description = _s(asset.get("intended_use")), _s(asset.get("description"))
    parts = []
    if asset_id or production:
        parts.append(f"Declared asset {asset_id or '(no ID)'} of production {production or '(none given)'}.")
    if intended:
        words = _terms("intended_use").get(intended, "")
        parts.append(_sentence(f"Declared intended use: {intended}" + (f" ({words})" if words else "")))
    if asset.get("non_fiction") is True:
        parts.append("Declared as part of a non-fiction production.")
    if description:
        parts.append(_sentence(f"Description: {description}"))
    return parts


def _unknown_assertions(info: ManifestInfo) -> list[str]:
    seen: list[str] = []
    for label in info.assertions:
        if label == DISCLOSURE_LABEL and info.disclosure is None:
            label = f"{DISCLOSURE_LABEL} (does not follow the disclosure schema; not read as a disclosure)"
        elif label.startswith(_INTERPRETED):
            continue
        if label not in seen:
            seen.append(label)
    return seen


def _training_words(training: dict[str, str]) -> dict[str, str]:
    names = {
        "ai_generative_training": "generative AI training",
        "ai_training": "AI training",
        "ai_inference": "AI inference",
        "data_mining": "data mining",
    }
    uses = {"allowed": "allowed", "notAllowed": "not allowed", "constrained": "allowed with constraints"}
    return {names.get(k, k): uses.get(v, v) for k, v in training.items()}


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
    asset = (info.disclosure or {}).get("asset") if isinstance(info.disclosure, dict) else None
    if isinstance(asset, dict) and asset.get("title"):
        return str(asset["title"])
    return info.title or "untitled"


def _tsa_untrusted(report: AssetReport) -> bool:
    return any(f.code == "timeStamp.untrusted" for f in report.failures) or any(
        "time-stamp authority is not among" in note for note in report.notes
    )


def _build_stages(report: AssetReport, clearances: dict[str, str] | None) -> list[Stage]:
    edges: list[tuple[str, IngredientNode]] = []
    if report.active_manifest:
        _walk(report.ingredients, report.active_manifest, edges)
    node_of: dict[str, IngredientNode] = {}
    for _, node in edges:
        if node.manifest and node.manifest not in node_of:
            node_of[node.manifest] = node
    checks = list(getattr(report, "clearances", None) or [])
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
            if any(f.code not in TRUST_ONLY for f in failures):
                status = INVALID
            elif any(f.code in TRUST_ONLY for f in failures):
                status = VALID_UNTRUSTED
            elif report.status == VALID_UNTRUSTED and len(failures) == len(report.failures):
                status = VALID_UNTRUSTED  # no failure anywhere, yet not trusted (no trust check was made)
            else:
                status = TRUSTED  # c2pa reports an untrusted signer as a failure of the stage
        elif info.label in node_of:
            failures, status = node_of[info.label].failures, node_of[info.label].status
        else:
            failures, status = [], UNCHECKED
        activities = _activities(info, clearances, checks)
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
                declared=_declared(info.disclosure),
                activities=activities,
                problems=_problem_sentences(failures),
                failure_codes=[f.code for f in failures],
                training_mining=_training_words(info.training_mining),
                unknown_assertions=_unknown_assertions(info),
                thumbnail=info.thumbnail,
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
        user.ingredients.append(_sentence(text))
        used.used_by.append(_sentence(f"Used by stage {user.number}, {user.title}, {how}"))
    return stages


# ---------------------------------------------------------------------------------------------
# the whole explanation


def _headline(report: AssetReport, name: str, stages: list[Stage]) -> str:
    signed = [s for s in stages if s.kind == "signed"]
    count = f"{_count(len(signed))} signed stage{'s' if len(signed) != 1 else ''}"
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
        names = _join([f"stage {s.number} ({s.title})" for s in stripped])
        gap = f" Earlier material, {names}, carried no credentials of its own."
    if report.status == TRUSTED:
        each = "each signed" if len(signed) > 1 else "signed"
        return (
            f"{name} carries intact Content Credentials recording {count}, {each} by an identity on the trust "
            f"list used here.{gap}"
        )
    if report.status == VALID_UNTRUSTED:
        untrusted = [s for s in signed if s.signer and s.signer.trust == "untrusted"]
        which = _join([f"stage {s.number}" for s in untrusted]) or "a stage"
        verb = "was signed by an identity that is" if len(untrusted) <= 1 else "were signed by identities that are"
        return (
            f"{name} carries intact Content Credentials recording {count}, but {which} {verb} not on the trust "
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
        f"{name} carries Content Credentials recording {count}, but they do not all check out: {what} "
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
        names = _join([f"stage {s.number} ({s.title})" for s in gen])
        return "generative", _sentence(f"Generative AI is recorded in {names}")
    if maybe:
        names = _join([f"stage {s.number} ({s.title})" for s in maybe])
        return "maybe", _sentence(f"{names} record a kind of source that may involve generative AI")
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
                _sentence(
                    f"{cap_label} carried no Content Credentials when it was used: where it came from, who "
                    "made it and whether generative AI was involved before that point cannot be known"
                )
            )
        elif codes & _BYTES_CHANGED:
            out.append(
                _sentence(
                    f"The bytes of {'this file' if stage.current else 'the asset of ' + label} changed after "
                    f"{label} was signed: the record describes the media as it was when signed, not necessarily "
                    "what you have now. This alone does not show the content was falsified (re-saving or editing "
                    "a file also changes its bytes), but the credentials no longer vouch for it"
                )
            )
        elif stage.status == INVALID:
            out.append(
                _sentence(
                    f"The record of {label} was altered or damaged after signing, or could not be checked: what it "
                    "says cannot be relied on"
                )
            )
        if stage.signer and stage.signer.trust == "untrusted" and stage.status == INVALID:
            out.append(
                _sentence(
                    f"{cap_label} was also signed by {stage.signer.common_name or 'an unnamed certificate'}, whose "
                    "certificate is not on the trust list used here, so who signed it cannot be confirmed either"
                )
            )
        elif stage.signer and stage.signer.trust == "untrusted":
            out.append(
                _sentence(
                    f"{cap_label} was signed by {stage.signer.common_name or 'an unnamed certificate'}, "
                    "whose certificate is not on the trust list used here. Its signature is intact, so the record "
                    "has not changed since it was signed, but who really signed it cannot be confirmed. If you "
                    "know and trust this signer, add their root certificate to the trust anchors (--trust) and "
                    "explain the file again"
                )
            )
        elif stage.signer and stage.signer.trust == "certificate-problem":
            out.append(_sentence(f"The signer of {label} cannot be relied on: {stage.signer.why}"))
    signed = [s for s in stages if s.kind == "signed"]
    if len(signed) > 1:
        out.append(
            "The media of earlier stages is not inside this file: each earlier stage's signed record can be "
            "checked, but not compared with the pictures or sound that stage actually produced."
        )
    untimed = [s for s in signed if s.time and not s.time.time_stamped_at]
    if untimed:
        which = _join([str(s.number) for s in untimed])
        out.append(
            _sentence(
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


def _policy_items(findings: list[Any] | None, stages: list[Stage]) -> tuple[list[PolicyItem] | None, str | None]:
    """Policy findings (and rules a clearance satisfied) as sentences, tied to their stage."""
    if findings is None:
        return None, None
    stage_of = {s.manifest: s for s in stages if s.manifest}
    items = []
    for finding in findings:
        data = asdict(finding) if is_dataclass(finding) and not isinstance(finding, type) else finding
        if not isinstance(data, dict):
            items.append(PolicyItem("note", str(finding), _sentence(str(finding))))
            continue
        cleared_by = data.get("clearances") if "severity" not in data else None
        severity = "cleared" if cleared_by is not None else str(data.get("severity") or "note")
        title = str(data.get("title") or data.get("message") or data.get("rule_id") or "finding")
        evidence = data.get("evidence") if isinstance(data.get("evidence"), dict) else {}
        stage = stage_of.get(evidence.get("manifest"))
        text = f"{severity.upper()}: {title}"
        if stage:
            text += f" (stage {stage.number}, {stage.title})"
        needs = data.get("needs") or []
        if needs:
            text += f"; needs {_join([str(n) for n in needs])}"
        if cleared_by:
            text += f"; satisfied by {_join([str(c) for c in cleared_by])}"
        items.append(
            PolicyItem(
                severity,
                title,
                _sentence(text),
                data.get("rule_id") or data.get("rule"),
                data.get("remedy"),
                stage.number if stage else None,
            )
        )
    if not items:
        return items, "The policy raises no finding for this file."
    blocking = [i for i in items if i.severity == "block"]
    open_items = [i for i in items if i.severity != "cleared"]
    if blocking:
        return items, _sentence(f"The policy blocks this file: {len(blocking)} finding(s) must be resolved")
    if not open_items:
        return items, "The policy raises no open finding: every rule that applies is satisfied by a clearance."
    return items, _sentence(f"The policy raises {len(open_items)} finding(s); none blocks the file")


def explain(
    report: AssetReport, findings: list[Any] | None = None, clearances: dict[str, str] | None = None
) -> Explanation:
    """Put a verified asset's provenance into words.

    `findings` are policy findings (shown as given); `clearances` maps an approval or consent ID to
    the status found when checking it ("valid", "expired", "revoked", "missing", "forged", ...).
    Without them, IDs found in disclosures are said to be declared but unchecked.
    """
    name = Path(report.path).name or report.path
    stages = _build_stages(report, clearances) if report.status not in (NO_CREDENTIALS, UNREADABLE) else []
    genai, genai_sentence = _genai_summary(report, stages)
    views = [v for s in stages for a in s.activities for v in a.approvals + a.consents]
    unchecked = any(v.status == UNCHECKED for v in views)
    policy, policy_sentence = _policy_items(findings, stages)
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
        notes=[_sentence(n) for n in report.notes],
    )


# ---------------------------------------------------------------------------------------------
# reading a file, and its thumbnails


def read_asset(path: Path, trust: TrustSettings) -> AssetReport:
    """Verify one file for explaining; a missing path or a folder is an input error."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: is not a file (explain takes one file)")
    return verify_file(path, trust.context())


@dataclass
class ExplainResult:
    report: AssetReport
    explanation: Explanation
    blocked: bool | None = None  # None when no policy was applied

    @property
    def passed(self) -> bool:
        return self.explanation.passed and not self.blocked

    def to_document(self, html: Path | None = None) -> dict[str, Any]:
        """`explain --format json`, validated by schemas/explain-report.schema.json."""
        return {
            "tool": {"name": "genai-provenance", "version": __version__},
            "passed": self.passed,
            "policy_blocked": self.blocked,
            "html": str(html) if html else None,
            "explanation": self.explanation.to_dict(),
        }


def explain_file(
    path: Path, trust: TrustSettings, source: ClearanceSource | None = None, policy: Policy | None = None
) -> ExplainResult:
    """Verify `path`, check the approvals and consents it cites (when `source` is given), apply
    `policy` (when given) and explain the lot."""
    report = read_asset(path, trust)
    if policy is not None:
        verdict = verdict_for(report, path, CheckSettings(trust, policy, source or ClearanceSource()))
        findings: list[Any] = [*verdict.evaluation.findings, *verdict.evaluation.cleared]
        return ExplainResult(report, explain(report, findings), verdict.blocked)
    if source is not None:
        check_clearances(report, path, source)
    return ExplainResult(report, explain(report))


def _jpeg(data: bytes) -> bytes | None:
    """Re-encode a picture as a small JPEG; None when it cannot be decoded (untrusted bytes)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.thumbnail((MAX_EDGE, MAX_EDGE))
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except Exception:
        return None


def collect_thumbnails(path: Path, trust: TrustSettings) -> dict[str, bytes]:
    """JPEG thumbnails for an explanation: each manifest's own (by identifier), ingredients without
    credentials (`ingredient:<manifest>:<title>`), and one made from the file itself (`file`).

    Every picture is decoded and re-encoded, so what reaches a report is a plain JPEG.
    """
    out: dict[str, bytes] = {}
    fmt = media_format(path)
    if fmt is not None:
        try:
            own = make_thumbnail(path, fmt)
        except Exception:
            own = None
        own = _jpeg(own) if own else None
        if own:
            out[FILE_THUMBNAIL] = own
    if fmt is None:
        return out
    sidecar = sidecar_for(path)
    try:
        with open(path, "rb") as stream:
            reader = c2pa.Reader(fmt.mime, stream, sidecar.read_bytes() if sidecar else None, context=trust.context())
            with reader:
                store = json.loads(reader.json())
                wanted: dict[str, str] = {}
                for label, manifest in (store.get("manifests") or {}).items():
                    ident = (manifest.get("thumbnail") or {}).get("identifier")
                    if ident:
                        wanted[ident] = ident
                    for ing in manifest.get("ingredients") or []:
                        ident = (ing.get("thumbnail") or {}).get("identifier")
                        if ident and not ing.get("active_manifest"):
                            wanted[f"ingredient:{label}:{ing.get('title')}"] = ident
                for key, ident in wanted.items():
                    buffer = io.BytesIO()
                    try:
                        reader.resource_to_stream(ident, buffer)
                    except c2pa.C2paError:
                        continue
                    picture = _jpeg(buffer.getvalue())
                    if picture:
                        out[key] = picture
    except (OSError, c2pa.C2paError, ValueError):
        pass
    return out


def input_sentence(item: InputView) -> str:
    """One declared input in words: kind first, then the signer's reference and description."""
    words = item.kind_words[0].lower() + item.kind_words[1:] if item.kind_words else "an unstated input"
    text = f"Input: {words} ({item.kind or 'no kind given'})"
    if item.ref:
        text += f", reference {_quote(item.ref)}"
    if item.description:
        text += f": {item.description}"
    return _sentence(text)
