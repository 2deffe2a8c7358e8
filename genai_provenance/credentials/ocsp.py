"""The signing certificate's revocation status, asked of its OCSP responder at sign time (RFC 6960).

Only `sign` calls this, and only when the config file's `[ocsp] mode = "require"` says so: the
verifier never touches the network. The answer counts only when it is signed by the certificate's
issuer or by a responder the issuer delegated (EKU OCSPSigning), names this very certificate, and is
fresh (our nonce echoed, or a current validity window). Anything else refuses to sign.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from genai_provenance.errors import ProvenanceError, SigningError
from genai_provenance.safe_text import clip

MAX_RESPONSE = 1024 * 1024
CLOCK_SKEW = dt.timedelta(minutes=5)
NO_NEXT_UPDATE_MAX_AGE = dt.timedelta(hours=1)  # a response without nextUpdate or nonce must be this recent
REUSE_FOR = dt.timedelta(minutes=5)  # how long one process signs under an answer it verified (see require_good)


class CertStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class SignerRevokedError(ProvenanceError):
    """The signing certificate is revoked (or unknown) at its responder: sign refuses (exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class OcspAnswer:
    """A verified OCSP answer about the signing certificate."""

    status: CertStatus
    responder_url: str
    produced_at: dt.datetime
    this_update: dt.datetime
    next_update: dt.datetime | None
    revoked_at: dt.datetime | None = None
    nonce_checked: bool = False
    response_der: bytes = field(default=b"", repr=False)

    def to_dict(self) -> dict[str, object]:
        def iso(t: dt.datetime | None) -> str | None:
            return t.isoformat(timespec="seconds") if t else None

        return {
            "status": str(self.status),
            "responder": self.responder_url,
            "produced_at": iso(self.produced_at),
            "this_update": iso(self.this_update),
            "next_update": iso(self.next_update),
            "nonce_checked": self.nonce_checked,
            "stapled": bool(self.response_der),  # sign staples every answer it signs under, or signs nothing
        }


def responder_url(leaf: x509.Certificate, override: str | None) -> str:
    """`override`, else the certificate's AIA OCSP URL."""
    if override:
        return override
    try:
        aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        aia = x509.AuthorityInformationAccess([])
    for desc in aia:
        if desc.access_method == AuthorityInformationAccessOID.OCSP and isinstance(
            desc.access_location, x509.UniformResourceIdentifier
        ):
            return desc.access_location.value
    raise SigningError(
        "OCSP is required (config [ocsp] mode) but the signing certificate names no OCSP responder (AIA) "
        "and no responder_url is configured; nothing was written"
    )


_RECENT: dict[tuple[bytes, str], OcspAnswer] = {}  # verified `good` answers this process already holds


def require_good(chain_pem: bytes, override_url: str | None, timeout: float) -> OcspAnswer:
    """Ask the responder about the chain's leaf; return a verified `good` answer, else refuse to sign.

    A `good` answer this process verified less than REUSE_FOR ago, and still inside its validity
    window, is used again: a batch of a thousand frames asks once per worker, not once per frame."""
    chain = x509.load_pem_x509_certificates(chain_pem)
    if len(chain) < 2:
        raise SigningError("OCSP needs the issuer's certificate: put it after the leaf in the signing chain")
    leaf, issuer = chain[0], chain[1]
    url = responder_url(leaf, override_url)
    key = (leaf.fingerprint(hashes.SHA256()), url)
    now = dt.datetime.now(dt.UTC)
    recent = _RECENT.get(key)
    if recent is not None and now - recent.produced_at < REUSE_FOR and (recent.next_update or now) >= now:
        return recent
    nonce = os.urandom(16)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf, issuer, hashes.SHA256())
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
    )
    der = _post(url, request.public_bytes(serialization.Encoding.DER), timeout)
    answer = check_response(der, leaf, issuer, url, nonce)
    if answer.status == CertStatus.REVOKED:
        when = f" since {answer.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if answer.revoked_at else ""
        raise SignerRevokedError(f"signing certificate is revoked{when} (OCSP responder {url}); nothing was written")
    if answer.status != CertStatus.GOOD:
        raise SignerRevokedError(
            f"OCSP responder {url} does not know the signing certificate (status unknown); nothing was written"
        )
    _RECENT[key] = answer
    _sign_after_second_of(answer.this_update)
    return answer


def _sign_after_second_of(moment: dt.datetime) -> None:
    """Sign in a later second than the answer's thisUpdate.

    Readers compare the signing time with thisUpdate to the second, and one strict reader
    (encypher-c2pa) finds an answer dated the very second of the signature unusable
    (`signingCredential.ocsp.skipped`). Waiting for the next second costs at most one second."""
    delay = (moment.replace(microsecond=0) + dt.timedelta(seconds=1) - dt.datetime.now(dt.UTC)).total_seconds()
    if 0 < delay <= 1:
        time.sleep(delay)


