"""Signing identities: certificate chain + private key from PEM files, checked before use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from genai_provenance.errors import IdentityError

# EKUs the C2PA library accepts on a signing certificate.
C2PA_EKUS = {
    ExtendedKeyUsageOID.EMAIL_PROTECTION,
    ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),  # document signing (Microsoft)
    ObjectIdentifier("1.3.6.1.5.5.7.3.36"),  # id-kp-documentSigning
    ExtendedKeyUsageOID.TIME_STAMPING,
    ExtendedKeyUsageOID.OCSP_SIGNING,
    ObjectIdentifier("1.3.6.1.4.1.62558.2.1"),  # C2PA claim signing
    ObjectIdentifier("1.3.6.1.4.1.311.76.59.1.9"),  # Microsoft C2PA
}


class SigningIdentity(Protocol):
    """What signing media needs: a chain (leaf first) and a c2pa signer (PEM key or a key in a token)."""

    @property
    def chain_pem(self) -> bytes: ...
    @property
    def alg(self) -> str: ...
    @property
    def certificate(self) -> x509.Certificate: ...
    @property
    def tsa_url(self) -> str | None: ...
    @property
    def subject(self) -> str: ...

    def signer(self) -> c2pa.Signer: ...

    def signing(self) -> AbstractContextManager[c2pa.Signer]:
        """A signer for one `Builder.sign`; on leaving, errors the signer hid from c2pa are raised."""
        ...


@dataclass(frozen=True)
class Identity:
    """A signing identity. The key never appears in repr, logs or reports."""

    chain_pem: bytes
    key_pem: bytes = field(repr=False)
    alg: str
    certificate: x509.Certificate = field(repr=False)
    tsa_url: str | None = None

    def signer(self) -> c2pa.Signer:
        info = c2pa.C2paSignerInfo(
            alg=self.alg.encode(),
            sign_cert=self.chain_pem,
            private_key=self.key_pem,
            ta_url=self.tsa_url.encode() if self.tsa_url else None,
        )
        return c2pa.Signer.from_info(info)

    @contextmanager
    def signing(self) -> Iterator[c2pa.Signer]:
        yield self.signer()

    @property
    def subject(self) -> str:
        return name_attr(self.certificate.subject, NameOID.COMMON_NAME) or self.certificate.subject.rfc4514_string()


def name_attr(name: x509.Name, oid: ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise IdentityError(f"{path}: {what} file not found") from None
    except OSError as exc:
        raise IdentityError(f"{path}: cannot read {what} ({exc.strerror})") from None


def load_certificates(path: Path, what: str = "certificate") -> list[x509.Certificate]:
    data = _read(path, what)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise IdentityError(f"{path}: no PEM certificate found in the {what} file")
    return certs


def _alg_for(key: object, path: Path) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algs = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name not in algs:
            raise IdentityError(f"{path}: elliptic curve {key.curve.name} is not allowed by C2PA")
        return algs[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise IdentityError(f"{path}: key type {type(key).__name__} is not supported for C2PA signing")


def check_certificate(cert: x509.Certificate, path: Path, now: dt.datetime | None = None) -> None:
    """Refuse a signing certificate C2PA would refuse, with a message that says why."""
    now = now or dt.datetime.now(dt.UTC)
    if cert.not_valid_after_utc < now:
        raise IdentityError(f"{path}: certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if cert.not_valid_before_utc > now:
        raise IdentityError(f"{path}: certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d}")
    try:
        ekus = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        raise IdentityError(f"{path}: certificate has no extended key usage; C2PA needs e.g. emailProtection") from None
    if not ekus & C2PA_EKUS:
        raise IdentityError(
            f"{path}: certificate's extended key usage does not allow C2PA signing "
            "(needs emailProtection, documentSigning or the C2PA signing OID)"
        )


def load_identity(cert_path: Path, key_path: Path, tsa_url: str | None = None) -> Identity:
    """Load a chain (leaf first) and its private key; check that they belong together."""
    certs = load_certificates(cert_path)
    leaf = certs[0]
    check_certificate(leaf, cert_path)
    key_data = _read(key_path, "private key")
    try:
        key = serialization.load_pem_private_key(key_data, password=None)
    except TypeError:
        raise IdentityError(f"{key_path}: private key is encrypted; provide an unencrypted PEM key") from None
    except ValueError:
        raise IdentityError(f"{key_path}: not a PEM private key") from None
    alg = _alg_for(key, key_path)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != leaf.public_key().public_bytes(*spki):
        raise IdentityError(f"{key_path}: private key does not match the certificate in {cert_path}")
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Identity(chain_pem=chain, key_pem=pkcs8, alg=alg, certificate=leaf, tsa_url=tsa_url)


def load_trust_anchors(path: Path, what: str = "trust anchors") -> str:
    """Return the PEM text of a trust-anchor file after checking it holds certificates only."""
    from genai_provenance.trust.config import read_pem_certificates  # trust.py builds on this module

    certs = read_pem_certificates(path, what)
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)
