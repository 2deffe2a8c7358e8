"""verify + clearances + policy: what QC runs on a folder, and what the gate builds on."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_provenance.credentials.read import TrustSettings
from genai_provenance.gate.discovery import Discovery, as_discovery
from genai_provenance.gate.sequences import file_hash, verify_target
from genai_provenance.model.provenance import CHECKED_LOCALLY, AssetReport, CheckedAsset, ClearanceCheck, ManifestInfo
from genai_provenance.model.vocabulary import IntendedUseSource

if TYPE_CHECKING:  # the ledger, clearance records and the policy are imported when used: `verify` of an asset
    # that cites no clearance needs none of them
    from cryptography import x509

    from genai_provenance.clearances.ledger import Ledger, LedgerLocation
    from genai_provenance.clearances.revocations import RevocationList, RevocationStatus
    from genai_provenance.policy.rules import AssetFacts, Evaluation, Policy

INTENDED_DECLARED = IntendedUseSource.DECLARED
INTENDED_OVERRIDE = IntendedUseSource.OVERRIDE
INTENDED_ASSUMED = IntendedUseSource.ASSUMED


@dataclass
class ClearanceSource:
    """Where referenced clearances are looked up and who may issue them."""

    approver_anchors: list[x509.Certificate] = field(default_factory=list)
    ledger: Ledger | None = None
    revocation_list: RevocationList | None = None  # verified and fresh (--revocations, or the imported one)
    list_problem: str | None = None  # why the workspace's imported list could not be used
    tsa_anchors: list[x509.Certificate] | None = None  # roots for records' RFC 3161 time-stamps, when configured

    def revocation_status(self, ref: str, envelope: dict[str, Any] | None = None) -> RevocationStatus:
        """Is `ref` revoked, according to every trustworthy source? Fail closed: none, not checked.

        A ledger or revocation list speaks only for records issued under the approver root that its
        signer is under (a QC desk's own ledger says nothing about a studio's revocations)."""
        from genai_provenance.clearances.revocations import RevocationStatus, record_root

        sources: list[str] = []
        problems: list[str] = []
        revocation: dict[str, Any] | None = None
        as_of: str | None = None
        issuer_root = record_root(envelope, self.approver_anchors) if envelope is not None else None
        head = self.ledger.integrity.head if self.ledger is not None else None
        if self.ledger is None:
            problems.append("no ledger available")
        elif (problem := self.ledger.revocation_problem()) is not None:
            problems.append(problem)
        elif head is not None and issuer_root is not None and head.root != issuer_root:
            problems.append(f"ledger {self.ledger.path} is kept under {head.root}, not the issuer's {issuer_root}")
            revocation = self.ledger.revocation_for(ref)  # a signed revocation still counts
        else:
            sources.append(self.ledger.describe() or str(self.ledger.path))
            revocation = self.ledger.revocation_for(ref)
        listed = self.revocation_list
        if listed is not None and issuer_root is not None and listed.root != issuer_root:
            problems.append(
                f"revocation list {listed.path} is signed under {listed.root}, not the issuer's {issuer_root}"
            )
            revocation = revocation or listed.revoked.get(ref)  # a signed revocation still counts
            listed = None
        if listed is not None:
            sources.append(listed.describe())
            revocation = revocation or listed.revoked.get(ref)
            as_of = None if len(sources) > 1 else listed.issued_at
        elif self.list_problem:
            problems.append(self.list_problem)
        if not sources:
            return RevocationStatus(False, None, why_not="; ".join(problems))
        return RevocationStatus(True, "; ".join(sources), revocation, as_of=as_of)


def _lookup(report: AssetReport, source: ClearanceSource, ref: str) -> tuple[dict[str, Any] | None, str | None]:
    if ref in report.embedded_clearances:
        return report.embedded_clearances[ref], "embedded"
    if source.ledger is not None:
        entry = source.ledger.get(ref)
        if entry is not None:
            return entry.envelope, "ledger"
    return None, None


def check_clearances(
    report: AssetReport, path: Path, source: ClearanceSource, content_hash: Callable[[], str] | None = None
) -> tuple[ClearanceCheck, ...]:
    """Assess every approval and consent ID that any stage's disclosure references.

    `content_hash`: the asset's `sha256:` (default: of the file at `path`; a sequence's is its record's)."""
    checks: list[ClearanceCheck] = []
    content_hash = content_hash or file_hash(path)
    for info in report.manifests:
        if info.disclosure is None:
            continue
        asset = info.disclosure.asset
        for use in info.disclosure.uses:
            if not use.approvals and not use.consents:
                continue
            from genai_provenance.clearances.records import UseContext, assess  # only for an asset that cites one

            ctx = UseContext(asset.production, asset.asset_id, use.category, content_hash)
            for kind, refs in (("approval", use.approvals), ("consent", use.consents)):
                for ref in refs:
                    envelope, where = _lookup(report, source, ref)
                    revoked = source.revocation_status(ref, envelope)
                    check = assess(
                        ref,
                        kind,
                        envelope,
                        ctx,
                        anchors=source.approver_anchors,
                        revocation=revoked.revocation,
                        source=where,
                        tsa_anchors=source.tsa_anchors,
                    )
                    check.revocation_checked, check.revocation_source = revoked.checked, revoked.source
                    if check.ok and not revoked.checked:
                        check.detail += f" (revocation not checked: {revoked.why_not})"
                    elif check.ok and revoked.as_of:
                        check.detail += f"; not revoked as of {revoked.as_of}"
                    check.manifest, check.use = info.label, use.index
                    checks.append(check)
    return tuple(checks)


