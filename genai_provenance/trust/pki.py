"""Certificates made with `cryptography`: development roots and leaf identities."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: PrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return private_key_pem(self.key)


def private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    not_before: dt.datetime | None,
    days: int,
) -> x509.CertificateBuilder:
    """Subject, issuer, key, a random serial and the validity (from an hour ago unless `not_before`)."""
    start = not_before or (_now() - dt.timedelta(hours=1))
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
    )


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """A CA signs certificates and CRLs only; an end entity signs content only."""
    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def create_root(
    common_name: str, organisation: str, *, days: int = 3650, not_before: dt.datetime | None = None
) -> Issued:
    """A self-signed P-256 certificate authority."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name, organisation)
    cert = (
        _builder(name, name, key.public_key(), not_before, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def issue_leaf(
    issuer: Issued,
    common_name: str,
    organisation: str,
    *,
    days: int = 825,
    eku: x509.ObjectIdentifier = ExtendedKeyUsageOID.EMAIL_PROTECTION,
    eku_critical: bool = False,
    not_before: dt.datetime | None = None,
    ocsp_url: str | None = None,
) -> Issued:
    """A P-256 end-entity certificate acceptable to C2PA (KU digitalSignature, EKU, AKI/SKI).

    A time-stamp authority certificate wants eku=TIME_STAMPING with eku_critical=True (RFC 3161).
    `ocsp_url`: the issuer's OCSP responder, named in an Authority Information Access extension.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certify_public_key(
        issuer,
        key.public_key(),
        common_name,
        organisation,
        days=days,
        eku=eku,
        eku_critical=eku_critical,
        not_before=not_before,
        ocsp_url=ocsp_url,
    )
    return Issued(cert, key)


def certify_public_key(
    issuer: Issued,
    public_key: CertificatePublicKeyTypes,
    common_name: str,
    organisation: str,
    *,
    days: int = 825,
    eku: x509.ObjectIdentifier = ExtendedKeyUsageOID.EMAIL_PROTECTION,
    eku_critical: bool = False,
    not_before: dt.datetime | None = None,
    ocsp_url: str | None = None,
) -> x509.Certificate:
    """An end-entity certificate, as issue_leaf makes, for a key held elsewhere (e.g. in an HSM)."""
    builder = _builder(_name(common_name, organisation), issuer.cert.subject, public_key, not_before, days)
    if ocsp_url:
        access = x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    return (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=eku_critical)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
