"""The ledger's hash chain and its signed head (as transparency logs do).

Each entry's hash covers its sequence number, the previous entry's hash and its signed envelope.
At every write the approver identity signs a head: head sequence, entry count, last entry hash,
time and the ledger's ID. A small state file beside the ledger keeps the highest head seen, so
replacing the ledger by an older copy (rollback) or by another ledger is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from genai_provenance.clearances.records import canonical, iso, now_utc
from genai_provenance.credentials.identity import Identity, name_attr
from genai_provenance.trust.detached import BadSignature, anchor_of, chain_problem, sign_bytes, verify_bytes

if TYPE_CHECKING:
    from genai_provenance.credentials.hsm import TokenIdentity

HEAD_FORMAT = "genai-provenance/ledger-head/v1"
GENESIS = "0" * 64


def entry_hash(seq: int, prev_hash: str, envelope: dict[str, Any]) -> str:
    """The hash that chains entry `seq` to the one before it."""
    return hashlib.sha256(canonical({"seq": seq, "prev": prev_hash, "envelope": envelope})).hexdigest()


@dataclass(frozen=True)
class LedgerHead:
    """What the approver signed at the last write."""

    ledger_id: str
    sequence: int
    entries: int
    head_hash: str
    time: str
    signer: str
    root: str = ""  # the approver root the head signer is under: the ledger speaks for records under it

    def describe(self, where: Path | str) -> str:
        return f"ledger:{where} head #{self.sequence} ({self.entries} entries) signed by {self.signer} at {self.time}"


def sign_head(ledger_id: str, sequence: int, entries: int, head_hash: str, identity: Identity | TokenIdentity) -> str:
    """A signed head document (JSON text) for the ledger's `head` table."""
    head = {
        "ledger_id": ledger_id,
        "sequence": sequence,
        "entries": entries,
        "head_hash": head_hash,
        "time": iso(now_utc()),
    }
    return json.dumps({"format": HEAD_FORMAT, "head": head, "signature": sign_bytes(canonical(head), identity)})


class HeadProblem(Exception):
    """The head is unreadable, forged or signed outside the approver roots."""


def verify_head(text: str, anchors: list[x509.Certificate]) -> LedgerHead:
    """Check a head document's signature and signer; raise HeadProblem saying why not."""
    try:
        document = json.loads(text)
        head = document["head"]
        if document.get("format") != HEAD_FORMAT:
            raise HeadProblem("signed head has an unknown format")
        certs = verify_bytes(document["signature"], canonical(head))
        parsed = LedgerHead(
            str(head["ledger_id"]),
            int(head["sequence"]),
            int(head["entries"]),
            str(head["head_hash"]),
            str(head["time"]),
            name_attr(certs[0].subject, NameOID.COMMON_NAME) or certs[0].subject.rfc4514_string(),
        )
        anchor = anchor_of(certs, anchors)
    except BadSignature as exc:
        raise HeadProblem(f"signed head does not verify ({exc})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise HeadProblem(f"signed head is malformed ({exc.__class__.__name__})") from None
    problem = chain_problem(certs, anchors)
    if problem or anchor is None:
        raise HeadProblem(f"head signer {(problem or '').replace('trusted roots', 'approver roots')}")
    return dataclasses.replace(parsed, root=anchor.subject.rfc4514_string())


@dataclass(frozen=True)
class SeenHead:
    """The highest head this workspace has seen for its ledger (the rollback guard)."""

    ledger_id: str
    sequence: int
    head_hash: str


def read_seen(guard: Path) -> SeenHead | None:
    """The head recorded in the guard file `guard` (see state_path), if any."""
    try:
        fd = os.open(guard, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # never read half of a concurrent update
        text = os.read(fd, 1 << 16)
    finally:
        os.close(fd)
    if not text.strip():
        return None  # created by a writer that has not written yet
    try:
        data = json.loads(text)
        return SeenHead(str(data["ledger_id"]), int(data["sequence"]), str(data["head_hash"]))
    except (ValueError, KeyError, TypeError):
        return SeenHead("unreadable", 1 << 62, "")  # a garbled guard fails closed


def remember(guard: Path, head: LedgerHead) -> None:
    """Record `head` as seen in `guard`, unless a higher one already is (serialised with an exclusive lock)."""
    fd = os.open(guard, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(ValueError, KeyError, TypeError):
            current = json.loads(os.read(fd, 1 << 16) or b"{}")
            if current.get("ledger_id") == head.ledger_id and int(current["sequence"]) >= head.sequence:
                return
        data = json.dumps({"ledger_id": head.ledger_id, "sequence": head.sequence, "head_hash": head.head_hash})
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, data.encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def rollback_problem(guard: Path, seen: SeenHead | None, ledger_id: str, head: LedgerHead | None) -> str | None:
    """Why the ledger is older than (or not) the one this workspace last saw; None when it is not."""
    if seen is None:
        return None
    fix = f"restore the latest ledger, or remove {guard.name} to start over"
    if seen.ledger_id != ledger_id:
        return f"replaced by a different ledger (ID {ledger_id}, this workspace's is {seen.ledger_id}); {fix}"
    if head is None:
        return f"rolled back: it has no signed head, but head #{seen.sequence} was seen; {fix}"
    if head.sequence < seen.sequence:
        return f"rolled back: head #{head.sequence} is older than head #{seen.sequence} already seen; {fix}"
    if head.sequence == seen.sequence and head.head_hash != seen.head_hash:
        return f"forked: head #{head.sequence} differs from the one already seen; {fix}"
    return None
