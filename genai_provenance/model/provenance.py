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
    fingerprint: str | None = None  # SHA-256 of the leaf certificate (when it was read; see signer_certs)
    ekus: list[str] = field(default_factory=list)  # the leaf's extended key usages (dotted OIDs)
    allowed_list: bool = False  # trusted through the allowed list rather than an anchor
    pinned: bool | None = None  # on the signer list for this production (None: no list applies)


@dataclass
class CawgIdentity:
    """A CAWG identity assertion: who the credential names, and whether it was verified."""

    manifest: str
    label: str
    sig_type: str | None
    name: str | None  # the credential's subject (CN, O) or the identity's display name
    issuer: str | None
    verified: bool  # the signature over the assertion checked out (c2pa reported no failure for it)
    trusted: bool  # ... and the credential is on a trust list
    problems: list[str] = field(default_factory=list)  # failure codes c2pa reported for it


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
    use_index: int | None = None  # position in that disclosure's genai list


@dataclass
class ClearanceCheck:
    """One approval or consent ID referenced by a GenAI use, and what checking it found."""

    id: str
    kind: str  # approval | consent
    status: str
    detail: str
    manifest: str | None = None
    use: int | None = None
    category: str | None = None
    source: str | None = None  # embedded | ledger
    covers: list[str] = field(default_factory=list)
    issuer: str | None = None
    expires_at: str | None = None
    talent: dict[str, str] | None = None
    revocation_checked: bool = False  # a trustworthy ledger or fresh revocation list was consulted
    revocation_source: str | None = None  # which one, and how fresh (None: not checked)

    @property
    def ok(self) -> bool:
        return self.status == "valid"


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
    clearance_ids: list[str] = field(default_factory=list)  # signed records embedded in this stage
    disclosure_malformed: bool = False  # content under our disclosure label that breaks the schema
    broken_history_recorded: bool = False  # the signer signed over tampered or unreadable ingredients
    hard_binding: str | None = None  # c2pa.hash.data, c2pa.hash.bmff.v3, ...: what ties the record to the bytes


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
    time_stamp_trusted: bool = False  # the time-stamp authority chains to a configured TSA anchor
    failures: list[Failure] = field(default_factory=list)
    disclosures: list[dict[str, Any]] = field(default_factory=list)
    genai_uses: list[GenAIUse] = field(default_factory=list)
    ingredients: list[IngredientNode] = field(default_factory=list)
    manifests: list[ManifestInfo] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    clearances: list[ClearanceCheck] = field(default_factory=list)
    history_problems: list[str] = field(default_factory=list)  # tampered or unreadable stages in the history
    identities: list[CawgIdentity] = field(default_factory=list)  # CAWG identity assertions, every stage
    # Signed clearance envelopes found in the manifest store, by record id (not part of reports).
    embedded_clearances: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        """Trusted, intact, and so is every stage of its history."""
        return self.status == TRUSTED and not self.history_problems

    def manifest(self, label: str | None) -> ManifestInfo | None:
        return next((m for m in self.manifests if m.label == label), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["embedded_clearances"]
        return data


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
