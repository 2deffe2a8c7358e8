"""The clearance ledger: signed approvals, consents and revocations in SQLite (the workspace default).

Writers take an immediate transaction (WAL, busy timeout), so concurrent processes granting at
once serialise instead of corrupting the ledger. Only authentic records get in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from genai_provenance.clearances import (
    VALID,
    authenticate,
    canonical,
    iso,
    now_utc,
    parse_time,
    revocation_target,
    sign_record,
)
from genai_provenance.errors import InputError
from genai_provenance.signing import Identity

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('approval', 'consent', 'revocation')),
    production TEXT,
    revokes TEXT,
    issued_at TEXT NOT NULL,
    expires_at TEXT,
    digest TEXT NOT NULL,
    envelope TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS one_revocation ON records (revokes) WHERE revokes IS NOT NULL;
"""


class LedgerError(InputError):
    """A ledger operation that cannot be done as asked."""


def revocation_id(target: str) -> str:
    return f"{target}.revocation"


@dataclass
class Entry:
    envelope: dict[str, Any]
    revocation: dict[str, Any] | None
    authenticity: str = VALID  # re-checked on every read: a row edited in the database shows as forged

    @property
    def record(self) -> dict[str, Any]:
        return self.envelope["record"]

    @property
    def state(self) -> str:
        if self.authenticity != VALID:
            return self.authenticity
        if self.revocation:
            return "revoked"
        expires = self.record.get("expires_at")
        return "expired" if expires and parse_time(expires) < now_utc() else "active"


class Ledger:
    def __init__(self, path: Path, anchors: list[x509.Certificate]) -> None:
        self.path = path
        self.anchors = anchors
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout = 30000")
            self._db.execute("PRAGMA journal_mode = WAL")
            with self._write():
                for statement in _statements():
                    self._db.execute(statement)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{path}: not a usable ledger database ({exc})") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add(self, envelope: dict[str, Any], source: str = "record") -> bool:
        """Store an authentic record. False when the identical record is already there."""
        auth = authenticate(envelope, self.anchors)
        if auth.status != VALID:
            raise LedgerError(f"{source}: refused, {auth.status}: {auth.detail}")
        record = envelope["record"]
        digest = hashlib.sha256(canonical(envelope)).hexdigest()
        with self._write():
            row = self._db.execute("SELECT digest FROM records WHERE id = ?", (record["id"],)).fetchone()
            if row:
                if row[0] == digest:
                    return False
                raise LedgerError(f"{source}: a different record with id {record['id']} is already in the ledger")
            target = revocation_target(envelope)
            if target:
                kind = self._db.execute("SELECT kind FROM records WHERE id = ?", (target,)).fetchone()
                if kind is None:
                    raise LedgerError(f"{source}: revokes {target}, which is not in the ledger")
                if self._db.execute("SELECT 1 FROM records WHERE revokes = ?", (target,)).fetchone():
                    raise LedgerError(f"{source}: {target} is already revoked")
            self._db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record["id"],
                    record["kind"],
                    record.get("production"),
                    target,
                    record["issued_at"],
                    record.get("expires_at"),
                    digest,
                    json.dumps(envelope, sort_keys=True),
                    iso(now_utc()),
                ),
            )
        return True

    def get(self, record_id: str) -> Entry | None:
        row = self._db.execute(
            "SELECT envelope FROM records WHERE id = ? AND kind != 'revocation'", (record_id,)
        ).fetchone()
        if row is None:
            return None
        envelope = json.loads(row[0])
        return Entry(envelope, self.revocation_for(record_id), authenticate(envelope, self.anchors).status)

    def revocation_for(self, record_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT envelope FROM records WHERE revokes = ?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def entries(self, kind: str | None = None) -> list[Entry]:
        query = "SELECT id FROM records WHERE kind != 'revocation'" + (" AND kind = ?" if kind else "") + " ORDER BY id"
        ids = [r[0] for r in self._db.execute(query, (kind,) if kind else ())]
        return [entry for i in ids if (entry := self.get(i)) is not None]

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])


def _statements() -> list[str]:
    return [s.strip() for s in _SCHEMA.split(";") if s.strip()]


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


def grant(ledger: Ledger, request: Grant, identity: Identity) -> dict[str, Any]:
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
    ledger.add(envelope, request.id)
    return envelope


def revoke(ledger: Ledger, record_id: str, kind: str, reason: str, identity: Identity) -> dict[str, Any]:
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
    ledger.add(envelope, record_id)
    return envelope


BUNDLE_FORMAT = "genai-provenance/clearance-bundle/v1"


def export_bundle(ledger: Ledger, record_id: str, kind: str) -> dict[str, Any]:
    """A record with its revocation, if any, as one portable document."""
    entry = ledger.get(record_id)
    if entry is None or entry.record["kind"] != kind:
        raise LedgerError(f"{record_id}: no such {kind} in the ledger {ledger.path}")
    records = [entry.envelope] + ([entry.revocation] if entry.revocation else [])
    return {"format": BUNDLE_FORMAT, "records": records}


def import_document(ledger: Ledger, document: Any, source: str) -> list[str]:
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
        if ledger.add(envelope, source):
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
