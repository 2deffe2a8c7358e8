"""The studio rules as data: load a policy, match its rules to an asset's facts, produce findings."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from genai_provenance.credentials.source_types import normalise
from genai_provenance.documents import read_document
from genai_provenance.errors import SchemaError
from genai_provenance.model.provenance import ClearanceCheck
from genai_provenance.model.vocabulary import Severity
from genai_provenance.policy.signer_pins import SignerPin, load_signers, pins_from
from genai_provenance.schemas import validate

BLOCK, WARN, NOTIFY = Severity.BLOCK, Severity.WARN, Severity.NOTIFY
DEFAULT_NAME = "default"  # `--policy default`: the policy built into the package
CLASS_ORDER = {"notify": 0, "escalate": 1, "written-approval": 2}
# The `when` keys an asset-scope rule can test.
ASSET_CONDITIONS = {
    "intended_use",
    "status",
    "non_fiction",
    "signer_listed",
    "history_intact",
    "disclosures_well_formed",
}


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    scope: str
    severity: Severity
    principle: int | None
    when: dict[str, Any]
    remedy: str
    guidance: str = ""
    classification: str | None = None
    require: dict[str, list[str]] | None = None
    waivable: bool = True  # false: no waiver can lift a finding of this rule

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))  # read from a policy file as text


@dataclass(frozen=True)
class Policy:
    name: str
    source: str
    rules: tuple[Rule, ...]
    assume_intended_use: str = "final"
    signers: tuple[SignerPin, ...] = ()  # who may sign final deliverables (empty: no list)
    sha256: str = ""  # of the policy file as read, so a report can name exactly what it applied
    core_added: tuple[str, ...] = ()  # built-in core rules a studio file left out, applied anyway


def _from_document(document: dict[str, Any], source: str, sha256: str = "") -> Policy:
    rules = tuple(Rule(**rule) for rule in document["rules"])
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.id in seen:
            raise SchemaError(f"{source}: rules[{i}].id: duplicate rule id {rule.id}")
        seen.add(rule.id)
        if rule.scope == "asset":  # such a rule would silently never match
            use_keys = sorted(set(rule.when) - ASSET_CONDITIONS)
            if use_keys:
                raise SchemaError(f"{source}: rules[{i}].when.{use_keys[0]}: describes a GenAI use; needs scope: use")
            if rule.require:
                raise SchemaError(f"{source}: rules[{i}].require: only a rule with scope: use can require clearances")
    return Policy(
        document["name"],
        source,
        rules,
        document.get("assume_intended_use", "final"),
        pins_from(document.get("signers") or []),
        sha256,
    )


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


@cache
def default_policy() -> Policy:
    path = Path(__file__).resolve().parent / "default.yaml"
    document = read_document(path)
    validate("policy", document, str(path))
    return _from_document(document, "default", _digest(path))


def load_policy(path: Path | None, signers: Path | None = None) -> Policy:
    """The default policy (`None` or `default`), or a studio's own file (YAML or JSON), validated field by field.

    `signers`: a --signers file; its list replaces the policy's `signers:` section.
    """
    if path is None or (str(path) == DEFAULT_NAME and not path.exists()):
        policy = default_policy()
    else:
        document = read_document(path)
        validate("policy", document, str(path))
        policy = with_core_rules(_from_document(document, str(path), _digest(path)))
    return replace(policy, signers=load_signers(signers)) if signers else policy


# The floor every policy keeps: a studio's file may add and tune rules, but cannot drop or redefine these,
# or the gate could be walked around with `--policy lax.yaml` (tampered files, forged or unrevocable
# clearances, unsigned deliverables).
CORE_RULES = (
    "GP-INTEGRITY-001",
    "GP-INTEGRITY-002",
    "GP-DISCLOSURE-001",
    "GP-TRUST-001",
    "GP-CLEARANCE-001",
    "GP-REVOCATION-001",
)


def with_core_rules(policy: Policy) -> Policy:
    """`policy` with the built-in core rules it lacks added; a core rule redefined differently is refused."""
    core = {r.id: r for r in default_policy().rules if r.id in CORE_RULES}
    rules = list(policy.rules)
    for i, rule in enumerate(rules):
        if rule.id in core and rule != core[rule.id]:
            raise SchemaError(
                f"{policy.source}: rules[{i}]: {rule.id} is a core rule and cannot be redefined "
                "(remove it: the built-in one applies to every policy)"
            )
    present = {r.id for r in rules}
    added = tuple(core[i] for i in CORE_RULES if i not in present)
    return replace(policy, rules=tuple(rules) + added, core_added=tuple(r.id for r in added))


@dataclass
class UseFacts:
    """One GenAI use at one stage of an asset's provenance, with what was checked about it."""

    manifest: str
    stage: str | None
    signer: str | None
    evidence: str
    certainty: str
    declared: bool
    tool: str | None
    description: str | None
    category: str | None = None
    source_type: str | None = None
    input_kinds: list[str] = field(default_factory=list)
    data_handling: dict[str, bool] = field(default_factory=dict)
    clearances: list[ClearanceCheck] = field(default_factory=list)
    use_index: int | None = None
    asset_id: str | None = None
    production: str | None = None


