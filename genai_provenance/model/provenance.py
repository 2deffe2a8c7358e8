"""The model of what an asset says about itself: manifests, ingredients, GenAI uses, validation.

The same model describes our own manifests and anyone else's, so QC, legal and the gate
all see the same facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from genai_provenance.credentials.sequence_record import FrameClaim
from genai_provenance.model.dicts import json_dict
from genai_provenance.model.disclosure import DeclaredUse, Disclosure
from genai_provenance.model.vocabulary import Certainty, ClearanceStatus, MatchedBy, Status

TRUSTED = Status.TRUSTED
VALID_UNTRUSTED = Status.VALID_UNTRUSTED
INVALID = Status.INVALID
NO_CREDENTIALS = Status.NO_CREDENTIALS
UNREADABLE = Status.UNREADABLE
STATUSES = tuple(Status)


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


class EvidenceKind(StrEnum):
    """Where in a manifest a GenAI use was found."""

    ACTION = "action"  # an entry of a c2pa.actions assertion
    TEMPLATE = "template"  # an action template
    LEGACY_ADOBE = "legacy-adobe"  # Adobe's legacy generative AI assertion
    DISCLOSURE = "disclosure"  # our well-formed disclosure
    MALFORMED_DISCLOSURE = "malformed-disclosure"  # content under our label that breaks the schema


@dataclass(frozen=True)
class Evidence:
    """The place a GenAI use was found; `text` is how reports show it."""

    kind: EvidenceKind
    assertion: str  # the assertion's label
    index: int | None = None  # position in its actions or genai list
    action: str | None = None  # the action named (actions and templates), as recorded
    generator: str | None = None  # a software agent known as a generator (no source type said so)

    @property
    def text(self) -> str:
        if self.kind is EvidenceKind.ACTION:
            text = f"{self.assertion} action {self.action} [{self.index}]"
        elif self.kind is EvidenceKind.TEMPLATE:
            text = f"{self.assertion} template for {self.action}"
        elif self.kind is EvidenceKind.LEGACY_ADOBE:
            text = f"{self.assertion} assertion (Adobe's legacy generative AI record)"
        elif self.kind is EvidenceKind.DISCLOSURE:
            text = f"{self.assertion} genai[{self.index}]"
        else:
            text = f"{self.assertion} genai[{self.index}] (breaks the disclosure schema)"
        return f"{text}: software agent {self.generator!r} is a known generator" if self.generator else text

    def __str__(self) -> str:
        return self.text


@dataclass
class GenAIUse:
    """One place in the provenance that says generative AI was (or may have been) involved."""

    manifest: str
    evidence: Evidence
    certainty: Certainty
    source_type: str | None = None
    action: str | None = None
    tool: str | None = None
    description: str | None = None
    category: str | None = None
    declared_use: DeclaredUse | None = None  # the entry of our well-formed disclosure that declares it

    @property
    def declared(self) -> bool:
        """From one of our disclosures (with category, inputs, approvals)."""
        return self.declared_use is not None

    @property
    def use_index(self) -> int | None:
        """Position in that disclosure's genai list."""
        return self.declared_use.index if self.declared_use is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "evidence": self.evidence.text,
            "certainty": self.certainty,
            "source_type": self.source_type,
            "action": self.action,
            "tool": self.tool,
            "description": self.description,
            "category": self.category,
            "declared": self.declared,
            "use_index": self.use_index,
        }


@dataclass
class ClearanceCheck:
    """One approval or consent ID referenced by a GenAI use, and what checking it found."""

    id: str
    kind: str  # approval | consent
    status: ClearanceStatus
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
    matched_by: MatchedBy | None = None  # valid only: by this content's hash, or by its declared asset ID

    @property
    def ok(self) -> bool:
        return self.status == ClearanceStatus.VALID


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
    disclosure: Disclosure | None = None  # our disclosure, when it follows the schema
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
    status: Status
    failures: list[Failure] = field(default_factory=list)
    signer: SignerInfo | None = None
    genai: bool = False
    children: list[IngredientNode] = field(default_factory=list)


