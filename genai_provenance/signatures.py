"""Detached signatures over bytes with an X.509 identity (clearance records, package reports)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from genai_provenance import trust
from genai_provenance.signing import Identity

_ALGS = {"es256": "ES256", "es384": "ES384", "es512": "ES512", "ps256": "PS256", "ed25519": "Ed25519"}
_HASHES = {"ES256": hashes.SHA256(), "ES384": hashes.SHA384(), "ES512": hashes.SHA512(), "PS256": hashes.SHA256()}


class BadSignature(Exception):
    """The signature block is unreadable or does not match the data."""


def sign_bytes(data: bytes, identity: Identity) -> dict[str, Any]:
    """A signature block: algorithm, certificate chain (leaf first), base64 signature value."""
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    alg = _ALGS[identity.alg]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        value = key.sign(data, ec.ECDSA(_HASHES[alg]))
    elif isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        value = key.sign(data)
    else:  # pragma: no cover - load_identity refuses other key types
        raise ValueError(f"unsupported key type {type(key).__name__}")
    chain = [
        c.public_bytes(serialization.Encoding.PEM).decode() for c in x509.load_pem_x509_certificates(identity.chain_pem)
    ]
    return {"alg": alg, "certificates": chain, "value": base64.b64encode(value).decode()}


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
