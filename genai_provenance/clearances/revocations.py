"""Signed offline revocation lists (like a CRL), and how a clearance's revocation is checked.

Studio legal exports every revocation in the ledger, signed by the approver identity with an
issue time, a next-update time and a sequence number that only grows. A vendor's QC imports it (or
passes it with --revocations) and can then say "not revoked as of <issued-at>" without the ledger.
A list past its next-update, older than one already seen, forged or signed outside the approver
roots is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from genai_provenance.clearances.records import (
    VALID,
    authenticate,
    canonical,
    check_time_stamp,
    iso,
    now_utc,
    parse_time,
    revocation_target,
    signature_value,
)
from genai_provenance.clearances.timestamps import BadTimeStamp, request_token
from genai_provenance.credentials.identity import Identity, name_attr
from genai_provenance.errors import InputError, SchemaError
from genai_provenance.files import write_text
from genai_provenance.schemas import validate
from genai_provenance.trust.detached import BadSignature, anchor_of, chain_problem, sign_bytes, verify_bytes
from genai_provenance.workspace import REVOCATION_LIST, REVOCATIONS_SEEN

if TYPE_CHECKING:
    from genai_provenance.clearances.ledger import Ledger
    from genai_provenance.credentials.hsm import TokenIdentity

LIST_FORMAT = "genai-provenance/revocation-list/v1"
DEFAULT_VALID_DAYS = 7
STORED_LIST = REVOCATION_LIST
SEEN_FILE = REVOCATIONS_SEEN


class RevocationListError(InputError):
    """A revocation list that cannot be used: forged, untrusted, stale or older than one seen."""


@dataclass(frozen=True)
class RevocationList:
    """A verified list: who signed it, when, until when it is fresh, and what it revokes."""

    path: str
    sequence: int
    issued_at: str
    next_update: str
    signer: str
    signer_key: str  # the signer certificate's subject: sequence numbers are per signer
    digest: str
    revoked: dict[str, dict[str, Any]] = field(default_factory=dict)  # revoked ID -> signed revocation
    root: str = ""  # the approver root the signer chains to: the list speaks only for records under it
    time_stamped: str | None = None  # "<time> by <TSA>" when the list carries an RFC 3161 time-stamp

    def describe(self) -> str:
        stamp = f" (time-stamped {self.time_stamped})" if self.time_stamped else ""
        return (
            f"list:{self.path} #{self.sequence} signed by {self.signer}, issued {self.issued_at}{stamp}, "
            f"next update {self.next_update}"
        )


def export_list(
    ledger: Ledger, identity: Identity | TokenIdentity, valid_for: dt.timedelta, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Every revocation in a verified ledger as one signed list. `now` is the issue time (tests)."""
    if ledger.integrity.problem:
        raise RevocationListError(f"{ledger.path}: {ledger.integrity.problem}; no list exported")
    if valid_for <= dt.timedelta(0):
        raise InputError("--valid-for: must be more than 0 days")
    issued = now or now_utc()
    head = ledger.integrity.head
    body = {
        "sequence": ledger.next_list_sequence(),
        "issued_at": iso(issued),
        "next_update": iso(issued + valid_for),
        "ledger_head": {"sequence": head.sequence, "head_hash": head.head_hash} if head else None,
        "revocations": ledger.revocations(),
    }
    document: dict[str, Any] = {"format": LIST_FORMAT, "list": body, "signature": sign_bytes(canonical(body), identity)}
    if identity.tsa_url:
        document["timestamp"] = {"token": request_token(identity.tsa_url, signature_value(document["signature"]))}
    return document


