"""Disclosure -> C2PA manifest definition (actions v2, our disclosure, training-mining)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from genai_provenance import __version__
from genai_provenance.credentials.disclosure import DEFAULT_FRAME_RATE
from genai_provenance.credentials.genai_scan import DISCLOSURE_LABEL, PARAM
from genai_provenance.credentials.source_types import to_uri
from genai_provenance.credentials.timecodes import timecode_seconds
from genai_provenance.errors import InputError
from genai_provenance.model.disclosure import DeclaredUse, Disclosure, ToolInfo

PARENT_ID = "parent"
TRAINING_MINING = {
    "entries": {
        "cawg.ai_generative_training": {"use": "notAllowed"},
        "cawg.ai_training": {"use": "notAllowed"},
        "cawg.data_mining": {"use": "notAllowed"},
    }
}
_C2PA_ACTION = {"created": "c2pa.created", "edited": "c2pa.edited", "placed": "c2pa.placed"}


def component_id(index: int) -> str:
    return f"component-{index + 1}"


def _agent(tool: ToolInfo) -> dict[str, str]:
    agent = {"name": tool.name}
    if tool.version:
        agent["version"] = tool.version
    return agent


def _action_for(
    use: DeclaredUse, rate: float, components: list[str], when: str, first: str | None = None
) -> dict[str, Any]:
    kind, index = use.action, use.index
    action: dict[str, Any] = {
        "action": _C2PA_ACTION[kind],
        "when": when,
        "softwareAgent": _agent(use.tool),
        "digitalSourceType": to_uri(use.source_type),
        "description": use.description or f"{use.category} ({kind} using {use.tool.name})",
    }
    params: dict[str, Any] = {PARAM + "use": index, PARAM + "category": use.category}
    if use.model:
        params[PARAM + "model"] = use.model
    if use.tool.vendor:
        params[PARAM + "vendor"] = use.tool.vendor
    span = use.time_range
    if span:
        start, end = timecode_seconds(span.start, rate, first), timecode_seconds(span.end, rate, first)
        action["changes"] = [
            {
                "region": [{"type": "temporal", "time": {"type": "npt", "start": f"{start:.3f}", "end": f"{end:.3f}"}}],
                "description": f"{span.start} to {span.end}",
            }
        ]
        params[PARAM + "timecode"] = {"start": span.start, "end": span.end}
    if kind == "placed":
        if not components:
            raise InputError(f"genai[{index}]: action 'placed' needs the placed element as --ingredient FILE")
        params["ingredientIds"] = components
    action["parameters"] = params
    return action


def build_definition(
    disclosure: Disclosure,
    *,
    title: str,
    has_parent: bool,
    components: int = 0,
    thumbnail: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The manifest definition for c2pa.Builder. Every assertion is created (signer-attributed)."""
    when = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    declared_rate = disclosure.asset.frame_rate
    rate = declared_rate if declared_rate is not None else DEFAULT_FRAME_RATE
    component_ids = [component_id(i) for i in range(components)]
    uses = list(disclosure.uses)
    actions: list[dict[str, Any]] = []
    if has_parent:
        actions.append(
            {
                "action": "c2pa.opened",
                "when": when,
                "parameters": {"ingredientIds": [PARENT_ID]},
                "description": "opened the parent asset",
            }
        )
    else:
        creator = next((u for u in uses if u.action == "created"), None)
        if creator:
            actions.append(_action_for(creator, rate, component_ids, when, disclosure.asset.start_timecode))
            uses.remove(creator)
        elif disclosure.source_type:
            actions.append(
                {
                    "action": "c2pa.created",
                    "when": when,
                    "digitalSourceType": to_uri(disclosure.source_type),
                    "description": f"{disclosure.asset.title} ({disclosure.source_type})",
                }
            )
        else:
            raise InputError(
                "disclosure: source_type is required when there is no --parent and no GenAI use with action 'created'"
            )
    for use in uses:
        action = _action_for(use, rate, component_ids, when, disclosure.asset.start_timecode)
        if use.action == "created":
            action["action"] = "c2pa.edited"  # generated content added to an existing asset
        actions.append(action)
    definition: dict[str, Any] = {
        "claim_generator_info": [{"name": "genai-provenance", "version": __version__}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}, "created": True},
            {"label": DISCLOSURE_LABEL, "data": disclosure.raw, "created": True},  # verbatim
            {"label": "cawg.training-mining", "data": TRAINING_MINING, "created": True},
        ],
    }
    if thumbnail:
        definition["thumbnail"] = {"format": "image/jpeg", "identifier": thumbnail}
    return definition
