"""What the record commands (approvals, consents, waivers, revocations) return: typed values the
renderers in reports/renderers.py format, each with the exit code it means."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from genai_provenance.clearances.ledger import Entry, Integrity, Ledger, LedgerError
from genai_provenance.clearances.revocations import RevocationList

RecordKind = Literal["approval", "consent", "waiver"]
PASSED, FAILED = 0, 1  # 2 (usage or input error) is raised as an error, never a result


class Done:
    """A command that did its work or raised an error: no result of it fails."""

    @property
    def exit_code(self) -> int:
        return PASSED


@dataclass(frozen=True)
class LedgerState:
    """The ledger as a report names it: where it is and what verifying its chain and signed head found."""

    path: str
    integrity: Integrity
    revocation_problem: str | None  # why it cannot say whether a record is revoked; None when it can

    @classmethod
    def of(cls, ledger: Ledger) -> LedgerState:
        return cls(str(ledger.path), ledger.integrity, ledger.revocation_problem())

    @property
    def trusted(self) -> bool:
        """False when the ledger is tampered, rolled back or replaced (an empty ledger is not distrusted)."""
        return self.integrity.problem is None


@dataclass(frozen=True)
class RecordListing:
    """`list` (every record of a kind, one line each) or `show` (one record in full)."""

    kind: RecordKind
    plural: str
    entries: tuple[Entry, ...]
    ledger: LedgerState
    full: bool = False  # show: every field of the record

    @classmethod
    def listing(cls, ledger: Ledger, kind: RecordKind, plural: str) -> RecordListing:
        return cls(kind, plural, tuple(ledger.entries(kind)), LedgerState.of(ledger))

    @classmethod
    def shown(cls, ledger: Ledger, record_id: str, kind: RecordKind, plural: str) -> RecordListing:
        entry = ledger.get(record_id)
        if entry is None or entry.record["kind"] != kind:
            raise LedgerError(f"{record_id}: no such {kind} in the ledger")
        return cls(kind, plural, (entry,), LedgerState.of(ledger), full=True)

    @property
    def exit_code(self) -> int:
        """1 when the ledger is not trusted: what it says about revocation cannot be relied on."""
        return PASSED if self.ledger.trusted else FAILED


@dataclass(frozen=True)
class Granted(Done):
    """A record just signed and stored (`grant`)."""

    kind: RecordKind
    entry: Entry

    @classmethod
    def stored(cls, ledger: Ledger, record_id: str, kind: RecordKind) -> Granted:
        """The entry as the ledger now holds it."""
        entry = ledger.get(record_id)
        if entry is None:  # pragma: no cover - the grant just stored it
            raise LedgerError(f"{record_id}: not found after granting")
        return cls(kind, entry)


@dataclass(frozen=True)
class Revoked(Done):
    kind: RecordKind
    record_id: str
    reason: str


@dataclass(frozen=True)
class Exported(Done):
    """A record (and its revocation, if any) written to a file."""

    kind: RecordKind
    record_id: str
    output: Path


@dataclass(frozen=True)
class Imported(Done):
    """The record IDs a file added to the ledger (none: all were there already)."""

    added: tuple[str, ...]


@dataclass(frozen=True)
class ListExported(Done):
    """`revocations export`: the signed list written."""

    output: Path
    sequence: int
    revocations: int
    issued_at: str
    next_update: str

    @classmethod
    def of(cls, document: dict[str, Any], output: Path) -> ListExported:
        """From the list `export_list` signed."""
        body = document["list"]
        return cls(output, body["sequence"], len(body["revocations"]), body["issued_at"], body["next_update"])


@dataclass(frozen=True)
class ListImported(Done):
    """`revocations import`: the verified list and where the workspace keeps it."""

    listed: RevocationList
    stored: Path
