"""The clearance ledger: signed approvals, consents, waivers and revocations, in SQLite (the workspace
default) or PostgreSQL (a shared ledger; genai_provenance.clearances.ledger_store holds both backends).

The ledger is tamper-evident: an append-only hash chain whose head is signed by the approver at
every write (genai_provenance.clearances.ledger_chain). On open the whole chain and the head are verified;
an edited, deleted, reordered or rolled-back row makes the ledger unusable as a revocation source
and refuses writes. Writers take the backend's exclusive write transaction, so concurrent
processes granting at once serialise, and the chain append happens inside that transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from genai_provenance.clearances.ledger_chain import (
    GENESIS,
    HeadProblem,
    LedgerHead,
    SeenHead,
    entry_hash,
    read_seen,
    remember,
    rollback_problem,
    sign_head,
    verify_head,
)
from genai_provenance.clearances.ledger_store import LedgerError, LedgerLocation, open_store
from genai_provenance.clearances.records import (
    VALID,
    authenticate,
    iso,
    now_utc,
    parse_time,
    revocation_target,
    sign_record,
)
from genai_provenance.clearances.timestamps import TimeStamp
from genai_provenance.credentials.identity import Identity

if TYPE_CHECKING:
    from genai_provenance.credentials.hsm import TokenIdentity

__all__ = ["Entry", "Grant", "Integrity", "Ledger", "LedgerError", "LedgerLocation"]


def revocation_id(target: str) -> str:
    return f"{target}.revocation"


@dataclass
class Entry:
    envelope: dict[str, Any]
    revocation: dict[str, Any] | None
    authenticity: str = VALID  # re-checked on every read: a row edited in the database shows as forged
    time_stamp: TimeStamp | None = None  # when an RFC 3161 time-stamp vouches for the issue time

    @property
    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = self.envelope["record"]
        return record

    @property
    def state(self) -> str:
        if self.authenticity != VALID:
            return self.authenticity
        if self.revocation:
            return "revoked"
        expires = self.record.get("expires_at")
        return "expired" if expires and parse_time(expires) < now_utc() else "active"


@dataclass(frozen=True)
class Integrity:
    """What verifying the chain and its signed head found."""

    head: LedgerHead | None
    problem: str | None = None  # tampered, rolled back or replaced: never trusted, never written to

    @property
    def verified(self) -> bool:
        return self.head is not None and self.problem is None


class Ledger:
    """A clearance ledger (an SQLite file, or a LedgerLocation: SQLite or PostgreSQL).

    `signer` signs the head at each write (grant/revoke pass their own). `path` names the ledger in
    messages: its file, or its URL without the password."""

    def __init__(
        self,
        where: Path | LedgerLocation,
        anchors: list[x509.Certificate],
        signer: Identity | TokenIdentity | None = None,
        tsa_anchors: list[x509.Certificate] | None = None,
    ) -> None:
        self.location = where if isinstance(where, LedgerLocation) else LedgerLocation.sqlite(where)
        self.path: Path | str = where if isinstance(where, Path) else self.location.display
        self.anchors = anchors
        self.tsa_anchors = tsa_anchors
        self.signer = signer
        self._records: dict[str, dict[str, Any]] = {}
        self._revocations: dict[str, dict[str, Any]] = {}
        self.integrity = Integrity(None)
        self._store = open_store(self.location)
        try:
            self._reload()
        except BaseException:
            self._store.close()
            raise

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _reload(self) -> None:
        """_load in one read transaction, so a concurrent writer's commit is seen whole or not at all."""
        seen = read_seen(self.location.guard)  # before the snapshot: a head seen by now is committed and in it
        with self._store.snapshot():
            self._load(seen)

    @property
    def ledger_id(self) -> str:
        return self._store.ledger_id()

    def _load(self, seen: SeenHead | None) -> None:
        """Read every entry, verify the chain and the signed head, and index the records.

        `seen` is the rollback guard, read before this read's snapshot was taken (or inside the
        write lock), so a concurrent writer's newer head is never mistaken for a rollback."""
        self._records, self._revocations = {}, {}
        problem: str | None = None
        prev, count = GENESIS, 0
        rows = self._store.rows()
        for seq, rid, kind, revokes, text, prev_hash, stored_hash in rows:
            count += 1
            try:
                envelope = json.loads(text)
                record = envelope["record"]
                consistent = (record.get("id"), record.get("kind"), revocation_target(envelope)) == (rid, kind, revokes)
            except (ValueError, KeyError, TypeError, AttributeError):
                envelope, consistent = {}, False
            if problem is None:
                if seq != count or prev_hash != prev:
                    problem = f"tampered: entry #{count} ({rid}) does not follow entry #{count - 1} in the chain"
                elif not consistent or entry_hash(seq, prev, envelope) != stored_hash:
                    problem = f"tampered: entry #{seq} ({rid}) was altered after it was written"
            prev = stored_hash
            if not envelope:
                continue
            target = revocation_target(envelope)
            if target:
                self._revocations[target] = envelope
            else:
                self._records[str(envelope["record"].get("id"))] = envelope
        head: LedgerHead | None = None
        document = self._store.head_document()
        if document is not None:
            try:
                head = verify_head(document, self.anchors)
            except HeadProblem as exc:
                problem = problem or f"tampered: {exc}"
        elif count:
            problem = problem or f"tampered: {count} entries but no signed head"
        if head is not None and problem is None:
            if head.ledger_id != self.ledger_id:
                problem = "tampered: the signed head belongs to another ledger"
            elif head.entries != count:
                problem = f"tampered: the signed head lists {head.entries} entries, the ledger holds {count}"
            elif head.head_hash != prev:
                problem = f"tampered: the chain does not end at the signed head hash (entry #{count})"
        problem = problem or rollback_problem(self.location.guard, seen, self.ledger_id, head)
        if head is not None and problem is None:
            with contextlib.suppress(OSError):  # a read-only reader still verifies; writers can record it
                remember(self.location.guard, head)
        self.integrity = Integrity(head, problem)

    def revocation_problem(self) -> str | None:
        """Why this ledger cannot say whether a record is revoked; None when it can."""
        if self.integrity.problem:
            return f"ledger {self.path} is {self.integrity.problem}"
        if self.integrity.head is None:
            return f"ledger {self.path} is empty (no signed head)"
        return None

    def describe(self) -> str | None:
        """`ledger:<path> head #N (...) signed by CN at T` when verified; else None."""
        head = self.integrity.head
        return head.describe(self.path) if head is not None and self.integrity.verified else None

    def add(
        self, envelope: dict[str, Any], source: str = "record", signer: Identity | TokenIdentity | None = None
    ) -> bool:
        """Store an authentic record and sign the new head. False when the identical record is already there."""
        auth = authenticate(envelope, self.anchors, self.tsa_anchors)
        if auth.status != VALID:
            raise LedgerError(f"{source}: refused, {auth.status}: {auth.detail}")
        head_signer = signer or self.signer
        record = envelope["record"]
        with self._store.write():
            # verify inside the lock: never sign a head over a tampered chain
            self._load(read_seen(self.location.guard))
            if self.integrity.problem:
                raise LedgerError(f"{self.path}: {self.integrity.problem}; nothing was written")
            existing = self._records.get(record["id"]) or next(
                (r for r in self._revocations.values() if r["record"]["id"] == record["id"]), None
            )
            if existing is not None:
                if existing == envelope:
                    return False
                raise LedgerError(f"{source}: a different record with id {record['id']} is already in the ledger")
            target = revocation_target(envelope)
            if target:
                if target not in self._records:
                    raise LedgerError(f"{source}: revokes {target}, which is not in the ledger")
                if target in self._revocations:
                    raise LedgerError(f"{source}: {target} is already revoked")
            if head_signer is None:
                raise LedgerError(f"{self.path}: opened read-only (no approver identity to sign its head)")
            seq, prev = self._tail()
            digest = entry_hash(seq + 1, prev, envelope)
            row = (seq + 1, record["id"], record["kind"], target, json.dumps(envelope, sort_keys=True), prev, digest)
            self._store.append(row, iso(now_utc()))
            previous = self.integrity.head.sequence if self.integrity.head else 0
            document = sign_head(self.ledger_id, previous + 1, seq + 1, digest, head_signer)
            self._store.set_head(document)
        self._reload()
        return True

    def _tail(self) -> tuple[int, str]:
        return self._store.tail() or (0, GENESIS)

    def get(self, record_id: str) -> Entry | None:
        envelope = self._records.get(record_id)
        if envelope is None:
            return None
        auth = authenticate(envelope, self.anchors, self.tsa_anchors)
        return Entry(envelope, self.revocation_for(record_id), auth.status, auth.time_stamp)

    def revocation_for(self, record_id: str) -> dict[str, Any] | None:
        return self._revocations.get(record_id)

    def revocations(self) -> list[dict[str, Any]]:
        """Every revocation envelope, ordered by the ID it revokes."""
        return [self._revocations[k] for k in sorted(self._revocations)]

    def entries(self, kind: str | None = None) -> list[Entry]:
        ids = sorted(i for i, e in self._records.items() if kind is None or e["record"].get("kind") == kind)
        return [entry for i in ids if (entry := self.get(i)) is not None]

    def count(self) -> int:
        return len(self._records) + len(self._revocations)

    def next_list_sequence(self) -> int:
        """A number that grows with every revocation list exported from this ledger."""
        with self._store.write():
            return self._store.bump("list_sequence")


