"""What an explanation holds: the views `genai_provenance.explain.narrative` builds and the reports render.

Plain dataclasses, serialised with `to_dict` (the `explanation` of `explain --format json`; the
whole document is built in reports/explain_report.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genai_provenance.model.provenance import TRUSTED, AssetReport

UNCHECKED = "unchecked"  # a stage whose record is in the file but that no stage refers to
FILE_THUMBNAIL = "file"  # thumbnail key: a picture made from the file itself


@dataclass
class SignerView:
    common_name: str | None
    organisation: str | None
    issuer: str | None
    trust: str  # trusted | untrusted | certificate-problem | unreliable | unchecked
    why: str
    sentence: str


@dataclass
class TimeView:
    time_stamped_at: str | None
    claimed_time: str | None
    sentence: str


@dataclass
class InputView:
    kind: str | None
    kind_words: str
    ref: str | None = None
    description: str | None = None


@dataclass
class ClearanceView:
    id: str
    kind: str  # approval | consent
    status: str  # valid, expired, revoked, missing, forged, ... or "unchecked"
    sentence: str


@dataclass
class Activity:
    """One thing done at a stage, in words, with the facts it was built from."""

    summary: str
    source: str  # disclosure (our signed declaration) | action (a c2pa action) | record (another assertion)
    genai: str  # generative | maybe | none | unknown
    action: str | None = None
    tool: str | None = None
    model: str | None = None
    source_type: str | None = None
    source_type_words: str | None = None
    category: str | None = None
    category_words: str | None = None
    time_range: str | None = None
    inputs: list[InputView] = field(default_factory=list)
    data_handling: str | None = None
    approvals: list[ClearanceView] = field(default_factory=list)
    consents: list[ClearanceView] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


@dataclass
class Stage:
    number: int
    kind: str  # signed | no-credentials
    title: str
    file_name: str | None
    manifest: str | None
    status: str
    status_words: str
    current: bool  # the stage that produced the file being explained
    genai: str  # generative | maybe | none | unknown
    signer: SignerView | None = None
    time: TimeView | None = None
    generator: str | None = None
    declared: list[str] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    ingredients: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failure_codes: list[str] = field(default_factory=list)
    training_mining: dict[str, str] = field(default_factory=dict)
    unknown_assertions: list[str] = field(default_factory=list)
    thumbnail: str | None = None
    binding: str | None = None  # what ties this stage's record to the bytes it describes, in words
    identities: list[str] = field(default_factory=list)  # CAWG identity assertions, in words


@dataclass
class PolicyItem:
    severity: str
    title: str
    sentence: str
    rule: str | None = None
    remedy: str | None = None
    stage: int | None = None


@dataclass
class ProblemView:
    """One thing a reader must know before anything else, stated at the top of the report."""

    kind: (
        str  # policy-block | policy-waived | no-credentials | unreadable | invalid | broken-stage | gap | clearance
        # | untrusted-signer | sequence (a frame of an image sequence: missing, extra, changed, swapped, ...)
    )
    sentence: str
    rule: str | None = None
    stage: int | None = None


@dataclass
class AnchorView:
    subject: str
    sha256: str  # fingerprint of the certificate (DER)


@dataclass
class EvidenceView:
    """What the report rests on, so a reader can reproduce or challenge it."""

    file_sha256: str | None
    file_size: int | None
    made_at: str
    tool: str
    trust_anchors: list[AnchorView] = field(default_factory=list)
    approver_anchors: list[AnchorView] = field(default_factory=list)
    policy: str | None = None
    policy_sha256: str | None = None
    revocation: str = "revocations were not checked"


@dataclass
class SequenceView:
    """An image sequence explained as one asset: its signed record held against the frames on disk."""

    name: str  # name.[first-last].exr, as verify names it
    pattern: str  # printf form (name.%04d.exr): the signed record's, else the one on disk
    first: int
    last: int
    count: int  # frames in the signed record (else on disk)
    present: int  # frames on disk
    missing: list[int]
    extra: list[int]
    gaps: list[int]
    record: str | None  # sha256: of the record every frame agrees on (None: no agreed record)
    frame_given: str | None  # `explain FRAME`: the frame named, explained as its sequence
    problems: list[str]  # each names its frame (missing, extra, changed, swapped, unsigned, invalid, ...)
    sentence: str


@dataclass
class Explanation:
    file: str
    file_name: str
    format: str | None
    format_words: str
    status: str
    status_words: str
    headline: str
    credentials: str
    genai: str  # generative | maybe | none-recorded | unknown
    genai_sentence: str
    stages: list[Stage] = field(default_factory=list)
    does_not_prove: list[str] = field(default_factory=list)
    cannot_know: list[str] = field(default_factory=list)
    policy: list[PolicyItem] | None = None
    policy_sentence: str | None = None
    notes: list[str] = field(default_factory=list)
    thumbnail: str | None = FILE_THUMBNAIL
    verdict: str = "no-problem-found"  # blocked | problems | no-problem-found
    verdict_sentence: str = ""
    problems: list[ProblemView] = field(default_factory=list)
    evidence: EvidenceView | None = None
    sequence: SequenceView | None = None  # set when the asset is an image sequence

    @property
    def passed(self) -> bool:
        return self.status == TRUSTED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExplainResult:
    report: AssetReport
    explanation: Explanation
    blocked: bool | None = None  # None when no policy was applied
    anchors_configured: bool = True  # False: no media trust anchors, so no signer can be trusted
    media: Path | None = None  # the file pictures come from (a sequence: the frame given, else its first)
    files: tuple[Path, ...] = ()  # every file explained (a sequence: each frame and its sidecar)

    @property
    def passed(self) -> bool:
        return self.explanation.passed and not self.blocked

    @property
    def exit_code(self) -> int:
        """0: trusted and nothing blocks; 1: failed verification or blocked by the policy."""
        return 0 if self.passed else 1
