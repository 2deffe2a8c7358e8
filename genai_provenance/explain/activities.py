"""What was done at a stage, in words: the activities, declarations and records of one manifest.

Reads a ManifestInfo (its disclosure, actions, other assertions) into `Activity` views; manifest
content is untrusted, so every value is checked for its type before it is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from genai_provenance.credentials.genai_scan import CLEARANCES_LABEL, DISCLOSURE_LABEL, PARAM
from genai_provenance.credentials.source_types import classify, normalise
from genai_provenance.explain.model import UNCHECKED, Activity, ClearanceView, InputView
from genai_provenance.explain.wording import (
    ACTION_WORDS,
    CLEARANCE_WORDS,
    OUR_ACTION_LEAD,
    input_phrase,
    join,
    meaning,
    quote,
    sentence,
    source_words,
    terms,
)
from genai_provenance.model.disclosure import DataHandling, DeclaredUse, Disclosure
from genai_provenance.model.provenance import ClearanceCheck, EvidenceKind, GenAIUse, ManifestInfo
from genai_provenance.model.vocabulary import MatchedBy

# Assertions an explanation reads and puts into words; any other label is listed as not interpreted.
_INTERPRETED = (
    "c2pa.actions",
    DISCLOSURE_LABEL,
    CLEARANCES_LABEL,
    "cawg.training-mining",
    "c2pa.training-mining",
    "com.adobe.generative-ai",
    "c2pa.hash.",  # the hard binding: put into words as the stage's binding
)


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


def _clearance_views(
    ids: Iterable[str],
    kind: str,
    info: ManifestInfo,
    use_index: int,
    checks: Sequence[ClearanceCheck],
) -> list[ClearanceView]:
    views = []
    for ref in ids:
        status, detail, revocation, matched_by = UNCHECKED, None, None, None
        for check in checks:
            if check.id == ref and check.manifest in (info.label, None) and check.use in (use_index, None):
                status, detail, revocation, matched_by = (
                    check.status,
                    check.detail,
                    check.revocation_source,
                    check.matched_by,
                )
                break
        noun = "Approval" if kind == "approval" else "Consent"
        if status == UNCHECKED:
            text = f"{noun} {ref} is cited: it was declared, but it could not be checked here"
        else:
            words = CLEARANCE_WORDS.get(status, f"was checked, status {quote(status)}")
            text = f"{noun} {ref} {words}"
            if detail and status not in ("valid", "missing"):
                text += f" ({detail})"
            elif status == "valid" and detail and "revocation not checked" in detail:
                text += f" ({detail[detail.index('revocation not checked') :].rstrip(')')})"
            elif status == "valid" and revocation:
                text += f"; not revoked according to {revocation}"
            if status == "valid" and matched_by == MatchedBy.ASSET_ID:
                declared = info.disclosure.asset.asset_id if info.disclosure is not None else "?"
                text += (
                    f". It applies because this file declares asset ID {quote(declared)}, which the {kind} names;"
                    f" the {kind} does not identify this file's content"
                )
        views.append(ClearanceView(ref, kind, status, sentence(text)))
    return views


def _data_handling(handling: DataHandling | None) -> str | None:
    if handling is None:
        return None
    parts = []
    if handling.trains_on_inputs is not None:
        parts.append("trains on the inputs" if handling.trains_on_inputs else "does not train on the inputs")
    if handling.retains_inputs is not None:
        parts.append("retains the inputs" if handling.retains_inputs else "does not retain the inputs")
    if handling.enterprise_environment is not None:
        parts.append(
            "ran in an enterprise-secured environment"
            if handling.enterprise_environment
            else "did not run in an enterprise-secured environment"
        )
    return sentence("The signer declared that the tool " + join(parts)) if parts else None


def _disclosure_activity(use: DeclaredUse, info: ManifestInfo, checks: Sequence[ClearanceCheck]) -> Activity:
    tool_name = use.tool.label
    vendor = use.tool.vendor
    if tool_name and vendor and vendor.lower() not in tool_name.lower():
        tool_name = f"{tool_name} ({vendor})"
    action, source, model = use.action, use.source_type, use.model
    inputs = [InputView(i.kind, terms("input_kind").get(i.kind, i.kind), i.ref, i.description) for i in use.inputs]
    span = use.time_range
    time_range = f"{span.start} to {span.end}" if span else None
    text = use.description or OUR_ACTION_LEAD.get(action or "", "Used")
    if tool_name:
        text += f" using {tool_name}"
    if model:
        text += f" (model {model})"
    if inputs:
        text += f" from {input_phrase(inputs)}"
    if span:
        text += f" between {span.start} and {span.end}"
    words = source_words(source)
    if words:
        text += f" ({words})"
    category = use.category
    activity = Activity(
        summary=sentence(text),
        source="disclosure",
        genai=classify(source),
        action=action,
        tool=tool_name,
        model=model,
        source_type=normalise(source),
        source_type_words=words,
        category=category,
        category_words=terms("category").get(category or ""),
        time_range=time_range,
        inputs=inputs,
        data_handling=_data_handling(use.data_handling),
        approvals=_clearance_views(use.approvals, "approval", info, use.index, checks),
        consents=_clearance_views(use.consents, "consent", info, use.index, checks),
    )
    if action:
        activity.details.append(sentence(f"Declared action: {action}{meaning(terms('action').get(action))}"))
    if category:
        activity.details.append(sentence(f"Declared purpose: {category}{meaning(activity.category_words)}"))
    return activity


def _use_for_action(info: ManifestInfo, action: dict[str, Any], index: int) -> GenAIUse | None:
    for use in info.genai_uses:
        found = use.evidence
        if found.kind is EvidenceKind.ACTION and found.action == str(action.get("action")) and found.index == index:
            return use
    return None


def _action_activity(info: ManifestInfo, action: dict[str, Any], index: int) -> Activity:
    name = str(action.get("action") or "unnamed action")
    text = ACTION_WORDS.get(name, f"Action {quote(name)}")
    agent = _agent_name(action.get("softwareAgent"))
    if agent:
        text += f" using {agent}"
    description = action.get("description")
    if isinstance(description, str) and description.strip() and description.strip().lower() != text.lower():
        text += f": {quote(description)}"
    params = _d(action.get("parameters"))
    raw_source = action.get("digitalSourceType") or params.get("com.adobe.digitalSourceType")
    words = source_words(raw_source)
    use = _use_for_action(info, action, index)
    genai = use.certainty if use else classify(raw_source)
    if words:
        text += f" ({words})"
    elif use and use.certainty == "generative":
        text += " (the software named is a known generative AI product; no source type was recorded)"
    activity = Activity(
        summary=sentence(text),
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
        kind = use.evidence.kind
        if kind in (EvidenceKind.DISCLOSURE, EvidenceKind.ACTION):
            continue
        if kind is EvidenceKind.LEGACY_ADOBE:
            what = "Adobe's older generative AI record"
        elif kind is EvidenceKind.TEMPLATE:
            what = f"An action template (for {use.action or 'every'} actions)"
        else:
            what = "A disclosure record that does not follow this tool's disclosure schema"
        text = f"{what} says generative AI was {'used' if use.certainty == 'generative' else 'possibly used'}"
        if use.tool:
            text += f" ({use.tool})"
        words = source_words(use.source_type)
        if words:
            text += f": {words}"
        out.append(
            Activity(
                sentence(text),
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


def stage_activities(info: ManifestInfo, checks: Sequence[ClearanceCheck]) -> list[Activity]:
    """Everything recorded as done in one manifest: its disclosure (with the approvals and consents it
    cites, given their status from `checks`), the actions it holds and other GenAI records."""
    out: list[Activity] = []
    disclosure = info.disclosure
    if disclosure is not None:
        uses = disclosure.uses
        base = disclosure.source_type
        if base:
            lead = "Underlying material declared as" if uses else "Declared as"
            out.append(
                Activity(
                    sentence(f"{lead} {source_words(base)}"),
                    "disclosure",
                    classify(base),
                    source_type=normalise(base),
                    source_type_words=source_words(base),
                )
            )
        out += [_disclosure_activity(use, info, checks) for use in uses]
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


def declared_sentences(disclosure: Disclosure | None) -> list[str]:
    """What a disclosure declares about the asset itself (ID, production, intended use, description)."""
    if disclosure is None:
        return []
    asset = disclosure.asset
    parts = [f"Declared asset {asset.asset_id or '(no ID)'} of production {asset.production or '(none given)'}."]
    if asset.intended_use:
        words = terms("intended_use").get(asset.intended_use, "")
        parts.append(sentence(f"Declared intended use: {asset.intended_use}" + (f" ({words})" if words else "")))
    if asset.non_fiction:
        parts.append("Declared as part of a non-fiction production.")
    if asset.description:
        parts.append(sentence(f"Description: {asset.description}"))
    return parts


def unknown_assertions(info: ManifestInfo) -> list[str]:
    """The labels of the assertions an explanation does not put into words, each once."""
    seen: list[str] = []
    for label in info.assertions:
        if label == DISCLOSURE_LABEL and info.disclosure is None:
            label = f"{DISCLOSURE_LABEL} (does not follow the disclosure schema; not read as a disclosure)"
        elif label.startswith(_INTERPRETED):
            continue
        if label not in seen:
            seen.append(label)
    return seen


def training_words(training: dict[str, str]) -> dict[str, str]:
    """Training and data-mining permissions, each use and its answer in words."""
    names = {
        "ai_generative_training": "generative AI training",
        "ai_training": "AI training",
        "ai_inference": "AI inference",
        "data_mining": "data mining",
    }
    uses = {"allowed": "allowed", "notAllowed": "not allowed", "constrained": "allowed with constraints"}
    return {names.get(k, k): uses.get(v, v) for k, v in training.items()}
