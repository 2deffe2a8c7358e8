"""Preflight: classify each intended GenAI use before the work starts, and write a declaration
that studio legal can turn into approvals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genai_provenance import __version__
from genai_provenance.clearances import iso, now_utc
from genai_provenance.policy import CLASS_ORDER, AssetFacts, Policy, UseFacts, classify_use
from genai_provenance.sourcetypes import classify

DECLARATION_FORMAT = "genai-provenance/declaration/v1"

PRINCIPLES: dict[int, str] = {
    1: "Will the outputs avoid replicating or substantially recreating identifiable characteristics of "
    "unowned or copyrighted material, and infringe no protected work?",
    2: "Do the tools refrain from storing, reusing or training on production data (inputs and outputs)?",
    3: "Do the tools run in an enterprise-secured environment that protects the inputs?",
    4: "Is the generated material temporary and kept out of the final deliverables?",
    5: "Is GenAI kept from replacing or generating talent performances or union-covered work without consent?",
}
ANSWERS = ("yes", "no", "unsure")


@dataclass
class Answers:
    """Answers to the five principle questions (interactive preflight)."""

    by_principle: dict[int, str]

    def escalating(self) -> list[int]:
        return [n for n, a in sorted(self.by_principle.items()) if a != "yes"]

    def disclosure(self, asset: dict[str, Any], use: dict[str, Any]) -> dict[str, Any]:
        """A disclosure from prompted fields; principles 2 and 3 answer the data-handling flags."""
        use = dict(use)
        use["tool"] = {k: v for k, v in use["tool"].items() if v}
        if isinstance(use.get("inputs"), str):
            use["inputs"] = [{"kind": k.strip()} for k in use["inputs"].split(",") if k.strip()]
        handling: dict[str, bool] = {}
        if self.by_principle.get(2) in ("yes", "no"):
            handling["trains_on_inputs"] = handling["retains_inputs"] = self.by_principle[2] == "no"
        if self.by_principle.get(3) in ("yes", "no"):
            handling["enterprise_environment"] = self.by_principle[3] == "yes"
        if handling:
            use["data_handling"] = handling
        return {"asset": asset, "genai": [use]}


def _use_facts(use: dict[str, Any], index: int) -> UseFacts:
    klass = classify(use.get("source_type"))
    tool = use.get("tool") or {}
    return UseFacts(
        manifest="(declared, not yet signed)",
        stage=None,
        signer=None,
        evidence=f"genai[{index}]",
        certainty="maybe" if klass == "maybe" else "generative",
        declared=True,
        tool=" ".join(x for x in (tool.get("name"), tool.get("version")) if x) or None,
        description=use.get("description"),
        category=use.get("category"),
        source_type=use.get("source_type"),
        input_kinds=[i.get("kind") for i in use.get("inputs") or []],
        data_handling=dict(use.get("data_handling") or {}),
        use_index=index,
    )


def _requests(asset: dict[str, Any], needs: dict[str, list[str]], index: int) -> list[str]:
    out = []
    for kind, covers in needs.items():
        if not covers:
            continue
        group = "approvals" if kind == "approval" else "consents"
        placeholder = "APR-NEW" if kind == "approval" else "CNS-NEW"
        extra = " --talent NAME --talent-id TID" if kind == "consent" else ""
        out.append(
            f"genai-provenance {group} grant --id {placeholder}-{index + 1} --production {asset.get('production')} "
            f"--asset {asset.get('asset_id')} --covers {','.join(covers)}{extra}"
        )
    return out


def declare(disclosure: dict[str, Any], policy: Policy, answers: Answers | None = None) -> dict[str, Any]:
    """Classify every use (notify, escalate, written-approval) and build the declaration record."""
    asset = disclosure["asset"]
    facts = AssetFacts(
        "(preflight)",
        None,
        asset["intended_use"],
        bool(asset.get("non_fiction")),
        asset.get("asset_id"),
        asset.get("production"),
    )
    uses_out = []
    for index, use in enumerate(disclosure.get("genai") or []):
        facts_use = _use_facts(use, index)
        if classify(use.get("source_type")) == "none":
            uses_out.append(
                {
                    "index": index,
                    "tool": facts_use.tool,
                    "category": use.get("category"),
                    "description": use.get("description"),
                    "classification": "notify",
                    "rules": [],
                    "reasons": ["the declared source type is not generative"],
                    "needs": [],
                    "requests": [],
                }
            )
            continue
        level, rules, matched = classify_use(policy, facts, facts_use)
        reasons = [f"{r.id}: {r.title}" for r in rules]
        # Rules that ask for less still matter to legal (a tool that trains on inputs, in a final deliverable).
        reasons += [
            f"also {r.id} ({r.classification}): {r.title}" for r in matched if r.classification and r not in rules
        ]
        if answers and answers.escalating() and CLASS_ORDER[level] < CLASS_ORDER["escalate"]:
            # The answers, not a rule, decide: say so first and keep the rules as context only.
            level, reasons = "escalate", [f"policy alone: {r}" for r in reasons]
            rules = []
        if answers:
            reasons[:0] = [f"principle {n} answered {answers.by_principle[n]}: escalate" for n in answers.escalating()]
        needs: dict[str, list[str]] = {"approval": [], "consent": []}
        for rule in matched:
            for kind, coverage in (rule.require or {}).items():
                for c in coverage:
                    value = use.get("category") if c == "{category}" else c
                    if value and value not in needs[kind]:
                        needs[kind].append(value)
        uses_out.append(
            {
                "index": index,
                "tool": facts_use.tool,
                "category": use.get("category"),
                "description": use.get("description"),
                "classification": level,
                "rules": [{"id": r.id, "title": r.title, "principle": r.principle} for r in rules],
                "reasons": reasons or ["no rule asks for more than telling the studio contact"],
                "needs": [
                    f"{'an' if k == 'approval' else 'a'} {k} covering {', '.join(v)}" for k, v in needs.items() if v
                ],
                "requests": _requests(asset, needs, index),
            }
        )
    overall = max((u["classification"] for u in uses_out), key=CLASS_ORDER.__getitem__, default="notify")
    return {
        "format": DECLARATION_FORMAT,
        "created_at": iso(now_utc()),
        "tool": {"name": "genai-provenance", "version": __version__},
        "policy": policy.name,
        "asset": asset,
        "overall": overall,
        "principles": {str(k): v for k, v in sorted(answers.by_principle.items())} if answers else None,
        "uses": uses_out,
        "disclosure": disclosure,
    }
