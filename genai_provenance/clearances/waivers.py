"""Signed policy waivers: a rule lifted for named assets of one production, for a reason, until a date.

A waiver is a clearance record of kind `waiver` (same envelope, approver identity, hash-chained
ledger, revocations and bundles as approvals). It is never embedded in media: checks read waivers
from the ledger (granted there, or imported). Matching, strongest first:

- content-hash: the file's SHA-256 is listed (`--content-hash`); the only form that names bytes.
- asset-id: the asset's declared asset ID fits a pattern, and its declared production matches;
  trusted only when the asset's credentials are trusted (anyone can write a disclosure).
- file-name: otherwise an `--asset` pattern can only match the file name, and reports say so.

Expired, revoked, forged and untrusted waivers do not apply; for a final deliverable a waiver whose
revocation cannot be checked does not apply either (fail closed). A rule with `waivable: false`
cannot be waived: refused at grant, ignored with a note at check.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Final

from genai_provenance.clearances.ledger import Ledger, LedgerError, import_document
from genai_provenance.clearances.records import VALID, authenticate, iso, now_utc, parse_time, sign_record
from genai_provenance.errors import InputError
from genai_provenance.model.vocabulary import MatchedBy
from genai_provenance.policy.rules import AssetFacts, Evaluation, Finding, Policy, Waived, WaiverNote

if TYPE_CHECKING:
    from genai_provenance.credentials.hsm import TokenIdentity
    from genai_provenance.credentials.identity import Identity
    from genai_provenance.gate.check import ClearanceSource

KIND: Final = "waiver"
HASH_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")


MATCH_WORDS = {
    MatchedBy.CONTENT_HASH: "by the file's SHA-256 content hash",
    MatchedBy.ASSET_ID: "by its declared asset ID and production",
    MatchedBy.FILE_NAME: "by file name only (no trusted asset ID)",
}


@dataclass(frozen=True)
class WaiverGrant:
    """What an approver grants: rule, production, assets or exact files, reason, expiry."""

    id: str
    rule: str
    production: str
    assets: tuple[str, ...]
    content_hashes: tuple[str, ...]
    reason: str
    expires: dt.datetime


@dataclass(frozen=True)
class Waiver:
    """A waiver record read back from the ledger."""

    id: str
    rule: str
    production: str
    asset_ids: tuple[str, ...]
    content_hashes: tuple[str, ...]
    reason: str
    expires_at: str
    issuer: str | None
    envelope: dict[str, Any]

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> Waiver:
        record = envelope["record"]
        scope = record.get("scope") or {}
        return cls(
            str(record["id"]),
            str(record.get("rule", "")),
            str(record.get("production", "")),
            tuple(scope.get("asset_ids") or ()),
            tuple(scope.get("content_hashes") or ()),
            str(record.get("reason", "")),
            str(record.get("expires_at") or ""),
            (record.get("issuer") or {}).get("common_name"),
            envelope,
        )


def check_grant(request: WaiverGrant, policy: Policy) -> None:
    """Refuse a waiver the policy does not allow (an unknown or non-waivable rule) or that names nothing."""
    rule = next((r for r in policy.rules if r.id == request.rule), None)
    if rule is None:
        raise InputError(f"--rule: {request.rule} is not a rule of policy {policy.name!r}")
    if not rule.waivable:
        raise InputError(f"--rule: {request.rule} cannot be waived ({rule.title}); fix the asset instead")
    if not request.assets and not request.content_hashes:
        raise InputError("a waiver needs --asset or --content-hash")
    bad = [h for h in request.content_hashes if not HASH_PATTERN.match(h)]
    if bad:
        raise InputError(f"--content-hash: {bad[0]!r} is not sha256:<64 lowercase hex digits>")
    if not request.reason.strip():
        raise InputError("--reason: must say why the rule is waived")


def grant_waiver(
    ledger: Ledger, request: WaiverGrant, identity: Identity | TokenIdentity, policy: Policy
) -> dict[str, Any]:
    """Sign and store a waiver the policy allows."""
    check_grant(request, policy)
    if ledger.get(request.id) is not None:
        raise LedgerError(f"{request.id}: already in the ledger {ledger.path}")
    scope: dict[str, Any] = {}
    if request.assets:
        scope["asset_ids"] = list(request.assets)
    if request.content_hashes:
        scope["content_hashes"] = list(dict.fromkeys(request.content_hashes))
    record = {
        "id": request.id,
        "kind": KIND,
        "rule": request.rule,
        "production": request.production,
        "scope": scope,
        "reason": request.reason,
        "issued_at": iso(now_utc()),
        "expires_at": iso(request.expires),
    }
    envelope = sign_record(record, identity)
    try:
        ledger.add(envelope, request.id, identity)
    except sqlite3.IntegrityError:
        raise LedgerError(_OLD_LEDGER.format(path=ledger.path)) from None
    return envelope


def import_waivers(
    ledger: Ledger, document: Any, source: str, signer: Identity | TokenIdentity | None = None
) -> list[str]:
    """Verify and store a waiver file (a bundle or one envelope): waivers and their revocations only."""
    records = document.get("records") if isinstance(document, dict) else None
    envelopes = records if isinstance(records, list) else [document]
    kinds = {((e.get("record") or {}).get("kind") if isinstance(e, dict) else None) for e in envelopes}
    if not kinds <= {KIND, "revocation"}:
        raise InputError(f"{source}: not a waiver (holds {', '.join(sorted(str(k) for k in kinds - {KIND}))})")
    try:
        return import_document(ledger, document, source, signer)
    except sqlite3.IntegrityError:
        raise LedgerError(_OLD_LEDGER.format(path=ledger.path)) from None


_OLD_LEDGER = (
    "{path}: created before waivers existed (it refuses kind 'waiver'); "
    "re-create it: move it away, then grant or import the records again"
)


@dataclass(frozen=True)
class Subject:
    """What a waiver is matched against: one asset, as checked."""

    path: str  # the display path (relative in a folder)
    status: str | None
    production: str | None
    asset_id: str | None
    content_hash: Callable[[], str]


def subject_of(facts: AssetFacts, content_hash: Callable[[], str]) -> Subject:
    return Subject(facts.path, facts.status, facts.production, facts.asset_id, content_hash)


def match(waiver: Waiver, subject: Subject, finding: Finding) -> MatchedBy | None:
    """How `waiver` names this asset for this finding, or None."""
    if waiver.rule != finding.rule_id:
        return None
    if subject.production is not None and waiver.production != subject.production:
        return None
    if waiver.content_hashes and subject.content_hash() in waiver.content_hashes:
        return MatchedBy.CONTENT_HASH
    if subject.status == "trusted" and subject.production is not None:
        if subject.asset_id and any(fnmatch.fnmatchcase(str(subject.asset_id), p) for p in waiver.asset_ids):
            return MatchedBy.ASSET_ID
        return None
    name = PurePosixPath(subject.path.replace("\\", "/")).name
    if any(fnmatch.fnmatchcase(name, p) for p in waiver.asset_ids):
        return MatchedBy.FILE_NAME
    return None


def _unusable(
    waiver: Waiver, policy: Policy, source: ClearanceSource, final: bool, moment: dt.datetime
) -> tuple[str | None, str]:
    """Why the waiver cannot apply (None: it can), and a note to keep when it does."""
    rule = next((r for r in policy.rules if r.id == waiver.rule), None)
    if rule is not None and not rule.waivable:
        return f"{waiver.rule} cannot be waived (waivable: false in policy {policy.name!r}); waiver ignored", ""
    auth = authenticate(waiver.envelope, source.approver_anchors, source.tsa_anchors)
    if auth.status != VALID:
        return f"{auth.status}: {auth.detail}", ""
    try:
        expired = parse_time(waiver.expires_at) < moment
    except ValueError:
        return f"unreadable expiry {waiver.expires_at!r}", ""
    if expired:
        return f"expired {waiver.expires_at}", ""
    status = source.revocation_status(waiver.id, waiver.envelope)
    if status.revocation is not None:
        record = status.revocation.get("record") or {}
        return f"revoked {record.get('issued_at', '')}: {record.get('reason', '')}".strip(), ""
    if not status.checked:
        if final:
            return f"revocation could not be checked ({status.why_not}), so it cannot lift a final deliverable", ""
        return None, f"revocation not checked: {status.why_not}"
    return None, f"not revoked as of {status.as_of}" if status.as_of else f"revocation checked against {status.source}"


def ledger_waivers(source: ClearanceSource) -> list[Waiver]:
    """Every waiver in the workspace ledger (granted there or imported)."""
    if source.ledger is None:
        return []
    return [Waiver.from_envelope(e.envelope) for e in source.ledger.entries(KIND)]


def apply_waivers(
    evaluation: Evaluation,
    facts: AssetFacts,
    content_hash: Callable[[], str],
    source: ClearanceSource,
    policy: Policy,
    at: dt.datetime | None = None,
    waivers: list[Waiver] | None = None,
) -> None:
    """Move the findings that a usable waiver names into `evaluation.waived`; note the ones that fit but fail.

    `at` is the moment expiry is judged at (default now)."""
    if not evaluation.findings:
        return
    found = ledger_waivers(source) if waivers is None else waivers
    if not found:
        return
    moment = at or now_utc()
    subject = subject_of(facts, content_hash)
    final = facts.intended_use == "final"
    kept: list[Finding] = []
    noted: set[tuple[str, str]] = set()
    for finding in evaluation.findings:
        lifted: Waived | None = None
        for waiver in found:
            how = match(waiver, subject, finding)
            if how is None:
                continue
            why_not, detail = _unusable(waiver, policy, source, final, moment)
            if why_not is None and final and how == MatchedBy.FILE_NAME:
                # Anyone can name a file anything: for a final deliverable only the file's content (its
                # hash) or trusted credentials (the asset ID) identify what was waived. Fail closed.
                why_not = "matches only by file name, which does not identify a final deliverable (use --content-hash)"
            if why_not is not None:
                if (waiver.id, finding.rule_id) not in noted:
                    noted.add((waiver.id, finding.rule_id))
                    evaluation.waiver_notes.append(WaiverNote(waiver.id, finding.rule_id, why_not))
                continue
            lifted = Waived(
                finding.rule_id,
                finding.severity,
                finding.title,
                finding.evidence,
                waiver.id,
                waiver.reason,
                waiver.expires_at,
                waiver.issuer,
                str(how),
                f"matched {MATCH_WORDS[how]}; {detail}" if detail else f"matched {MATCH_WORDS[how]}",
            )
            break
        if lifted is None:
            kept.append(finding)
        else:
            evaluation.waived.append(lifted)
    evaluation.findings = kept