def _post(url: str, body: bytes, timeout: float) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise SigningError(f"OCSP responder {clip(url)!r}: only http(s) URLs are used")
    req = urllib.request.Request(url, body, {"Content-Type": "application/ocsp-request"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data: bytes = resp.read(MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        why = getattr(exc, "reason", None) or exc
        raise SigningError(
            f"OCSP responder {url} could not be reached ({clip(str(why))}); nothing was written"
        ) from None
    if len(data) > MAX_RESPONSE:
        raise SigningError(f"OCSP responder {url}: answer larger than {MAX_RESPONSE} bytes; nothing was written")
    return data


def _bad(url: str, why: str) -> SigningError:
    return SigningError(f"OCSP responder {url}: {why}; nothing was written")


def check_response(
    der: bytes,
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    url: str,
    nonce: bytes | None,
    now: dt.datetime | None = None,
) -> OcspAnswer:
    """Verify an OCSP response about `leaf` (issued by `issuer`); raise SigningError when it cannot be trusted."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        resp = ocsp.load_der_ocsp_response(der)
    except ValueError:
        raise _bad(url, "answer is not an OCSP response") from None
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise _bad(url, f"answered {resp.response_status.name.lower()}")
    signer = _response_signer(resp, issuer, url, now)
    _verify_signature(signer, resp, url)
    single = _single_for(resp, leaf, issuer, url)
    nonce_checked = _check_nonce(resp, nonce, url)
    this_update = single.this_update_utc
    next_update = single.next_update_utc
    if this_update > now + CLOCK_SKEW:
        raise _bad(url, "answer is dated in the future")
    if next_update is not None and next_update < now - CLOCK_SKEW:
        raise _bad(url, f"answer expired at {next_update:%Y-%m-%dT%H:%M:%SZ} (stale or replayed)")
    if not nonce_checked and next_update is None and now - this_update > NO_NEXT_UPDATE_MAX_AGE:
        raise _bad(url, "answer has no nonce and no nextUpdate and is not recent (possible replay)")
    status = {
        ocsp.OCSPCertStatus.GOOD: CertStatus.GOOD,
        ocsp.OCSPCertStatus.REVOKED: CertStatus.REVOKED,
    }.get(single.certificate_status, CertStatus.UNKNOWN)
    return OcspAnswer(
        status,
        url,
        resp.produced_at_utc,
        this_update,
        next_update,
        single.revocation_time_utc,
        nonce_checked,
        der,
    )


def _matches_responder(resp: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    if resp.responder_name is not None:
        return resp.responder_name == cert.subject
    # ResponderID byKey: SHA-1 of the subjectPublicKey bits, as SubjectKeyIdentifier method 1 computes it
    return resp.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def _response_signer(resp: ocsp.OCSPResponse, issuer: x509.Certificate, url: str, now: dt.datetime) -> x509.Certificate:
    """The issuer itself, or a delegated responder certificate the issuer signed with EKU OCSPSigning."""
    if _matches_responder(resp, issuer):
        return issuer
    for cert in resp.certificates:
        if not _matches_responder(resp, cert):
            continue
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise _bad(
                url, "answer is signed by a responder the signing certificate's issuer did not authorise"
            ) from None
        try:
            ekus = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            ekus = x509.ExtendedKeyUsage([])
        if ExtendedKeyUsageOID.OCSP_SIGNING not in ekus:
            raise _bad(url, "responder certificate lacks the OCSPSigning extended key usage")
        if not cert.not_valid_before_utc - CLOCK_SKEW <= now <= cert.not_valid_after_utc + CLOCK_SKEW:
            raise _bad(url, "responder certificate is outside its validity")
        return cert
    raise _bad(url, "answer is not signed by the issuer or a responder it authorised")


def _verify_signature(signer: x509.Certificate, resp: ocsp.OCSPResponse, url: str) -> None:
    key = signer.public_key()
    algorithm = resp.signature_hash_algorithm
    try:
        if isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(), algorithm)
        else:
            raise _bad(url, "answer uses a signature algorithm this tool does not check")
    except InvalidSignature:
        raise _bad(url, "answer's signature does not verify") from None


def _single_for(
    resp: ocsp.OCSPResponse, leaf: x509.Certificate, issuer: x509.Certificate, url: str
) -> ocsp.OCSPSingleResponse:
    for single in resp.responses:
        if single.serial_number != leaf.serial_number:
            continue
        ref = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, single.hash_algorithm).build()
        if single.issuer_key_hash == ref.issuer_key_hash and single.issuer_name_hash == ref.issuer_name_hash:
            return single
    raise _bad(url, "answer is not about the signing certificate")


def _check_nonce(resp: ocsp.OCSPResponse, nonce: bytes | None, url: str) -> bool:
    try:
        echoed = resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return False
    if nonce is None or echoed != nonce:
        raise _bad(url, "answer's nonce is not the one asked for (replayed)")
    return True
