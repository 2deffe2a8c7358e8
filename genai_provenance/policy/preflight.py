"""Preflight: classify each intended GenAI use before the work starts, and write a declaration
that studio legal can turn into approvals."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_provenance import __version__
from genai_provenance.clearances.records import iso, now_utc
from genai_provenance.credentials.source_types import classify
from genai_provenance.errors import InputError
from genai_provenance.files import write_text
from genai_provenance.grammar import article
from genai_provenance.policy.rules import CLASS_ORDER, AssetFacts, Policy, UseFacts, classify_use

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
CITE_FIELD = {"approval": "approvals", "consent": "consents"}  # where a disclosure use lists each kind
TALENT_PLACEHOLDER, TALENT_ID_PLACEHOLDER = "NAME", "TID"  # legal fills in the performer


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


@dataclass(frozen=True)
class Request:
    """One `approvals grant` or `consents grant` command legal can run as printed."""

    kind: str  # "approval" or "consent"
    id: str
    production: str
    asset_id: str
    covers: tuple[str, ...]

    def argv(self) -> list[str]:
        group = "approvals" if self.kind == "approval" else "consents"
        argv = ["genai-provenance", group, "grant", "--id", self.id, "--production", self.production]
        argv += ["--asset", self.asset_id, "--covers", ",".join(self.covers)]
        if self.kind == "consent":
            argv += ["--talent", TALENT_PLACEHOLDER, "--talent-id", TALENT_ID_PLACEHOLDER]
        return argv

    def command(self) -> str:
        """Shell-quoted: a production or asset ID can never smuggle a second command in."""
        return shlex.join(self.argv())


def new_id(kind: str, asset_id: str, index: int) -> str:
    """An ID for a use that cites none, unique per asset and use (valid as a disclosure ID)."""
    prefix = "APR" if kind == "approval" else "CNS"
    stem = re.sub(r"[^A-Za-z0-9.:-]+", "-", asset_id).strip("-.:") or "ASSET"
    return f"{prefix}-{stem[:100]}-{index + 1}"


def _requests(
    asset: dict[str, Any], uses: list[tuple[int, dict[str, Any], dict[str, list[str]]]]
) -> tuple[dict[int, list[Request]], dict[int, dict[str, list[str]]]]:
    """Requests per use, reusing the IDs each use cites; one request per ID, covering every use citing it.

    Returns the requests of each use and, for uses that cite no ID of a needed kind, the new IDs
    the disclosure must list before signing.
    """
    covers: dict[tuple[str, str], list[str]] = {}
    chosen: dict[int, list[tuple[str, str]]] = {}
    to_cite: dict[int, dict[str, list[str]]] = {}
    for index, use, needs in uses:
        for kind, needed in needs.items():
            if not needed:
                continue
            field = CITE_FIELD[kind]
            cited = [str(i) for i in use.get(field) or []]
            record_id = cited[0] if cited else new_id(kind, str(asset.get("asset_id")), index)
            if not cited:
                to_cite.setdefault(index, {"approvals": [], "consents": []})[field].append(record_id)
            merged = covers.setdefault((kind, record_id), [])
            merged.extend(c for c in needed if c not in merged)
            chosen.setdefault(index, []).append((kind, record_id))
    out = {
        index: [
            Request(kind, rid, str(asset.get("production")), str(asset.get("asset_id")), tuple(covers[(kind, rid)]))
            for kind, rid in keys
        ]
        for index, keys in chosen.items()
    }
    return out, to_cite


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
    uses_out: list[dict[str, Any]] = []
    needed: list[tuple[int, dict[str, Any], dict[str, list[str]]]] = []
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
                "needs": [f"{article(k)} covering {', '.join(v)}" for k, v in needs.items() if v],
            }
        )
        needed.append((index, use, needs))
    requests, to_cite = _requests(asset, needed)
    for out in uses_out:
        out["requests"] = [r.command() for r in requests.get(out["index"], [])]
        out["to_cite"] = to_cite.get(out["index"], {"approvals": [], "consents": []})
    unique = list(dict.fromkeys(r for rs in requests.values() for r in rs))
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
        "requests": [r.command() for r in unique],
        "disclosure": disclosure,
    }


def check_output(target: Path, *, force: bool, source: Path | None) -> None:
    """Refuse a target that is the disclosure being read, a folder, or (without `force`) an existing file."""
    if source is not None and target.resolve() == source.resolve():
        raise InputError(f"{target}: is the disclosure being read; write the declaration to another file")
    if target.is_dir():
        raise InputError(f"{target}: is a folder, expected a file")
    if target.exists() and not force:
        raise InputError(f"{target}: already exists (use --force to replace it)")


def write_declaration(declaration: dict[str, Any], target: Path, *, force: bool, source: Path | None) -> None:
    """Write the declaration whole or not at all (see check_output for what is refused)."""
    check_output(target, force=force, source=source)
    try:
        write_text(target, json.dumps(declaration, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise InputError(f"{target}: cannot write the declaration ({exc.strerror or exc})") from None
