"""Reports for `approvals` and `consents`: list and show."""

from __future__ import annotations

from typing import Any

from genai_provenance import __version__
from genai_provenance.clearances.ledger import Entry, Ledger
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


def ledger_dict(ledger: Ledger) -> dict[str, Any]:
    """Whether the ledger's hash chain and signed head verified, and its head."""
    head = ledger.integrity.head
    return {
        "path": str(ledger.path),
        "verified": ledger.integrity.verified,
        "problem": ledger.revocation_problem(),
        "head": {"sequence": head.sequence, "entries": head.entries, "signer": head.signer, "time": head.time}
        if head
        else None,
    }


def entries_document(entries: list[Entry], ledger: Ledger | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "tool": {"name": "genai-provenance", "version": __version__},
        "records": [entry_dict(e) for e in entries],
    }
    if ledger is not None:
        doc["ledger"] = ledger_dict(ledger)
    return doc


def ledger_line(ledger: Ledger) -> str | None:
    """A warning line when the ledger is tampered, rolled back or replaced; else None."""
    if not ledger.integrity.problem:
        return None
    return f"LEDGER NOT TRUSTED: {ledger.revocation_problem()}; revocation state cannot be relied on"


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
