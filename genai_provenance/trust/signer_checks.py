"""Trust checks c2pa does not make: allowed list, EKU configuration, media vs TSA anchors.

c2pa 0.91.3 ignores `trust.allowed_list` and `trust.trust_config` (checked), and it takes one
anchor list for signers and time-stamp authorities alike. Once the trust configuration asks for
any of these, each asset's signing chain is read (signer_certs) and checked here; an asset whose
certificate cannot be read is not trusted (fail closed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import c2pa
from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from genai_provenance.credentials.failure_codes import explain
from genai_provenance.credentials.identity import C2PA_EKUS
from genai_provenance.credentials.signer_certs import StoreError, signing_chains
from genai_provenance.model.provenance import TRUSTED, VALID_UNTRUSTED, AssetReport, Failure, SignerInfo
from genai_provenance.trust.config import chain_problem, fingerprint

if TYPE_CHECKING:
    from genai_provenance.credentials.read import TrustSettings

UNVERIFIED = "signingCredential.unverified"
UNTRUSTED = "signingCredential.untrusted"
# Failures an allowed-list entry may lift: only "not under an anchor", nothing about integrity.
_LIFTABLE = {"signingCredential.untrusted", "timeStamp.untrusted"}


def _serial_matches(signer: SignerInfo, cert: x509.Certificate) -> bool:
    text = (signer.serial or "").strip()
    if not text:
        return False
    candidates = set()
    with contextlib.suppress(ValueError):
        candidates.add(int(text, 16))
    if text.isdigit():
        candidates.add(int(text))
    return cert.serial_number in candidates


def _ekus(cert: x509.Certificate) -> list[str]:
    try:
        return [o.dotted_string for o in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
    except x509.ExtensionNotFound:
        return []


def _moment(report: AssetReport) -> dt.datetime:
    """The time the chain must be valid at: the time-stamp when there is one, else now (as c2pa)."""
    if report.time_stamped and report.signed_at:
        try:
            moment = dt.datetime.fromisoformat(report.signed_at.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    return dt.datetime.now(dt.UTC)


def _downgrade(report: AssetReport, code: str, text: str) -> None:
    report.status = VALID_UNTRUSTED
    report.failures.append(Failure(code, explain(code, text)))


def attach_certificates(report: AssetReport, chains: dict[str, list[x509.Certificate]]) -> None:
    """Put each manifest signer's fingerprint and EKUs on the model (when the chain matches it)."""
    for info in report.manifests:
        chain = chains.get(info.label)
        if info.signer is not None and chain and _serial_matches(info.signer, chain[0]):
            info.signer.fingerprint = fingerprint(chain[0])
            info.signer.ekus = _ekus(chain[0])
    active = report.manifest(report.active_manifest)
    if active is not None:
        report.signer = active.signer


def apply(
    report: AssetReport,
    trust: TrustSettings,
    successes: set[str],
    chains: dict[str, list[x509.Certificate]] | None,
    why_missing: str = "",
) -> None:
    """Confirm or withdraw trust in the active signer under the allowed list, EKUs and media anchors."""
    if report.status not in (TRUSTED, VALID_UNTRUSTED) or report.signer is None:
        return
    chain = (chains or {}).get(report.active_manifest or "")
    if not chain or not _serial_matches(report.signer, chain[0]):
        if report.status == TRUSTED:
            _downgrade(report, UNVERIFIED, why_missing or "the signing certificate could not be read from the manifest")
        return
    ekus = frozenset(ObjectIdentifier(o) for o in trust.ekus) if trust.ekus else frozenset(C2PA_EKUS)
    at = _moment(report)
    media = x509.load_pem_x509_certificates(trust.anchors_pem.encode()) if trust.anchors_pem else []
    if report.status == TRUSTED:
        problem = chain_problem(chain, media, at, ekus)
        if problem:
            _downgrade(report, UNTRUSTED, f"not trusted as a media signer: {problem}")
        return
    leaf_print = fingerprint(chain[0])
    if leaf_print not in trust.allowed_list:
        return
    codes = {f.code for f in report.failures}
    if not codes <= _LIFTABLE or "claimSignature.validated" not in successes:
        return
    leaf = chain[0]
    if not leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc:
        report.notes.append(f"the signer is on the allowed list but its certificate was not valid at {at:%Y-%m-%d}")
        return
    if not {ObjectIdentifier(o) for o in _ekus(leaf)} & ekus:
        report.notes.append("the signer is on the allowed list but its extended key usage is not allowed")
        return
    report.failures = [f for f in report.failures if f.code != UNTRUSTED]
    report.signer.allowed_list = True
    report.status = TRUSTED if not report.failures else VALID_UNTRUSTED
    report.notes.append(f"signer trusted through the allowed list (certificate SHA-256 {leaf_print})")


def confirm(
    report: AssetReport,
    path: Path,
    mime: str,
    context: c2pa.Context,
    trust: TrustSettings,
    store_json: str,
    sidecar: bytes | None,
) -> AssetReport:
    """Read the signing chains when the trust configuration needs them, then apply the checks."""
    if not trust.needs_certificates or report.active_manifest is None:
        return report
    results = json.loads(store_json).get("validation_results") or {}
    successes = {e.get("code") for e in ((results.get("activeManifest") or {}).get("success") or [])}
    try:
        chains: dict[str, list[x509.Certificate]] | None = signing_chains(path, mime, context, sidecar)
        why = ""
    except StoreError as exc:
        chains, why = None, str(exc)
    if chains:
        attach_certificates(report, chains)
    apply(report, trust, successes, chains, why)
    return report
