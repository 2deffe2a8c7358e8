"""Signed clearance records: written approvals, talent consents and their revocations.

A record is JSON signed by an approver identity; the chain must end in an approver root that is
configured apart from the media-signing trust anchors. Any change to the record breaks it.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from genai_provenance.clearances.timestamps import (
    BACKDATE_TOLERANCE,
    BadTimeStamp,
    TimeStamp,
    request_token,
    verify_token,
)
from genai_provenance.credentials.identity import Identity, name_attr
from genai_provenance.errors import InputError, SchemaError
from genai_provenance.model.provenance import ClearanceCheck
from genai_provenance.model.vocabulary import ClearanceStatus, MatchedBy
from genai_provenance.schemas import validate
from genai_provenance.trust.detached import BadSignature, chain_problem, sign_bytes, verify_bytes

if TYPE_CHECKING:
    from genai_provenance.credentials.hsm import TokenIdentity

FORMAT = "genai-provenance/signed-record/v1"

VALID = ClearanceStatus.VALID
EXPIRED = ClearanceStatus.EXPIRED
REVOKED = ClearanceStatus.REVOKED
ISSUER_UNTRUSTED = ClearanceStatus.ISSUER_UNTRUSTED
OUT_OF_SCOPE = ClearanceStatus.OUT_OF_SCOPE
NOT_COVERED = ClearanceStatus.NOT_COVERED
FORGED = ClearanceStatus.FORGED
MISSING = ClearanceStatus.MISSING
WRONG_KIND = ClearanceStatus.WRONG_KIND


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def canonical(record: dict[str, Any]) -> bytes:
    """The exact bytes a signature covers."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_record(record: dict[str, Any], identity: Identity | TokenIdentity) -> dict[str, Any]:
    """Wrap `record` in a signed envelope. The issuer is taken from the identity's certificate."""
    cert = identity.certificate
    record = dict(record)
    record["issuer"] = {
        "common_name": name_attr(cert.subject, NameOID.COMMON_NAME) or cert.subject.rfc4514_string(),
        "organisation": name_attr(cert.subject, NameOID.ORGANIZATION_NAME),
    }
    record.setdefault("issued_at", iso(now_utc()))
    validate("clearance#/$defs/record", record, f"record {record.get('id')}")
    envelope: dict[str, Any] = {
        "format": FORMAT,
        "record": record,
        "signature": sign_bytes(canonical(record), identity),
    }
    if identity.tsa_url:  # the issue time cannot be backdated: a TSA vouches the signature existed then
        envelope["timestamp"] = {"token": request_token(identity.tsa_url, signature_value(envelope["signature"]))}
    return envelope


def signature_value(block: dict[str, Any]) -> bytes:
    """The signature bytes a time-stamp covers."""
    return base64.b64decode(str(block.get("value", "")))


def check_time_stamp(
    holder: dict[str, Any], claimed: str | None, tsa_anchors: list[x509.Certificate] | None = None
) -> TimeStamp | None:
    """Verify `holder`'s time-stamp (if any) over its signature (and its TSA against `tsa_anchors`,
    when configured); a claimed time before it is backdated."""
    if "timestamp" not in holder:
        return None
    stamp = verify_token(holder["timestamp"]["token"], signature_value(holder["signature"]), tsa_anchors)
    if claimed and parse_time(claimed) < stamp.time - BACKDATE_TOLERANCE:
        raise BadTimeStamp(f"backdated: claims {claimed}, but was time-stamped {iso(stamp.time)} by {stamp.tsa}")
    return stamp


@dataclass
class Authenticity:
    """Whether an envelope is genuine: signature intact, issuer under an approver root."""

    status: ClearanceStatus  # valid | forged | issuer-untrusted
    detail: str = ""
    time_stamp: TimeStamp | None = None


def authenticate(
    envelope: Any, approver_anchors: list[x509.Certificate], tsa_anchors: list[x509.Certificate] | None = None
) -> Authenticity:
    """Check an envelope's form, signature and chain. Never raises for bad input."""
    try:
        validate("clearance", envelope, "record")
    except SchemaError as exc:
        return Authenticity(FORGED, f"malformed record ({exc})")
    record = envelope["record"]
    try:
        certs = verify_bytes(envelope["signature"], canonical(record))
    except BadSignature as exc:
        return Authenticity(FORGED, str(exc).replace("the data", "the record"))
    leaf = certs[0]
    issuer = record.get("issuer") or {}
    if issuer.get("common_name") != name_attr(leaf.subject, NameOID.COMMON_NAME):
        return Authenticity(FORGED, "issuer named in the record is not the certificate that signed it")
    try:
        issued = parse_time(record["issued_at"])
    except ValueError:
        return Authenticity(FORGED, "record carries an unreadable issued_at time")
    if not leaf.not_valid_before_utc <= issued <= leaf.not_valid_after_utc:
        return Authenticity(ISSUER_UNTRUSTED, "record was issued outside the approver certificate's validity")
    problem = chain_problem(certs, approver_anchors, issued)  # the whole chain, as it stood when issued
    if problem:
        return Authenticity(ISSUER_UNTRUSTED, f"issuer {problem.replace('trusted roots', 'approver roots')}")
    try:
        stamp = check_time_stamp(envelope, record["issued_at"], tsa_anchors)
    except BadTimeStamp as exc:
        return Authenticity(FORGED, f"time-stamp: {exc}")
    return Authenticity(VALID, time_stamp=stamp)