def verify_list(
    document: Any,
    anchors: list[x509.Certificate],
    source: str,
    *,
    now: dt.datetime | None = None,
    tsa_anchors: list[x509.Certificate] | None = None,
) -> RevocationList:
    """Check a list's form, signature, signer, every revocation in it, and that it is still fresh."""
    try:
        validate("revocation-list", document, source)
    except SchemaError as exc:
        raise RevocationListError(f"{source}: not a revocation list ({exc})") from None
    body = document["list"]
    try:
        certs = verify_bytes(document["signature"], canonical(body))
    except BadSignature as exc:
        raise RevocationListError(f"{source}: refused, forged: {exc}".replace("the data", "the list")) from None
    problem = chain_problem(certs, anchors)
    if problem:
        raise RevocationListError(f"{source}: refused, signer {problem.replace('trusted roots', 'approver roots')}")
    try:
        stamp = check_time_stamp(document, body["issued_at"], tsa_anchors)
    except BadTimeStamp as exc:
        raise RevocationListError(f"{source}: refused, forged time-stamp: {exc}") from None
    revoked: dict[str, dict[str, Any]] = {}
    for envelope in body["revocations"]:
        auth = authenticate(envelope, anchors, tsa_anchors)
        target = revocation_target(envelope) if isinstance(envelope, dict) else None
        if auth.status != VALID or not target:
            rid = ((envelope or {}).get("record") or {}).get("id") if isinstance(envelope, dict) else None
            raise RevocationListError(f"{source}: refused, revocation {rid} in it is {auth.status}: {auth.detail}")
        revoked[target] = envelope
    moment = now or now_utc()
    if parse_time(body["next_update"]) <= moment:
        raise RevocationListError(
            f"{source}: refused, stale: past its next update {body['next_update']}; ask studio legal for a fresh list"
        )
    if parse_time(body["issued_at"]) > moment + dt.timedelta(minutes=5):
        raise RevocationListError(f"{source}: refused, issued in the future ({body['issued_at']})")
    leaf = certs[0]
    return RevocationList(
        source,
        int(body["sequence"]),
        body["issued_at"],
        body["next_update"],
        name_attr(leaf.subject, NameOID.COMMON_NAME) or leaf.subject.rfc4514_string(),
        leaf.subject.rfc4514_string(),
        hashlib.sha256(canonical(document)).hexdigest(),
        revoked,
        root_of(certs, anchors),
        f"{iso(stamp.time)} by {stamp.tsa}" if stamp else None,
    )


def root_of(certs: list[x509.Certificate], anchors: list[x509.Certificate]) -> str:
    """The subject of the anchor a (verified) chain ends at; empty when none."""
    anchor = anchor_of(certs, anchors) if certs else None
    return anchor.subject.rfc4514_string() if anchor is not None else ""


def record_root(envelope: dict[str, Any], anchors: list[x509.Certificate]) -> str:
    """The approver root a record's issuer chains to (empty when unreadable or none)."""
    try:
        certs = [x509.load_pem_x509_certificate(p.encode()) for p in envelope["signature"]["certificates"]]
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""
    return root_of(certs, anchors) if certs else ""


def read_list(
    path: Path,
    anchors: list[x509.Certificate],
    *,
    now: dt.datetime | None = None,
    tsa_anchors: list[x509.Certificate] | None = None,
) -> RevocationList:
    """Read and verify a list file (exit 2 with one line when it cannot be used)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RevocationListError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise RevocationListError(f"{path}: not a readable revocation list ({exc.__class__.__name__})") from None
    return verify_list(document, anchors, str(path), now=now, tsa_anchors=tsa_anchors)


def check_not_older(home: Path, revocations: RevocationList) -> None:
    """Refuse a list older than (or different from, at the same number) one this workspace has seen;
    then remember it as seen."""
    seen_path = home / SEEN_FILE
    try:
        seen = json.loads(seen_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        seen = {}
    except (OSError, ValueError):
        raise RevocationListError(f"{seen_path}: unreadable; cannot tell whether the list is older") from None
    last = seen.get(revocations.signer_key)
    if last is not None:
        if revocations.sequence < int(last["sequence"]):
            raise RevocationListError(
                f"{revocations.path}: refused, list #{revocations.sequence} is older than list "
                f"#{last['sequence']} already seen from {revocations.signer}"
            )
        if revocations.sequence == int(last["sequence"]) and revocations.digest != last["digest"]:
            raise RevocationListError(
                f"{revocations.path}: refused, list #{revocations.sequence} differs from the list with that number "
                "already seen"
            )
        if revocations.sequence == int(last["sequence"]):
            return
    seen[revocations.signer_key] = {"sequence": revocations.sequence, "digest": revocations.digest}
    write_text(seen_path, json.dumps(seen, indent=2, sort_keys=True) + "\n")


def store_list(home: Path, source: Path) -> Path:
    """Keep an imported (verified) list in the workspace, where checks find it."""
    target = home / STORED_LIST
    write_text(target, source.read_text(encoding="utf-8"))
    return target


@dataclass(frozen=True)
class RevocationStatus:
    """Whether a clearance's revocation could be checked, where, and the revocation if any."""

    checked: bool
    source: str | None  # e.g. "ledger:<path> head #N ... signed by CN at T" or "list:<file> #N ..."
    revocation: dict[str, Any] | None = None
    why_not: str | None = None  # when not checked
    as_of: str | None = None  # a list's issue time: "not revoked as of"