@dataclass
class AssetFacts:
    path: str
    status: str | None  # None when nothing was verified (preflight)
    intended_use: str
    non_fiction: bool
    asset_id: str | None
    production: str | None
    uses: list[UseFacts] = field(default_factory=list)
    history_problems: list[str] = field(default_factory=list)  # tampered or unreadable stages in the history
    malformed_disclosures: list[str] = field(default_factory=list)  # stages whose disclosure breaks the schema
    signer_listed: bool | None = None  # None: no signer list applies


@dataclass
class Finding:
    rule_id: str
    severity: Severity
    principle: int | None
    title: str
    evidence: dict[str, Any]
    remedy: str
    needs: list[str] = field(default_factory=list)


@dataclass
class Cleared:
    rule_id: str
    title: str
    evidence: dict[str, Any]
    clearances: list[str]


@dataclass
class Waived:
    """A finding a signed waiver lifted: it does not block, and is reported apart."""

    rule_id: str
    severity: Severity  # what the finding would have been
    title: str
    evidence: dict[str, Any]
    waiver_id: str
    reason: str
    expires_at: str
    issuer: str | None
    matched_by: str  # content-hash | asset-id | file-name (see genai_provenance.clearances.waivers)
    detail: str = ""


@dataclass
class WaiverNote:
    """A waiver that fits an asset's finding but was not applied, and why."""

    waiver_id: str
    rule_id: str
    reason: str


@dataclass
class Evaluation:
    findings: list[Finding] = field(default_factory=list)
    cleared: list[Cleared] = field(default_factory=list)
    waived: list[Waived] = field(default_factory=list)
    waiver_notes: list[WaiverNote] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(f.severity == BLOCK for f in self.findings)


def _any(values: list[Any], allowed: list[Any]) -> bool:
    return any(v in allowed for v in values)


def matches(rule: Rule, asset: AssetFacts, use: UseFacts | None) -> bool:
    for key, want in rule.when.items():
        if key == "intended_use":
            ok = asset.intended_use in want
        elif key == "status":
            ok = asset.status in want
        elif key == "non_fiction":
            ok = asset.non_fiction == want
        elif key == "history_intact":
            ok = (not asset.history_problems) == want
        elif key == "disclosures_well_formed":
            ok = (not asset.malformed_disclosures) == want
        elif key == "signer_listed":
            ok = asset.signer_listed is not None and asset.signer_listed == want
        elif use is None:
            return False
        elif key == "certainty":
            ok = use.certainty in want
        elif key == "declared":
            ok = use.declared == want
        elif key == "category":
            ok = use.category in want
        elif key == "input_kind":
            ok = _any(use.input_kinds, want)
        elif key == "source_type":
            ok = normalise(use.source_type) in {normalise(w) for w in want}
        elif key == "data_handling":
            ok = any(k in use.data_handling and use.data_handling[k] == v for k, v in want.items())
        elif key == "clearance_status":
            ok = _any([c.status for c in use.clearances], want)
        elif key == "revocation_checked":  # false: a valid clearance whose revocation nobody could check
            ok = (not any(c.ok and not c.revocation_checked for c in use.clearances)) == want
        else:  # the schema admits no other key
            return False
        if not ok:
            return False
    return True


