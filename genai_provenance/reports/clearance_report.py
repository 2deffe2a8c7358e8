"""Reports for the record commands (approvals, consents, waivers, revocations): list, show, grant and the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genai_provenance import __version__
from genai_provenance.clearances.ledger import Entry
from genai_provenance.clearances.outcomes import (
    Exported,
    Granted,
    Imported,
    LedgerState,
    ListExported,
    ListImported,
    RecordListing,
    Revoked,
)
from genai_provenance.clearances.records import iso
from genai_provenance.grammar import plural
from genai_provenance.safe_text import one_line


def entry_dict(entry: Entry) -> dict[str, Any]:
    record = entry.record
    revocation = (entry.revocation or {}).get("record")
    return {
        "id": record["id"],
        "kind": record["kind"],
        "state": entry.state,
        "production": record.get("production"),
        "scope": record.get("scope"),
        "covers": record.get("covers"),
        "rule": record.get("rule"),
        "reason": record.get("reason"),
        "talent": record.get("talent"),
        "guild_reference": record.get("guild_reference"),
        "issuer": record.get("issuer"),
        "issued_at": record.get("issued_at"),
        "expires_at": record.get("expires_at"),
        "conditions": record.get("conditions", []),
        "note": record.get("note"),
        "revoked": {"at": revocation["issued_at"], "reason": revocation["reason"]} if revocation else None,
        "time_stamped": {"at": iso(entry.time_stamp.time), "tsa": entry.time_stamp.tsa} if entry.time_stamp else None,
    }


def ledger_dict(ledger: LedgerState) -> dict[str, Any]:
    """Whether the ledger's hash chain and signed head verified, and its head."""
    head = ledger.integrity.head
    return {
        "path": ledger.path,
        "verified": ledger.integrity.verified,
        "problem": ledger.revocation_problem,
        "head": {"sequence": head.sequence, "entries": head.entries, "signer": head.signer, "time": head.time}
        if head
        else None,
    }


def entries_document(entries: Sequence[Entry], ledger: LedgerState | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "tool": {"name": "genai-provenance", "version": __version__},
        "records": [entry_dict(e) for e in entries],
    }
    if ledger is not None:
        doc["ledger"] = ledger_dict(ledger)
    return doc


def listing_document(result: RecordListing) -> dict[str, Any]:
    """`list` and `show --format json`: the records and the state of the ledger they came from."""
    return entries_document(result.entries, result.ledger)


def granted_document(result: Granted) -> dict[str, Any]:
    return entries_document([result.entry])


def ledger_line(ledger: LedgerState) -> str | None:
    """A warning line when the ledger is tampered, rolled back or replaced; else None."""
    if ledger.trusted:
        return None
    return one_line(f"LEDGER NOT TRUSTED: {ledger.revocation_problem}; revocation state cannot be relied on")


def listing_text(result: RecordListing) -> str:
    """`list`: a line per record; `show`: the record in full. A warning first when the ledger is not trusted."""
    warning = ledger_line(result.ledger)
    lines = [warning] if warning else []
    if result.full:
        return "\n".join(lines + [line for e in result.entries for line in entry_lines(e, full=True)])
    if not result.entries:
        lines.append(f"no {result.plural} in the ledger")
    return "\n".join(lines + [entry_lines(e)[0] for e in result.entries])


def granted_text(result: Granted) -> str:
    record = result.entry.record
    what = f"waiver {record['id']} of {record['rule']}" if result.kind == "waiver" else f"{result.kind} {record['id']}"
    head = one_line(f"Granted {what}, signed by {record['issuer']['common_name']}")
    return "\n".join([head] + [f"  {line}" for line in entry_lines(result.entry, full=True)])


def revoked_text(result: Revoked) -> str:
    return one_line(f"Revoked {result.kind} {result.record_id}: {result.reason}")


def exported_text(result: Exported) -> str:
    return one_line(f"Exported {result.kind} {result.record_id} to {result.output}")


def imported_text(result: Imported) -> str:
    if not result.added:
        return "Already in the ledger; nothing to import"
    return one_line(f"Imported {', '.join(result.added)}")


def list_exported_text(result: ListExported) -> str:
    return one_line(
        f"Exported revocation list #{result.sequence} ({result.revocations} revocation(s)) to {result.output}; "
        f"issued {result.issued_at}, next update {result.next_update}"
    )


def list_imported_text(result: ListImported) -> str:
    listed = result.listed
    return one_line(
        f"Imported revocation list #{listed.sequence} from {listed.signer} ({len(listed.revoked)} revocation(s)), "
        f"issued {listed.issued_at}, next update {listed.next_update}; kept as {result.stored}"
    )


def entry_lines(entry: Entry, full: bool = False) -> list[str]:
    return [one_line(line) for line in _entry_lines(entry, full)]


def _entry_lines(entry: Entry, full: bool) -> list[str]:
    d = entry_dict(entry)
    assets = ", ".join((d["scope"] or {}).get("asset_ids") or []) or "(by content hash)"
    talent = f" talent {d['talent']['name']} ({d['talent']['id']})" if d["talent"] else ""
    what = f"waives {d['rule']}" if d["rule"] else f"covers {', '.join(d['covers'] or [])}"
    hashes = (d["scope"] or {}).get("content_hashes") or []
    assets += f" + {plural(len(hashes), 'content hash')}" if hashes and (d["scope"] or {}).get("asset_ids") else ""
    line = f"{d['id']:<20} {d['state']:<8} {d['production']} {assets} {what}{talent}"
    if not full:
        return [line]
    lines = [
        line,
        f"  issued {d['issued_at']} by {d['issuer']['common_name']}"
        + (f"; time-stamped {d['time_stamped']['at']} by {d['time_stamped']['tsa']}" if d["time_stamped"] else ""),
        f"  expires {d['expires_at'] or 'never'}",
    ]
    if d["guild_reference"]:
        lines.append(f"  guild reference {d['guild_reference']}")
    lines += [f"  condition: {c}" for c in d["conditions"]]
    lines += [f"  content hash: {h}" for h in hashes]
    if d["reason"]:
        lines.append(f"  reason: {d['reason']}")
    if d["note"]:
        lines.append(f"  note: {d['note']}")
    if d["revoked"]:
        lines.append(f"  REVOKED {d['revoked']['at']}: {d['revoked']['reason']}")
    return lines
