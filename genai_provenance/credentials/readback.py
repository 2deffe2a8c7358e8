"""Reading back a sidecar signed over a hash we computed, without reading the asset a second time.

c2pa checks the store against no asset bytes: the claim signature, the signer's trust, every assertion's
hashed URI, the ingredients. The one check it cannot make, the whole-file data hash, is ours: the signed
`c2pa.hash.data` of the active manifest must be exactly the SHA-256 we read while signing (whole file, no
exclusions). Only then is c2pa's "no data to hash" mismatch for that one assertion set aside; anything else
stays a failure, and the status is computed from what remains (manifest_store.report_from_store).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from typing import Any

import c2pa

from genai_provenance.credentials.formats import SIDECAR_ANY_MIME
from genai_provenance.credentials.manifest_store import report_from_store
from genai_provenance.credentials.native import SIDECAR_HASH_NAME, DataHash
from genai_provenance.credentials.read import failed_report
from genai_provenance.model.provenance import INVALID, UNREADABLE, AssetReport

MISMATCH = "assertion.dataHash.mismatch"
HASH_DATA = "c2pa.hash.data"


def _binding(detailed: dict[str, Any], active: str) -> dict[str, Any] | None:
    manifest = detailed.get("manifests", {}).get(active, {})
    binding = manifest.get("assertion_store", {}).get(HASH_DATA) if isinstance(manifest, dict) else None
    return binding if isinstance(binding, dict) else None


def binds(binding: dict[str, Any] | None, digest: DataHash) -> bool:
    """The signed hard binding is the whole file hashed to `digest`."""
    if binding is None or binding.get("alg") != digest.alg or binding.get("name") != SIDECAR_HASH_NAME:
        return False
    if binding.get("exclusions"):
        return False
    try:
        signed = base64.b64decode(str(binding.get("hash", "")), validate=True)
    except (binascii.Error, ValueError):
        return False
    return signed == digest.digest


def _set_aside(results: dict[str, Any], url: str) -> bool:
    """Drop the one mismatch c2pa reports for `url` (having no bytes to hash); True when it was there."""
    active = results.get("activeManifest")
    if not isinstance(active, dict) or not isinstance(active.get("failure"), list):
        return False
    kept = [f for f in active["failure"] if not (f.get("code") == MISMATCH and f.get("url") == url)]
    found = len(kept) != len(active["failure"])
    active["failure"] = kept
    if found:
        active.setdefault("success", []).append(
            {"code": "assertion.dataHash.match", "url": url, "explanation": "whole-file SHA-256 read while signing"}
        )
    return found


def verify_store(store: bytes, digest: DataHash, mime: str, context: c2pa.Context, display: str) -> AssetReport:
    """The report for an asset whose whole-file hash is `digest`, checked against the sidecar `store`."""
    report = AssetReport(path=display, format=mime, status=UNREADABLE)
    # No asset bytes, so no format to parse: the hard binding of any sidecar is the whole-file data hash.
    try:
        with c2pa.Reader(SIDECAR_ANY_MIME, io.BytesIO(b""), store, context=context) as reader:
            store_json = reader.json()
            detailed = json.loads(reader.detailed_json())
            state = reader.get_validation_state()
            try:
                cr: str | None = reader.crjson()
            except c2pa.C2paError:
                cr = None
    except c2pa.C2paError as exc:
        return failed_report(report, INVALID, "manifest.unreadable", " ".join(str(exc).split()) or "unreadable")
    doc = json.loads(store_json)
    active = doc.get("active_manifest")
    results = doc.get("validation_results")
    url = f"self#jumbf=/c2pa/{active}/c2pa.assertions/{HASH_DATA}"
    bound = isinstance(active, str) and isinstance(results, dict) and binds(_binding(detailed, str(active)), digest)
    if bound and isinstance(results, dict) and _set_aside(results, url):
        status = doc.get("validation_status")
        if isinstance(status, list):
            doc["validation_status"] = [s for s in status if not (s.get("code") == MISMATCH and s.get("url") == url)]
        return report_from_store(report, json.dumps(doc), cr, None)
    return report_from_store(report, store_json, cr, state)  # as c2pa saw it: invalid
