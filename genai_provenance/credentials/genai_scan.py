"""Find generative AI wherever real tools record it in a C2PA manifest."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from genai_provenance.credentials.source_types import classify, normalise
from genai_provenance.credentials.untrusted_json import array, obj, text
from genai_provenance.model.disclosure import Disclosure
from genai_provenance.model.provenance import Evidence, EvidenceKind, GenAIUse
from genai_provenance.model.vocabulary import Certainty

DISCLOSURE_LABEL = "com.genai-provenance.disclosure"
CLEARANCES_LABEL = "com.genai-provenance.clearances"
BROKEN_HISTORY_LABEL = "com.genai-provenance.broken-history"
PARAM = "com.genai-provenance."

# Product names that mean a generator even when a v1 manifest gives no source type.
_GENERATOR_NAMES = re.compile(
    r"dall[\s·.\-]?e|firefly|midjourney|stable[\s\-]?diffusion|chatgpt|gpt-4o|gpt-image|sora|imagen|"
    r"runway|\bgen-[234]\b|\bveo\b|kling|pika|luma|\bflux\b|bing image creator|leonardo\.ai|ideogram",
    re.IGNORECASE,
)
_LEGACY_ADOBE = "com.adobe.generative-ai"


def _agent_name(agent: Any) -> str | None:
    if isinstance(agent, str):
        return agent
    if isinstance(agent, dict):
        name, version = text(agent.get("name")), text(agent.get("version"))
        return f"{name} {version}".strip() if name and version else name
    return None


def _source_of(action: dict[str, Any]) -> str | None:
    params = obj(action.get("parameters"))
    return text(
        action.get("digitalSourceType") or params.get("com.adobe.digitalSourceType") or params.get("digitalSourceType")
    )


def _from_action(manifest: str, action: dict[str, Any], evidence: Evidence, declared: int) -> GenAIUse | None:
    params = obj(action.get("parameters"))
    index = params.get(PARAM + "use")
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < declared:
        return None  # our own action for a use the well-formed disclosure of the same manifest declares
    source = _source_of(action)
    certainty = classify(source)
    tool = _agent_name(action.get("softwareAgent"))
    use = GenAIUse(
        manifest=manifest,
        evidence=evidence,
        certainty=Certainty.GENERATIVE,
        source_type=normalise(source),
        action=text(action.get("action")),
        tool=tool,
        description=text(action.get("description")),
        category=text(params.get(PARAM + "category")),
    )
    if certainty in ("generative", "maybe"):
        use.certainty = Certainty(certainty)
        return use
    if certainty == "none":
        return None
    if tool and _GENERATOR_NAMES.search(tool):
        use.evidence = dataclasses.replace(evidence, generator=tool)
        return use
    return None


def _malformed_disclosure_uses(label: str, data: dict[str, Any]) -> list[GenAIUse]:
    """Entries under `genai` of a disclosure that breaks our schema: GenAI, but declared by nothing we can check."""
    entries = data.get("genai")
    uses = []
    for i, use in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(use, dict):
            continue
        raw_tool: dict[str, Any] = use["tool"] if isinstance(use.get("tool"), dict) else {}
        tool = {k: v for k, v in raw_tool.items() if isinstance(v, str)}
        category = use.get("category")
        uses.append(
            GenAIUse(
                manifest=label,
                evidence=Evidence(EvidenceKind.MALFORMED_DISCLOSURE, DISCLOSURE_LABEL, i),
                certainty=Certainty.GENERATIVE,
                source_type=normalise(use.get("source_type")),
                action=use.get("action") if isinstance(use.get("action"), str) else None,
                tool=_agent_name({"name": tool.get("name"), "version": tool.get("version")}),
                description=use.get("description") if isinstance(use.get("description"), str) else None,
                category=category if isinstance(category, str) else None,
            )
        )
    return uses


def scan_manifest(label: str, manifest: dict[str, Any], disclosure: Disclosure | None = None) -> list[GenAIUse]:
    """Every GenAI use a manifest records: actions, templates, parameters, legacy and our own.

    `disclosure` is the manifest's disclosure once it has passed our schema (None otherwise). Every
    entry under its `genai` is a GenAI use whatever source type it names. Content under our label
    that breaks the schema declares nothing: the actions beside it are then read like anyone's.
    """
    declared = disclosure.uses if disclosure is not None else ()
    uses: list[GenAIUse] = []
    for assertion in array(obj(manifest).get("assertions")):
        name = text(obj(assertion).get("label")) or ""
        data = obj(assertion).get("data") or {}
        if name.startswith("c2pa.actions") and isinstance(data, dict):
            for i, action in enumerate(array(data.get("actions"))):
                if isinstance(action, dict):
                    found = _from_action(
                        label, action, Evidence(EvidenceKind.ACTION, name, i, str(action.get("action"))), len(declared)
                    )
                    if found:
                        uses.append(found)
            for template in array(data.get("templates")):
                if isinstance(template, dict):
                    found = _from_action(
                        label, template, Evidence(EvidenceKind.TEMPLATE, name, action=str(template.get("action"))), 0
                    )
                    if found:
                        uses.append(found)
        elif name == DISCLOSURE_LABEL and disclosure is None and isinstance(data, dict):
            uses += _malformed_disclosure_uses(label, data)
        elif name.startswith(_LEGACY_ADOBE):
            uses.append(
                GenAIUse(
                    manifest=label,
                    evidence=Evidence(EvidenceKind.LEGACY_ADOBE, name),
                    certainty=Certainty.GENERATIVE,
                    tool=_agent_name(data.get("description")) if isinstance(data, dict) else None,
                )
            )
    for use in declared:
        uses.append(
            GenAIUse(
                manifest=label,
                evidence=Evidence(EvidenceKind.DISCLOSURE, DISCLOSURE_LABEL, use.index),
                certainty=Certainty.GENERATIVE,
                source_type=normalise(use.source_type),
                action=use.action,
                tool=use.tool.label,
                description=use.description,
                category=use.category,
                declared_use=use,
            )
        )
    return uses