@dataclass
class SequenceSummary:
    """An image sequence checked as one asset: its signed record against the frames on disk."""

    pattern: str  # printf form of the file name (the signed record's, else the one found on disk)
    first: int
    last: int
    count: int  # frames in the signed record (else on disk)
    present: int  # frames found on disk
    missing: list[int] = field(default_factory=list)  # in the signed record, not on disk
    extra: list[int] = field(default_factory=list)  # on disk, not in the signed record
    gaps: list[int] = field(default_factory=list)  # numbers absent between first and last on disk
    record: str | None = None  # `sha256:` of the signed record all frames agree on (None: no agreed record)


@dataclass
class AssetReport:
    path: str
    format: str | None
    status: Status
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
    history_problems: list[str] = field(default_factory=list)  # tampered or unreadable stages in the history
    identities: list[CawgIdentity] = field(default_factory=list)  # CAWG identity assertions, every stage
    # Signed clearance envelopes found in the manifest store, by record id (not part of reports).
    embedded_clearances: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    # The sequence record this file's own manifest carries (not part of reports; see gate/sequences.py).
    sequence_claim: FrameClaim | None = field(default=None, repr=False)
    sequence_malformed: bool = field(default=False, repr=False)  # content under the sequence label is malformed
    sequence: SequenceSummary | None = None  # set when this report is a whole image sequence

    @property
    def passed(self) -> bool:
        """Trusted, intact, and so is every stage of its history."""
        return self.status == TRUSTED and not self.history_problems

    def manifest(self, label: str | None) -> ManifestInfo | None:
        return next((m for m in self.manifests if m.label == label), None)

    def to_dict(self, clearances: Sequence[ClearanceCheck] = ()) -> dict[str, Any]:
        """The report as JSON, with the state of the clearances it cites (checked apart: see CheckedAsset)."""
        data = json_dict(self)
        del data["embedded_clearances"], data["sequence_claim"], data["sequence_malformed"]
        if self.sequence is None:
            del data["sequence"]
        checks = [json_dict(c) for c in clearances]
        data = {k: v for key, value in data.items() for k, v in _after(key, value, "notes", ("clearances", checks))}
        data["genai_uses"] = [u.to_dict() for u in self.genai_uses]
        for out, info in zip(data["manifests"], self.manifests, strict=True):
            out["disclosure"] = info.disclosure.raw if info.disclosure is not None else None
            out["genai_uses"] = [u.to_dict() for u in info.genai_uses]
        return data


def _after(key: str, value: Any, anchor: str, extra: tuple[str, Any]) -> list[tuple[str, Any]]:
    return [(key, value), extra] if key == anchor else [(key, value)]


CHECKED_LOCALLY = "local"  # checked_on of an asset read on this machine
NOT_CHECKED = "not-checked"  # checked_on of an asset whose cluster task failed (reported as unreadable)


@dataclass(frozen=True)
class CheckedAsset:
    """A verified asset and the state of every clearance its disclosures cite (the report is left as read)."""

    report: AssetReport
    clearances: tuple[ClearanceCheck, ...] = ()
    checked_on: str = CHECKED_LOCALLY  # where its credentials were read: "local" or a cluster worker's address

    @property
    def passed(self) -> bool:
        return self.report.passed

    def to_dict(self) -> dict[str, Any]:
        return {**self.report.to_dict(self.clearances), "checked_on": self.checked_on}


def summarise(reports: list[AssetReport]) -> dict[str, Any]:
    counts = {status.value: 0 for status in STATUSES}
    for report in reports:
        counts[report.status.value] += 1
    return {
        "assets": len(reports),
        "passed": sum(r.passed for r in reports),
        "failed": sum(not r.passed for r in reports),
        "genai": sum(r.genai for r in reports),
        "by_status": counts,
    }