def _needed(rule: Rule, use: UseFacts) -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for kind, coverage in (rule.require or {}).items():
        out[kind] = [use.category if c == "{category}" else c for c in coverage]
    return out


def _satisfying(kind: str, needs: list[str | None], use: UseFacts) -> ClearanceCheck | None:
    if None in needs:
        return None  # the use declares no category, so nothing can cover it
    return next(
        (c for c in use.clearances if c.kind == kind and c.ok and set(needs) <= set(c.covers)),
        None,
    )


def _describe_needs(needs: dict[str, list[str | None]]) -> list[str]:
    return [
        f"{'an' if kind == 'approval' else 'a'} {kind} covering "
        + ", ".join(c or "(the use's category: none declared)" for c in cover)
        for kind, cover in needs.items()
    ]


def _evidence(rule: Rule, asset: AssetFacts, use: UseFacts | None) -> dict[str, Any]:
    if use is None:
        evidence: dict[str, Any] = {"asset": asset.path, "status": asset.status}
        problems = (asset.history_problems if "history_intact" in rule.when else []) + (
            asset.malformed_disclosures if "disclosures_well_formed" in rule.when else []
        )
        if problems:
            evidence["problems"] = problems
        return evidence
    return {
        "asset": asset.path,
        "manifest": use.manifest,
        "stage": use.stage,
        "signer": use.signer,
        "use": use.evidence,
        "tool": use.tool,
        "category": use.category,
        "description": use.description,
        "clearances": [{"id": c.id, "kind": c.kind, "status": c.status, "detail": c.detail} for c in use.clearances],
    }


def _remedy(rule: Rule, asset: AssetFacts, use: UseFacts | None, needs: list[str]) -> str:
    values: dict[str, str] = defaultdict(str)
    values.update(
        asset_id=(use.asset_id if use and use.asset_id else asset.asset_id) or asset.path,
        production=(use.production if use and use.production else asset.production) or "the production",
        category=(use.category if use else None) or "its category",
        tool=(use.tool if use else None) or "the generator",
        needs=" and ".join(needs) or "this use",
    )
    return " ".join(rule.remedy.format_map(values).split())


def evaluate(policy: Policy, asset: AssetFacts) -> Evaluation:
    """Every rule against the asset and each of its GenAI uses."""
    result = Evaluation()
    for rule in policy.rules:
        targets: list[UseFacts | None] = [None] if rule.scope == "asset" else list(asset.uses)
        for use in targets:
            if not matches(rule, asset, use):
                continue
            evidence = _evidence(rule, asset, use)
            if rule.require and use is not None:
                needs = _needed(rule, use)
                found = {kind: _satisfying(kind, cover, use) for kind, cover in needs.items()}
                if all(found.values()):
                    ids = [c.id for c in found.values() if c]
                    result.cleared.append(Cleared(rule.id, rule.title, evidence, ids))
                    continue
                missing = _describe_needs({k: v for k, v in needs.items() if not found[k]})
            else:
                missing = []
            result.findings.append(
                Finding(
                    rule.id,
                    rule.severity,
                    rule.principle,
                    rule.title,
                    evidence,
                    _remedy(rule, asset, use, missing),
                    missing,
                )
            )
    return result


def classify_use(policy: Policy, asset: AssetFacts, use: UseFacts) -> tuple[str, list[Rule], list[Rule]]:
    """Preflight: notify, escalate or written-approval; the rules that decided it; all matching rules."""
    matched = [r for r in policy.rules if r.scope == "use" and matches(r, asset, use)]
    classified = [r for r in matched if r.classification]
    if not classified:
        return "notify", [], matched
    level = max((r.classification or "notify" for r in classified), key=CLASS_ORDER.__getitem__)
    return level, [r for r in classified if r.classification == level], matched