@dataclass(frozen=True)
class Grant:
    """What an approver grants: an approval, or a talent consent."""

    kind: str
    id: str
    production: str
    assets: list[str]
    covers: list[str]
    expires: dt.datetime | None = None
    note: str | None = None
    conditions: tuple[str, ...] = ()
    content_hashes: tuple[str, ...] = ()
    talent_name: str | None = None
    talent_id: str | None = None
    guild_reference: str | None = None


def grant(ledger: Ledger, request: Grant, identity: Identity | TokenIdentity) -> dict[str, Any]:
    """Sign and store a new approval or consent."""
    if ledger.get(request.id) is not None:
        raise LedgerError(f"{request.id}: already in the ledger {ledger.path}")
    record: dict[str, Any] = {
        "id": request.id,
        "kind": request.kind,
        "production": request.production,
        "scope": {"asset_ids": list(request.assets)},
        "covers": list(dict.fromkeys(request.covers)),
        "issued_at": iso(now_utc()),
        "expires_at": iso(request.expires) if request.expires else None,
    }
    if request.content_hashes:
        record["scope"]["content_hashes"] = list(request.content_hashes)
    if request.conditions:
        record["conditions"] = list(request.conditions)
    if request.note:
        record["note"] = request.note
    if request.kind == "consent":
        record["talent"] = {"name": request.talent_name or "", "id": request.talent_id or ""}
        if request.guild_reference:
            record["guild_reference"] = request.guild_reference
    envelope = sign_record(record, identity)
    ledger.add(envelope, request.id, identity)
    return envelope


