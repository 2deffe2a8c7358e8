"""RFC 3161 time-stamps over a clearance record's signature, so its issue time cannot be backdated.

asn1crypto (already installed with python-pkcs11) encodes the request and parses the reply; the
TSA's CMS signature is checked here with `cryptography`. The verifier never touches the network:
only signing asks the configured TSA.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from genai_provenance.credentials.identity import name_attr
from genai_provenance.errors import SigningError
from genai_provenance.trust.detached import chain_problem

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
BACKDATE_TOLERANCE = dt.timedelta(minutes=5)


class BadTimeStamp(Exception):
    """The time-stamp token is unreadable, does not cover the signature, or its TSA signature fails."""


@dataclass(frozen=True)
class TimeStamp:
    """What a verified token says: when, and which TSA said so."""

    time: dt.datetime
    tsa: str


def request_token(url: str, data: bytes, timeout: float = 30) -> str:
    """Ask the TSA at `url` for a token over sha256(data); the token, base64 DER."""
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(data).digest(),
            },
            "nonce": secrets.randbits(63),
            "cert_req": True,
        }
    )
    http = urllib.request.Request(
        url, data=request.dump(), headers={"Content-Type": "application/timestamp-query"}, method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as reply:
            body = reply.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SigningError(f"time-stamp authority {url}: no answer ({exc})") from None
    try:
        response = tsp.TimeStampResp.load(body)
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise SigningError(f"time-stamp authority {url}: refused ({status})")
        token = response["time_stamp_token"]
        tst = token["content"]["encap_content_info"]["content"].parsed
        if tst["nonce"].native != request["nonce"].native:
            raise SigningError(f"time-stamp authority {url}: the reply does not answer our request (nonce)")
        return base64.b64encode(token.dump()).decode()
    except (ValueError, KeyError, TypeError) as exc:
        raise SigningError(f"time-stamp authority {url}: unreadable reply ({exc.__class__.__name__})") from None


def verify_token(token_b64: str, data: bytes, anchors: list[x509.Certificate] | None = None) -> TimeStamp:
    """Check that the token covers `data` and that the TSA signed it (and, with `anchors`, that the
    TSA's certificate chains to one of them). Raise BadTimeStamp saying why not."""
    try:
        token = cms.ContentInfo.load(base64.b64decode(token_b64, validate=True))
        signed = token["content"]
        tst = signed["encap_content_info"]["content"].parsed
        imprint = tst["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        certs = [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"] or []]
        [signer] = list(signed["signer_infos"])
        gen_time = tst["gen_time"].native
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadTimeStamp(f"unreadable time-stamp token ({exc.__class__.__name__})") from None
    if algorithm not in _HASHES:
        raise BadTimeStamp(f"time-stamp uses an unsupported hash ({algorithm})")
    digest = hashes.Hash(_HASHES[algorithm]())
    digest.update(data)
    if imprint["hashed_message"].native != digest.finalize():
        raise BadTimeStamp("time-stamp does not cover this signature")
    tsa = _signer_certificate(signer, certs)
    _check_cms_signature(signer, signed["encap_content_info"]["content"].contents, tsa)
    try:
        usage = list(tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usage = []
    if ExtendedKeyUsageOID.TIME_STAMPING not in usage:
        raise BadTimeStamp("time-stamp signer is not a time-stamp authority (no timeStamping usage)")
    if anchors is not None:
        chain = [tsa] + [c for c in certs if c != tsa]
        problem = chain_problem(chain, anchors)
        if problem:
            raise BadTimeStamp(f"time-stamp authority {problem.replace('trusted roots', 'TSA roots')}")
    name = name_attr(tsa.subject, NameOID.COMMON_NAME) or tsa.subject.rfc4514_string()
    return TimeStamp(gen_time.astimezone(dt.UTC), name)


def _signer_certificate(signer: cms.SignerInfo, certs: list[x509.Certificate]) -> x509.Certificate:
    sid = signer["sid"]
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if cert.serial_number == wanted["serial_number"].native and cert.issuer.public_bytes() == (
                wanted["issuer"].dump()
            ):
                return cert
        else:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.chosen.native:
                return cert
    raise BadTimeStamp("time-stamp token does not carry its TSA's certificate")


def _check_cms_signature(signer: cms.SignerInfo, content: bytes, cert: x509.Certificate) -> None:
    algorithm = signer["digest_algorithm"]["algorithm"].native
    if algorithm not in _HASHES:
        raise BadTimeStamp(f"time-stamp signed with an unsupported hash ({algorithm})")
    chosen = _HASHES[algorithm]()
    attrs = signer["signed_attrs"]
    if not attrs:
        raise BadTimeStamp("time-stamp token has no signed attributes")
    digest = hashes.Hash(_HASHES[algorithm]())
    digest.update(content)
    found = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
    if found != [digest.finalize()]:
        raise BadTimeStamp("time-stamp token was altered (content digest)")
    signed_bytes = b"\x31" + attrs.dump()[1:]  # signed over as a SET OF, not the [0] IMPLICIT tag
    value = signer["signature"].native
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(value, signed_bytes, ec.ECDSA(chosen))
        elif isinstance(key, rsa.RSAPublicKey):
            if signer["signature_algorithm"].signature_algo == "rsassa_pss":
                key.verify(value, signed_bytes, padding.PSS(padding.MGF1(chosen), padding.PSS.AUTO), chosen)
            else:
                key.verify(value, signed_bytes, padding.PKCS1v15(), chosen)
        else:
            raise BadTimeStamp("time-stamp signed with an unsupported key type")
    except InvalidSignature:
        raise BadTimeStamp("time-stamp signature does not match: the token was altered or forged") from None