def _stage(info: ManifestInfo) -> tuple[str | None, str | None]:
    return info.title, info.signer.common_name if info.signer else None


def asset_facts(
    report: AssetReport, clearances: Sequence[ClearanceCheck], policy: Policy, intended_use: str | None
) -> tuple[AssetFacts, str]:
    """The facts the policy judges: every GenAI use at every stage, with its clearance checks."""
    from genai_provenance.policy.rules import AssetFacts, UseFacts
    from genai_provenance.policy.signer_pins import listed

    active = report.manifest(report.active_manifest)
    top = active.disclosure.asset if active is not None and active.disclosure is not None else None
    if intended_use:
        use_of_asset, why = intended_use, INTENDED_OVERRIDE
    elif top is not None and top.intended_use:
        use_of_asset, why = top.intended_use, INTENDED_DECLARED
    else:
        use_of_asset, why = policy.assume_intended_use, INTENDED_ASSUMED
    non_fiction = any(m.disclosure is not None and m.disclosure.asset.non_fiction for m in report.manifests)
    asset_id, production = (top.asset_id, top.production) if top is not None else (None, None)
    facts = AssetFacts(report.path, report.status, use_of_asset, non_fiction, asset_id, production)
    facts.history_problems = list(report.history_problems)
    facts.malformed_disclosures = [
        f"stage {info.title or info.label}: content under the disclosure label breaks the disclosure schema"
        for info in report.manifests
        if info.disclosure_malformed
    ]
    facts.signer_listed = listed(policy.signers, report.signer, production)
    for info in report.manifests:
        stage, signer = _stage(info)
        stage_asset = info.disclosure.asset if info.disclosure is not None else None
        for use in info.genai_uses:
            facts_use = UseFacts(
                info.label,
                stage,
                signer,
                use.evidence.text,
                use.certainty,
                use.declared,
                use.tool,
                use.description,
                use.category,
                use.source_type,
                use_index=use.use_index,
                asset_id=stage_asset.asset_id if stage_asset is not None else None,
                production=stage_asset.production if stage_asset is not None else None,
            )
            declared = use.declared_use
            if declared is not None:
                facts_use.input_kinds = [i.kind for i in declared.inputs]
                facts_use.data_handling = declared.data_handling.declared() if declared.data_handling else {}
                facts_use.clearances = [c for c in clearances if c.manifest == info.label and c.use == declared.index]
            facts.uses.append(facts_use)
    return facts, why


@dataclass(frozen=True)
class AssetVerdict:
    """What checking one asset found: its report, its clearances, and the policy's evaluation."""

    report: AssetReport
    clearances: tuple[ClearanceCheck, ...]
    intended_use: str
    intended_use_source: str
    evaluation: Evaluation
    checked_on: str = CHECKED_LOCALLY  # where its credentials were read: "local" or a cluster worker's address

    @property
    def blocked(self) -> bool:
        return self.evaluation.blocked

    def report_dict(self) -> dict[str, Any]:
        """The verification part of the report as JSON, with its clearances."""
        return self.report.to_dict(self.clearances)


@dataclass
class CheckSettings:
    trust: TrustSettings
    policy: Policy
    clearances: ClearanceSource
    intended_use: str | None = None