@dataclass(frozen=True)
class UseContext:
    """What a clearance must fit: the stage's production and asset, the use's category."""

    production: str
    asset_id: str
    category: str | None
    content_hash: Callable[[], str] | None = None  # sha256 of the delivered file, computed on demand


def scope_match(record: dict[str, Any], ctx: UseContext) -> MatchedBy | None:
    """How the record's scope covers the asset: by its content, by its declared asset ID, or not at all.

    Content hashes, when the record lists any, limit it to those exact files (`--content-hash`): the
    asset ID is a label the asset's own signer chose, so it never widens a record limited to bytes.
    Asset IDs the record lists must match as well. Reports say which kind of match cleared."""
    if record.get("production") != ctx.production:
        return None
    scope = record.get("scope") or {}
    ids, hashes_in_scope = scope.get("asset_ids") or [], scope.get("content_hashes") or []
    id_matches = any(fnmatch.fnmatchcase(ctx.asset_id, pattern) for pattern in ids)
    if hashes_in_scope:
        hash_matches = ctx.content_hash is not None and ctx.content_hash() in hashes_in_scope
        return MatchedBy.CONTENT_HASH if hash_matches and (id_matches or not ids) else None
    return MatchedBy.ASSET_ID if id_matches else None


def assess(
    ref: str,
    kind: str,
    envelope: dict[str, Any] | None,
    ctx: UseContext,
    *,
    anchors: list[x509.Certificate],
    revocation: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
    source: str | None = None,
    tsa_anchors: list[x509.Certificate] | None = None,
) -> ClearanceCheck:
    """Check one referenced clearance against the use that cites it."""
    check = ClearanceCheck(ref, kind, MISSING, "", category=ctx.category, source=source)
    if envelope is None:
        check.detail = f"{kind} {ref} is referenced but was not found: not embedded, not in the ledger"
        return check
    auth = authenticate(envelope, anchors, tsa_anchors)
    record = envelope.get("record") or {}
    check.covers = list(record.get("covers") or [])
    check.issuer = (record.get("issuer") or {}).get("common_name")
    check.expires_at = record.get("expires_at")
    check.talent = record.get("talent")
    if auth.status != VALID:
        check.status, check.detail = auth.status, auth.detail
        return check
    if record.get("id") != ref:
        check.status, check.detail = FORGED, f"record carries id {record.get('id')!r}, not {ref!r}"
        return check
    if record["kind"] != kind:
        check.status, check.detail = WRONG_KIND, f"{ref} is listed under {kind}s but is of kind {record['kind']}"
        return check
    if revocation is not None:
        why = (revocation.get("record") or {}).get("reason", "")
        when = (revocation.get("record") or {}).get("issued_at", "")
        check.status, check.detail = REVOKED, f"revoked {when}: {why}".strip()
        return check
    moment = at or now_utc()
    if record.get("expires_at") and parse_time(record["expires_at"]) < moment:
        check.status, check.detail = EXPIRED, f"expired {record['expires_at']}"
        return check
    matched_by = scope_match(record, ctx)
    if matched_by is None:
        check.status = OUT_OF_SCOPE
        check.detail = (
            f"covers production {record.get('production')} assets "
            f"{', '.join((record.get('scope') or {}).get('asset_ids') or []) or '(by hash)'}, "
            f"not {ctx.production} {ctx.asset_id}"
        )
        return check
    if ctx.category and ctx.category not in check.covers:
        check.status = NOT_COVERED
        check.detail = f"covers {', '.join(check.covers)}, not {ctx.category}"
        return check
    check.status, check.detail = VALID, f"issued by {check.issuer}; covers {', '.join(check.covers)}"
    check.matched_by = matched_by
    if matched_by == MatchedBy.ASSET_ID:
        check.detail += f"; applies by the asset ID the asset declares ({ctx.asset_id}), not by its content"
    else:
        check.detail += "; applies to this content (its SHA-256 is in the record)"
    if auth.time_stamp:
        check.detail += f"; time-stamped {iso(auth.time_stamp.time)} by {auth.time_stamp.tsa}"
    return check


def revocation_target(envelope: dict[str, Any]) -> str | None:
    record = envelope.get("record") or {}
    return record.get("revokes") if record.get("kind") == "revocation" else None


def load_anchors(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def parse_expiry(text: str) -> dt.datetime:
    """`2027-03-31` (end of that day, UTC) or an ISO 8601 date-time."""
    try:
        if len(text) == 10:
            moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(23, 59, 59), tzinfo=dt.UTC)
        else:
            moment = parse_time(text)
    except ValueError:
        raise InputError(f"--expires: {text!r} is not a date (YYYY-MM-DD) or ISO date-time") from None
    if moment <= now_utc():
        raise InputError(f"--expires: {text} is in the past; a clearance must expire after it is granted")
    return moment
