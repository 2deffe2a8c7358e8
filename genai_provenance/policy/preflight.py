"""Preflight: classify each intended GenAI use before the work starts, and write a declaration
that studio legal can turn into approvals."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast, get_args

from genai_provenance.clearances.records import iso, now_utc
from genai_provenance.credentials.disclosure import check as check_disclosure
from genai_provenance.credentials.source_types import classify
from genai_provenance.errors import InputError
from genai_provenance.files import refuse_existing, write_text
from genai_provenance.grammar import article
from genai_provenance.model.disclosure import AssetDeclaration, DeclaredUse, Disclosure
from genai_provenance.policy.rules import CLASS_ORDER, AssetFacts, Policy, Rule, UseFacts, classify_use

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
TALENT_PLACEHOLDER, TALENT_ID_PLACEHOLDER = "NAME", "TID"  # legal fills in the performer


Classification = Literal["notify", "escalate", "written-approval"]
CitedKind = Literal["approval", "consent"]


@dataclass
class Answers:
    """Answers to the five principle questions (interactive preflight)."""

    by_principle: dict[int, str]

    def escalating(self) -> list[int]:
        return [n for n, a in sorted(self.by_principle.items()) if a != "yes"]

    def declared(self, asset: dict[str, Any], use: dict[str, Any]) -> Disclosure:
        """The prompted disclosure, checked as a file would be."""
        return Disclosure.parse(check_disclosure(self.disclosure(asset, use), "answers"))

    def disclosure(self, asset: dict[str, Any], use: dict[str, Any]) -> dict[str, Any]:
        """A disclosure document from prompted fields; principles 2 and 3 answer the data-handling flags."""
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


def _use_facts(use: DeclaredUse) -> UseFacts:
    return UseFacts(
        manifest="(declared, not yet signed)",
        stage=None,
        signer=None,
        evidence=f"genai[{use.index}]",
        certainty="maybe" if classify(use.source_type) == "maybe" else "generative",
        declared=True,
        tool=use.tool.label,
        description=use.description,
        category=use.category,
        source_type=use.source_type,
        input_kinds=[i.kind for i in use.inputs],
        data_handling=use.data_handling.declared() if use.data_handling else {},
        use_index=use.index,
    )


@dataclass(frozen=True)
class Request:
    """One `approvals grant` or `consents grant` command legal can run as printed."""

    kind: CitedKind
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


@dataclass(frozen=True)
class ToCite:
    """New IDs the disclosure must list under a use before signing (it cites none of that kind)."""

    approvals: tuple[str, ...] = ()
    consents: tuple[str, ...] = ()


@dataclass(frozen=True)
class UseDecision:
    """One intended use, classified: the rules that decided it, why, and what clears it."""

    use: DeclaredUse
    classification: Classification
    rules: tuple[Rule, ...]
    reasons: tuple[str, ...]
    needs: tuple[str, ...]
    requests: tuple[Request, ...] = ()
    to_cite: ToCite = ToCite()


@dataclass(frozen=True)
class Declaration:
    """What preflight decided for one disclosure (schemas/declaration.schema.json)."""

    created_at: str
    policy: str
    disclosure: Disclosure
    overall: Classification
    answers: Answers | None
    uses: tuple[UseDecision, ...]
    requests: tuple[Request, ...]  # every grant legal should run, once each

    @property
    def exit_code(self) -> int:
        """0: a classification is advice, never a failure."""
        return 0


def new_id(kind: CitedKind, asset_id: str, index: int) -> str:
    """An ID for a use that cites none, unique per asset and use (valid as a disclosure ID)."""
    prefix = "APR" if kind == "approval" else "CNS"
    stem = re.sub(r"[^A-Za-z0-9.:-]+", "-", asset_id).strip("-.:") or "ASSET"
    return f"{prefix}-{stem[:100]}-{index + 1}"


def _requests(
    asset: AssetDeclaration, needed: list[tuple[DeclaredUse, dict[CitedKind, list[str]]]]
) -> tuple[dict[int, tuple[Request, ...]], dict[int, ToCite]]:
    """Requests per use, reusing the IDs each use cites; one request per ID, covering every use citing it.

    Returns the requests of each use and, for uses that cite no ID of a needed kind, the new IDs
    the disclosure must list before signing.
    """
    covers: dict[tuple[CitedKind, str], list[str]] = {}
    chosen: dict[int, list[tuple[CitedKind, str]]] = {}
    to_cite: dict[int, dict[CitedKind, list[str]]] = {}
    for use, needs in needed:
        for kind, coverage in needs.items():
            if not coverage:
                continue
            cited = use.approvals if kind == "approval" else use.consents
            record_id = cited[0] if cited else new_id(kind, asset.asset_id, use.index)
            if not cited:
                to_cite.setdefault(use.index, {"approval": [], "consent": []})[kind].append(record_id)
            merged = covers.setdefault((kind, record_id), [])
            merged.extend(c for c in coverage if c not in merged)
            chosen.setdefault(use.index, []).append((kind, record_id))
    out = {
        index: tuple(Request(k, rid, asset.production, asset.asset_id, tuple(covers[(k, rid)])) for k, rid in keys)
        for index, keys in chosen.items()
    }
    return out, {i: ToCite(tuple(c["approval"]), tuple(c["consent"])) for i, c in to_cite.items()}


def _level(value: str) -> Classification:
    if value in get_args(Classification):
        return cast(Classification, value)
    raise ValueError(f"unknown classification {value!r}")  # pragma: no cover - the policy schema allows no other


def _cited(kind: str) -> CitedKind:
    if kind in get_args(CitedKind):
        return cast(CitedKind, kind)
    raise ValueError(f"unknown record kind {kind!r}")  # pragma: no cover - the policy schema allows no other


def _decide(
    policy: Policy, facts: AssetFacts, use: DeclaredUse, answers: Answers | None
) -> tuple[UseDecision, dict[CitedKind, list[str]]]:
    """One use classified, and the coverage each kind of record must give it."""
    if classify(use.source_type) == "none":  # the disclosure check refuses these; a caller's own Disclosure may not
        return UseDecision(use, "notify", (), ("the declared source type is not generative",), ()), {}
    level, rules, matched = classify_use(policy, facts, _use_facts(use))
    reasons = [f"{r.id}: {r.title}" for r in rules]
    # Rules that ask for less still matter to legal (a tool that trains on inputs, in a final deliverable).
    reasons += [f"also {r.id} ({r.classification}): {r.title}" for r in matched if r.classification and r not in rules]
    if answers and answers.escalating() and CLASS_ORDER[level] < CLASS_ORDER["escalate"]:
        # The answers, not a rule, decide: say so first and keep the rules as context only.
        level, reasons = "escalate", [f"policy alone: {r}" for r in reasons]
        rules = []
    if answers:
        reasons[:0] = [f"principle {n} answered {answers.by_principle[n]}: escalate" for n in answers.escalating()]
    needs: dict[CitedKind, list[str]] = {"approval": [], "consent": []}
    for rule in matched:
        for kind, coverage in (rule.require or {}).items():
            for c in coverage:
                value = use.category if c == "{category}" else c
                if value and value not in needs[_cited(kind)]:
                    needs[_cited(kind)].append(value)
    return UseDecision(
        use,
        _level(level),
        tuple(rules),
        tuple(reasons or ["no rule asks for more than telling the studio contact"]),
        tuple(f"{article(k)} covering {', '.join(v)}" for k, v in needs.items() if v),
    ), needs


def declare(disclosure: Disclosure, policy: Policy, answers: Answers | None = None) -> Declaration:
    """Classify every use (notify, escalate, written-approval) and build the declaration."""
    asset = disclosure.asset
    facts = AssetFacts("(preflight)", None, asset.intended_use, asset.non_fiction, asset.asset_id, asset.production)
    decided = [_decide(policy, facts, use, answers) for use in disclosure.uses]
    requests, to_cite = _requests(asset, [(d.use, needs) for d, needs in decided])
    uses = tuple(
        replace(d, requests=requests.get(d.use.index, ()), to_cite=to_cite.get(d.use.index, ToCite()))
        for d, _ in decided
    )
    overall: Classification = max((u.classification for u in uses), key=CLASS_ORDER.__getitem__, default="notify")
    return Declaration(
        created_at=iso(now_utc()),
        policy=policy.name,
        disclosure=disclosure,
        overall=overall,
        answers=answers,
        uses=uses,
        requests=tuple(dict.fromkeys(r for d in uses for r in d.requests)),
    )


def check_output(target: Path, *, force: bool, source: Path | None) -> None:
    """Refuse a target that is the disclosure being read, a folder, or (without `force`) an existing file."""
    if source is not None and target.resolve() == source.resolve():
        raise InputError(f"{target}: is the disclosure being read; write the declaration to another file")
    if target.is_dir():
        raise InputError(f"{target}: is a folder, expected a file")
    refuse_existing(target, force)


def write_declaration(document: str, target: Path, *, force: bool, source: Path | None) -> None:
    """Write the declaration (its JSON document) whole or not at all (see check_output for what is refused)."""
    check_output(target, force=force, source=source)
    try:
        write_text(target, document if document.endswith("\n") else document + "\n")
    except OSError as exc:
        raise InputError(f"{target}: cannot write the declaration ({exc.strerror or exc})") from None
