"""Reports signed by the packager identity, so a report handed to legal can be checked later.

The envelope holds the report as JSON and a detached signature over its canonical bytes; any
edit to the report breaks the signature. Only the packager role may sign one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from genai_provenance.clearances.records import canonical, iso, now_utc, parse_time
from genai_provenance.credentials.identity import Identity
from genai_provenance.trust.detached import BadSignature, chain_problem, sign_bytes, verify_bytes

SIGNED_REPORT_FORMAT = "genai-provenance/signed-report/v1"


def sign_report(report: dict[str, Any], identity: Identity, now: dt.datetime | None = None) -> dict[str, Any]:
    """Wrap a JSON report in a signed envelope."""
    return {
        "format": SIGNED_REPORT_FORMAT,
        "signed_at": iso(now or now_utc()),
        "report": report,
        "signature": sign_bytes(canonical(report), identity),
    }


@dataclass(frozen=True)
class ReportCheck:
    """What checking a signed report found: ok, or the one reason it fails."""

    ok: bool
    reason: str
    signer: str | None = None
    signed_at: str | None = None
    report_format: str | None = None

    @property
    def exit_code(self) -> int:
        """0: intact and signed by a trusted packager; 1: anything else."""
        return 0 if self.ok else 1


def verify_signed_report(envelope: Any, anchors: list[x509.Certificate]) -> ReportCheck:
    """Check the envelope's form, the signature over the report, and the signer's chain. Never raises."""
    if not isinstance(envelope, dict) or envelope.get("format") != SIGNED_REPORT_FORMAT:
        return ReportCheck(False, f"not a signed report (format is not {SIGNED_REPORT_FORMAT})")
    report, block, signed_at = envelope.get("report"), envelope.get("signature"), envelope.get("signed_at")
    if not isinstance(report, dict) or not isinstance(block, dict) or not isinstance(signed_at, str):
        return ReportCheck(False, "malformed signed report (report, signature and signed_at are required)")
    try:
        certs = verify_bytes(block, canonical(report))
        moment = parse_time(signed_at)
    except BadSignature as exc:
        return ReportCheck(False, str(exc).replace("the data", "the report"))
    except ValueError:
        return ReportCheck(False, f"signed_at {signed_at[:40]!r} is not a date-time")
    names = certs[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    signer = str(names[0].value) if names else certs[0].subject.rfc4514_string()
    problem = chain_problem(certs, anchors)
    if problem:
        return ReportCheck(False, f"signer {signer} is not a trusted packager: {problem}", signer, signed_at)
    if not certs[0].not_valid_before_utc <= moment <= certs[0].not_valid_after_utc:
        return ReportCheck(
            False, f"signed at {signed_at}, outside the signer certificate's validity", signer, signed_at
        )
    tool: dict[str, Any] = report["tool"] if isinstance(report.get("tool"), dict) else {}
    kind = f"{tool.get('name', 'unknown')} {tool.get('version', '')}".strip()
    return ReportCheck(True, "signature intact; signer is a trusted packager", signer, signed_at, kind)