def revoke(
    ledger: Ledger, record_id: str, kind: str, reason: str, identity: Identity | TokenIdentity
) -> dict[str, Any]:
    """Sign and store a revocation of an existing approval or consent."""
    entry = ledger.get(record_id)
    if entry is None:
        raise LedgerError(f"{record_id}: no such {kind} in the ledger {ledger.path}")
    if entry.record["kind"] != kind:
        raise LedgerError(f"{record_id}: is among the {entry.record['kind']}s, not the {kind}s")
    if entry.revocation:
        raise LedgerError(f"{record_id}: already revoked")
    record = {
        "id": revocation_id(record_id),
        "kind": "revocation",
        "revokes": record_id,
        "reason": reason,
        "issued_at": iso(now_utc()),
    }
    envelope = sign_record(record, identity)
    ledger.add(envelope, record_id, identity)
    return envelope


BUNDLE_FORMAT = "genai-provenance/clearance-bundle/v1"


def export_bundle(ledger: Ledger, record_id: str, kind: str) -> dict[str, Any]:
    """A record with its revocation, if any, as one portable document."""
    entry = ledger.get(record_id)
    if entry is None or entry.record["kind"] != kind:
        raise LedgerError(f"{record_id}: no such {kind} in the ledger {ledger.path}")
    records = [entry.envelope] + ([entry.revocation] if entry.revocation else [])
    return {"format": BUNDLE_FORMAT, "records": records}


def import_document(
    ledger: Ledger, document: Any, source: str, signer: Identity | TokenIdentity | None = None
) -> list[str]:
    """Verify and store every record of a bundle or single envelope; all or nothing per record."""
    if isinstance(document, dict) and document.get("format") == BUNDLE_FORMAT:
        envelopes = document.get("records") or []
    elif isinstance(document, dict) and "record" in document:
        envelopes = [document]
    else:
        raise LedgerError(f"{source}: not a clearance record or bundle")
    added = []
    for envelope in sorted(envelopes, key=lambda e: revocation_target(e) is not None if isinstance(e, dict) else True):
        if not isinstance(envelope, dict):
            raise LedgerError(f"{source}: malformed record in bundle")
        if ledger.add(envelope, source, signer):
            added.append(envelope["record"]["id"])
    return added


def referenced_ids(disclosure: dict[str, Any]) -> list[str]:
    """Every approval and consent ID a disclosure references, in order, without repeats."""
    ids: list[str] = []
    for use in disclosure.get("genai") or []:
        ids.extend(str(i) for i in (use.get("approvals") or []) + (use.get("consents") or []))
    return list(dict.fromkeys(ids))


def records_to_embed(disclosure: dict[str, Any], ledger: Ledger | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The signed records a disclosure references (to carry inside the media), and warnings."""
    envelopes, warnings = [], []
    for ref in referenced_ids(disclosure):
        entry = ledger.get(ref) if ledger else None
        if entry is None:
            where = f"the ledger {ledger.path}" if ledger else "any ledger (none available)"
            warnings.append(f"{ref} is not in {where}, so it is not embedded; checks will need a ledger that has it")
            continue
        if entry.authenticity != VALID:  # the database file was edited behind the ledger's back
            warnings.append(f"{ref} in the ledger is {entry.authenticity}: not embedded")
            continue
        if entry.state != "active":
            warnings.append(f"{ref} is {entry.state} in the ledger; it is embedded but will not clear anything")
        envelopes.append(entry.envelope)
    return envelopes, warnings
