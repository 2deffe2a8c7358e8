"""The model of what an asset says about itself: manifests, ingredients, GenAI uses, validation.

The same model describes our own manifests and anyone else's, so QC, legal and the gate
all see the same facts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TRUSTED = "trusted"
VALID_UNTRUSTED = "valid-untrusted"
INVALID = "invalid"
NO_CREDENTIALS = "no-credentials"
UNREADABLE = "unreadable"
STATUSES = (TRUSTED, VALID_UNTRUSTED, INVALID, NO_CREDENTIALS, UNREADABLE)


@dataclass
class SignerInfo:
    common_name: str | None
    organisation: str | None
    issuer: str | None
    serial: str | None = None
    not_after: str | None = None
    algorithm: str | None = None


@dataclass
class Failure:
    code: str
    explanation: str
    where: str = "active manifest"


@dataclass
class GenAIUse:
    """One place in the provenance that says generative AI was (or may have been) involved."""

    manifest: str
    evidence: str
    certainty: str  # generative | maybe
    source_type: str | None = None
    action: str | None = None
    tool: str | None = None
    description: str | None = None
    category: str | None = None
    declared: bool = False  # from one of our disclosures (with category, inputs, approvals)


@dataclass
class ManifestInfo:
    label: str
    title: str | None
    format: str | None
    claim_generator: str | None
    signer: SignerInfo | None
    signed_at: str | None
    time_stamped: bool
    claimed_time: str | None
    actions: list[dict[str, Any]] = field(default_factory=list)
    assertions: list[str] = field(default_factory=list)
    disclosure: dict[str, Any] | None = None
    training_mining: dict[str, str] = field(default_factory=dict)
    genai_uses: list[GenAIUse] = field(default_factory=list)
    thumbnail: str | None = None


@dataclass
class IngredientNode:
    title: str | None
    format: str | None
    relationship: str | None
    manifest: str | None
    status: str
    failures: list[Failure] = field(default_factory=list)
    signer: SignerInfo | None = None
    genai: bool = False
    children: list[IngredientNode] = field(default_factory=list)


@dataclass
class AssetReport:
    path: str
    format: str | None
    status: str
    genai: bool = False
    genai_possible: bool = False
    embedded: bool | None = None
    active_manifest: str | None = None
    signer: SignerInfo | None = None
    signed_at: str | None = None
    time_stamped: bool = False
    failures: list[Failure] = field(default_factory=list)
    disclosures: list[dict[str, Any]] = field(default_factory=list)
    genai_uses: list[GenAIUse] = field(default_factory=list)
    ingredients: list[IngredientNode] = field(default_factory=list)
    manifests: list[ManifestInfo] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == TRUSTED

    def manifest(self, label: str | None) -> ManifestInfo | None:
        return next((m for m in self.manifests if m.label == label), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(reports: list[AssetReport]) -> dict[str, Any]:
    counts = {status: 0 for status in STATUSES}
    for report in reports:
        counts[report.status] += 1
    return {
        "assets": len(reports),
        "passed": sum(r.passed for r in reports),
        "failed": sum(not r.passed for r in reports),
        "genai": sum(r.genai for r in reports),
        "by_status": counts,
    }