def verdict_for(
    report: AssetReport, path: Path, settings: CheckSettings, content_hash: Callable[[], str] | None = None
) -> AssetVerdict:
    from genai_provenance.clearances.waivers import apply_waivers
    from genai_provenance.policy.rules import evaluate

    content_hash = content_hash or file_hash(path)
    clearances = check_clearances(report, path, settings.clearances, content_hash)
    facts, why = asset_facts(report, clearances, settings.policy, settings.intended_use)
    evaluation = evaluate(settings.policy, facts)
    apply_waivers(evaluation, facts, content_hash, settings.clearances, settings.policy)
    if report.signer is not None:  # the verdict's report says whether its signer is on the list (a copy)
        report = dataclasses.replace(report, signer=dataclasses.replace(report.signer, pinned=facts.signer_listed))
    return AssetVerdict(report, clearances, facts.intended_use, why, evaluation)


def verify_assets(
    paths: Iterable[Path] | Discovery, trust: TrustSettings, source: ClearanceSource
) -> list[CheckedAsset]:
    """`verify`: credentials of every file, plus the state of every clearance they reference."""
    context = trust.context()
    reports = []
    for target in as_discovery(paths).targets():
        found = verify_target(target, context, trust)
        path = Path(found.report.path)
        reports.append(CheckedAsset(found.report, check_clearances(found.report, path, source, found.content_hash)))
    return reports


def check_paths(paths: Iterable[Path] | Discovery, settings: CheckSettings) -> list[AssetVerdict]:
    context = settings.trust.context()
    out = []
    for target in as_discovery(paths).targets():
        found = verify_target(target, context, settings.trust)
        out.append(verdict_for(found.report, Path(found.report.path), settings, found.content_hash))
    return out


@dataclass(frozen=True)
class CheckConfig:
    """A picklable description of CheckSettings, so worker processes can build their own."""

    trust_pem: str | None
    approver_pem: str | None
    ledger_path: str | None
    policy_path: str | None
    intended_use: str | None = None
    allow_remote: bool = False
    packager_pem: str | None = None  # roots trusted to sign package reports (verify-package)
    trust: TrustSettings | None = None  # the full media trust settings (else built from trust_pem)
    signers_path: str | None = None  # a --signers file (replaces the policy's signer list)
    revocations_path: str | None = None  # a revocation list already verified by the caller
    revocations_digest: str | None = None  # its digest then: a worker reading another list refuses it
    list_problem: str | None = None
    tsa_pem: str | None = None  # TSA roots for clearance time-stamps
    ledger_guard: str | None = None  # the ledger's rollback-guard file (else beside an SQLite ledger)

    def _ledger_location(self) -> LedgerLocation:
        from genai_provenance.clearances.ledger_store import LedgerLocation

        location = LedgerLocation.sqlite(Path(self.ledger_path or ""))
        if self.ledger_guard:
            location = LedgerLocation(self.ledger_path or "", Path(self.ledger_guard))
        return location

    def policy(self) -> Policy:
        """The policy (with its --signers list) these settings judge by."""
        from genai_provenance.policy.rules import load_policy

        return load_policy(
            Path(self.policy_path) if self.policy_path else None, Path(self.signers_path) if self.signers_path else None
        )

    def clearance_source(self) -> ClearanceSource:
        """Approver roots, the ledger (opened here), the revocation list and TSA roots: what `verify` needs."""
        from cryptography import x509

        anchors = x509.load_pem_x509_certificates(self.approver_pem.encode()) if self.approver_pem else []
        tsa = x509.load_pem_x509_certificates(self.tsa_pem.encode()) if self.tsa_pem else None
        ledger = None
        if self.ledger_path:
            from genai_provenance.clearances.ledger import Ledger

            ledger = Ledger(self._ledger_location(), anchors, tsa_anchors=tsa)
        listed = None
        if self.revocations_path:
            from genai_provenance.clearances.revocations import RevocationListError, read_list

            listed = read_list(Path(self.revocations_path), anchors, tsa_anchors=tsa)
            if listed.digest != self.revocations_digest:  # replaced (by an older list?) since the caller checked it
                raise RevocationListError(
                    f"{self.revocations_path}: revocation list changed while checking; nothing was judged, run again"
                )
        return ClearanceSource(anchors, ledger, listed, self.list_problem, tsa)

    def media_trust(self) -> TrustSettings:
        """The media trust settings as given (the policy's signer pins aside)."""
        return self.trust or TrustSettings(self.trust_pem, self.allow_remote)

    def build(self, clearances: ClearanceSource | None = None) -> CheckSettings:
        """The full settings of `check`: the policy too (`clearances`: an already opened source, else opened)."""
        from genai_provenance.policy.signer_pins import needs_fingerprints

        clearances = clearances or self.clearance_source()
        policy = self.policy()
        return CheckSettings(
            dataclasses.replace(self.media_trust(), read_certificates=needs_fingerprints(policy.signers)),
            policy,
            clearances,
            self.intended_use,
        )
