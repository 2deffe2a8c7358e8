"""Plain-language explanations of C2PA validation codes."""

from __future__ import annotations

from collections.abc import Iterable

from genai_provenance.model.provenance import INVALID, TRUSTED, VALID_UNTRUSTED, Failure
from genai_provenance.model.vocabulary import Status

CODES: dict[str, str] = {
    "signingCredential.untrusted": "the signing certificate does not chain to any trusted anchor",
    "signingCredential.expired": "the signing certificate had expired when it signed",
    "signingCredential.revoked": "the signing certificate was revoked",
    "signingCredential.invalid": "the signing certificate is not valid for C2PA signing",
    "claimSignature.mismatch": "the claim signature does not match the claim: the manifest was altered",
    "claimSignature.missing": "the claim signature is missing",
    "claimSignature.outsideValidity": "the claim was signed outside the certificate's validity period",
    "assertion.dataHash.mismatch": "the media bytes changed after signing",
    "assertion.bmffHash.mismatch": "the media bytes changed after signing",
    "assertion.boxesHash.mismatch": "the media bytes changed after signing",
    "assertion.hashedURI.mismatch": "an assertion changed after signing",
    "assertion.missing": "an assertion the claim refers to is missing",
    "assertion.multipleHardBindings": "the manifest binds the media more than once",
    "assertion.action.ingredientMismatch": "an action refers to an ingredient that does not match",
    "ingredient.hashedURI.mismatch": "an ingredient's record changed after signing",
    "ingredient.manifest.mismatch": "an ingredient's manifest does not match what was recorded",
    "manifest.inaccessible": "the manifest could not be read",
    "media.damaged": "the file is not whole media (truncated or damaged)",
    "manifest.unreadable": "the manifest structure is damaged and could not be verified",
    "manifest.remote": "the credentials are stored remotely and were not fetched",
    "manifest.damaged": "the file carries a C2PA manifest store the C2PA library cannot find or read: damaged",
    "format.mismatch": "the file's content is not the format its name says",
    "format.unsupported": "the format is not supported",
    "file.unreadable": "the file could not be read",
    "timeStamp.mismatch": "the time-stamp does not match the signature",
    "timeStamp.untrusted": "the time-stamp authority is not among the trust anchors",
    "timeStamp.outsideValidity": "the time-stamp lies outside the certificate's validity period",
    "algorithm.unsupported": "the signature algorithm is not supported",
    "general.error": "the C2PA library reported an error",
    "signingCredential.unverified": "the signing certificate could not be checked against the trust configuration",
    "cawg.x509.credential.untrusted": "the identity credential (who the CAWG identity assertion names) is not on a"
    " trust list: the named identity is unconfirmed",
    "cawg.x509.credential.invalid": "the identity credential of a CAWG identity assertion is not valid",
    "cawg.x509.signature.mismatch": "the CAWG identity assertion's signature does not match: it was altered",
}

# Codes that say "we cannot vouch for who signed", not "the bytes or the claim are broken".
# An identity credential that is merely not on a trust list is not tampering (c2pa keeps the state Valid).
TRUST_ONLY = {
    "signingCredential.untrusted",
    "timeStamp.untrusted",
    "signingCredential.ocsp.skipped",
    "signingCredential.unverified",
    "cawg.x509.credential.untrusted",
}


def explain(code: str, library_text: str | None = None) -> str:
    ours = CODES.get(code)
    if ours and library_text and library_text.lower() not in ours.lower():
        return f"{ours} ({library_text})"
    return ours or library_text or code


def stage_status(failures: Iterable[Failure], trusted: bool) -> Status:
    """A signed stage's status: invalid on any failure beyond trust, trusted only when trusted and clean."""
    codes = [f.code for f in failures]
    if any(code not in TRUST_ONLY for code in codes):
        return INVALID
    return TRUSTED if trusted and not codes else VALID_UNTRUSTED
