"""Detached signatures over bytes with an X.509 identity (clearance records, package reports)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from genai_provenance.credentials.identity import Identity
from genai_provenance.trust import config as trust

if TYPE_CHECKING:
    from genai_provenance.credentials.hsm import TokenIdentity

_ALGS = {"es256": "ES256", "es384": "ES384", "es512": "ES512", "ps256": "PS256", "ed25519": "Ed25519"}
_HASHES = {"ES256": hashes.SHA256(), "ES384": hashes.SHA384(), "ES512": hashes.SHA512(), "PS256": hashes.SHA256()}


class BadSignature(Exception):
    """The signature block is unreadable or does not match the data."""


def sign_bytes(data: bytes, identity: Identity | TokenIdentity) -> dict[str, Any]:
    """A signature block: algorithm, certificate chain (leaf first), base64 signature value.

    With a key in a PKCS#11 token, the token signs (raw r||s, stored DER-encoded like the others)."""
    alg = _ALGS[identity.alg]
    if not isinstance(identity, Identity):
        raw = identity.sign_digest(data)
        half = len(raw) // 2
        value = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
        return {"alg": alg, "certificates": _chain(identity.chain_pem), "value": base64.b64encode(value).decode()}
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        value = key.sign(data, ec.ECDSA(_HASHES[alg]))
    elif isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        value = key.sign(data)
    else:  # pragma: no cover - load_identity refuses other key types
        raise ValueError(f"unsupported key type {type(key).__name__}")
    return {"alg": alg, "certificates": _chain(identity.chain_pem), "value": base64.b64encode(value).decode()}


def _chain(chain_pem: bytes) -> list[str]:
    return [c.public_bytes(serialization.Encoding.PEM).decode() for c in x509.load_pem_x509_certificates(chain_pem)]


def verify_bytes(block: dict[str, Any], data: bytes) -> list[x509.Certificate]:
    """Check the block's signature over `data`; return its chain (leaf first) or raise BadSignature."""
    try:
        certs = [x509.load_pem_x509_certificate(pem.encode()) for pem in block["certificates"]]
        value = base64.b64decode(block["value"], validate=True)
        alg = block["alg"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadSignature(f"unreadable signature block ({exc})") from None
    if not certs:
        raise BadSignature("signature block has no certificate")
    key = certs[0].public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey) and alg in ("ES256", "ES384", "ES512"):
            key.verify(value, data, ec.ECDSA(_HASHES[alg]))
        elif isinstance(key, rsa.RSAPublicKey) and alg == "PS256":
            key.verify(value, data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey) and alg == "Ed25519":
            key.verify(value, data)
        else:
            raise BadSignature(f"algorithm {alg} does not fit the certificate's key")
    except InvalidSignature:
        raise BadSignature("signature does not match: the data was altered or the signature forged") from None
    return certs


def chain_problem(
    certs: list[x509.Certificate], anchors: list[x509.Certificate], at: dt.datetime | None = None
) -> str | None:
    """None when the chain is valid at `at` (default now) and ends under one of `anchors`; else why not.

    Validation is cryptography's X.509 path builder (see trust.chain_problem), not hand-written.
    """
    return trust.chain_problem(certs, anchors, at)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def anchor_of(certs: list[x509.Certificate], anchors: list[x509.Certificate]) -> x509.Certificate | None:
    """The anchor a chain ends at or under (use after chain_problem said it is valid); None when none."""
    top = certs[-1]
    return next((a for a in anchors if top == a or _issued_by(top, a)), None)
