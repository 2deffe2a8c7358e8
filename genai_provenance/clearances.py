"""Signed clearance records: written approvals, talent consents and their revocations.

A record is JSON signed by an approver identity; the chain must end in an approver root that is
configured apart from the media-signing trust anchors. Any change to the record breaks it.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from genai_provenance.errors import InputError, SchemaError
from genai_provenance.provenance import ClearanceCheck
from genai_provenance.schemas import validate
from genai_provenance.signing import Identity, name_attr

FORMAT = "genai-provenance/signed-record/v1"
FINAL_DELIVERABLE = "final-deliverable"

VALID = "valid"
EXPIRED = "expired"
REVOKED = "revoked"
ISSUER_UNTRUSTED = "issuer-untrusted"
OUT_OF_SCOPE = "out-of-scope"
NOT_COVERED = "category-not-covered"
FORGED = "forged"
MISSING = "missing"
WRONG_KIND = "wrong-kind"
CLEARANCE_STATUSES = (VALID, EXPIRED, REVOKED, ISSUER_UNTRUSTED, OUT_OF_SCOPE, NOT_COVERED, FORGED, MISSING, WRONG_KIND)

_ALGS = {"es256": "ES256", "es384": "ES384", "es512": "ES512", "ps256": "PS256", "ed25519": "Ed25519"}
_HASHES = {"ES256": hashes.SHA256(), "ES384": hashes.SHA384(), "ES512": hashes.SHA512(), "PS256": hashes.SHA256()}


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


def sign_record(record: dict[str, Any], identity: Identity) -> dict[str, Any]:
    """Wrap `record` in a signed envelope. The issuer is taken from the identity's certificate."""
    cert = identity.certificate
    record = dict(record)
    record["issuer"] = {
        "common_name": name_attr(cert.subject, NameOID.COMMON_NAME) or cert.subject.rfc4514_string(),
        "organisation": name_attr(cert.subject, NameOID.ORGANIZATION_NAME),
    }
    record.setdefault("issued_at", iso(now_utc()))
    validate("clearance#/$defs/record", record, f"record {record.get('id')}")
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    alg = _ALGS[identity.alg]
    data = canonical(record)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        value = key.sign(data, ec.ECDSA(_HASHES[alg]))
    elif isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        value = key.sign(data)
    else:  # pragma: no cover - load_identity refuses other key types
        raise InputError(f"unsupported approver key type {type(key).__name__}")
    chain = [c.decode() for c in _split_pem(identity.chain_pem)]
    return {
        "format": FORMAT,
        "record": record,
        "signature": {"alg": alg, "certificates": chain, "value": base64.b64encode(value).decode()},
    }


def _split_pem(chain: bytes) -> list[bytes]:
    return [c.public_bytes(serialization.Encoding.PEM) for c in x509.load_pem_x509_certificates(chain)]


@dataclass
class Authenticity:
    """Whether an envelope is genuine: signature intact, issuer under an approver root."""

    status: str  # valid | forged | issuer-untrusted
    detail: str = ""


def _verify_signature(cert: x509.Certificate, alg: str, value: bytes, data: bytes) -> None:
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and alg.startswith("ES"):
        key.verify(value, data, ec.ECDSA(_HASHES[alg]))
    elif isinstance(key, rsa.RSAPublicKey) and alg == "PS256":
        key.verify(value, data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    elif isinstance(key, ed25519.Ed25519PublicKey) and alg == "Ed25519":
        key.verify(value, data)
    else:
        raise InvalidSignature(f"algorithm {alg} does not fit the certificate's key")


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def authenticate(envelope: Any, approver_anchors: list[x509.Certificate]) -> Authenticity:
    """Check an envelope's form, signature and chain. Never raises for bad input."""
    try:
        validate("clearance", envelope, "record")
    except SchemaError as exc:
        return Authenticity(FORGED, f"malformed record ({exc})")
    sig, record = envelope["signature"], envelope["record"]
    try:
        certs = [x509.load_pem_x509_certificate(pem.encode()) for pem in sig["certificates"]]
        value = base64.b64decode(sig["value"], validate=True)
    except ValueError as exc:
        return Authenticity(FORGED, f"unreadable signature block ({exc})")
    leaf = certs[0]
    try:
        _verify_signature(leaf, sig["alg"], value, canonical(record))
    except InvalidSignature:
        return Authenticity(FORGED, "signature does not match the record: it was altered or forged")
    issuer = record.get("issuer") or {}
    if issuer.get("common_name") != name_attr(leaf.subject, NameOID.COMMON_NAME):
        return Authenticity(FORGED, "issuer named in the record is not the certificate that signed it")
    for child, parent in itertools.pairwise(certs):
        if not _issued_by(child, parent):
            return Authenticity(ISSUER_UNTRUSTED, "certificate chain is broken")
    top = certs[-1]
    if not any(top == anchor or _issued_by(top, anchor) for anchor in approver_anchors):
        who = name_attr(top.issuer, NameOID.COMMON_NAME) or top.issuer.rfc4514_string()
        return Authenticity(ISSUER_UNTRUSTED, f"issuer chain ends at {who!r}, which is not an approver root")
    issued = parse_time(record["issued_at"])
    if not leaf.not_valid_before_utc <= issued <= leaf.not_valid_after_utc:
        return Authenticity(ISSUER_UNTRUSTED, "record was issued outside the approver certificate's validity")
    return Authenticity(VALID)


@dataclass(frozen=True)
class UseContext:
    """What a clearance must fit: the stage's production and asset, the use's category."""

    production: str
    asset_id: str
    category: str | None
    content_hash: Callable[[], str] | None = None  # sha256 of the delivered file, computed on demand


def in_scope(record: dict[str, Any], ctx: UseContext) -> bool:
    if record.get("production") != ctx.production:
        return False
    scope = record.get("scope") or {}
    if any(fnmatch.fnmatchcase(ctx.asset_id, pattern) for pattern in scope.get("asset_ids") or []):
        return True
    hashes_in_scope = scope.get("content_hashes") or []
    return bool(hashes_in_scope and ctx.content_hash and ctx.content_hash() in hashes_in_scope)


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
) -> ClearanceCheck:
    """Check one referenced clearance against the use that cites it."""
    check = ClearanceCheck(ref, kind, MISSING, "", category=ctx.category, source=source)
    if envelope is None:
        check.detail = f"{kind} {ref} is referenced but was not found (not embedded, not in the ledger)"
        return check
    auth = authenticate(envelope, anchors)
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
        check.status, check.detail = WRONG_KIND, f"{ref} is a {record['kind']}, referenced as a {kind}"
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
    if not in_scope(record, ctx):
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
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)
        return parse_time(text)
    except ValueError:
        raise InputError(f"--expires: {text!r} is not a date (YYYY-MM-DD) or ISO date-time") from None
