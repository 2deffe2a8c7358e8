"""Trust configuration: anchors per role, allowed end-entity list, EKU list; chain checks.

One place resolves what is trusted, flags first, then environment variables, then the workspace's
trust/ folder. Certificate chains are validated by `cryptography.x509.verification` (validity of
every certificate at the relevant time, basic constraints and path length, key usage, EKU).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import verification as xv
from cryptography.x509.oid import ObjectIdentifier

from genai_provenance.credentials.identity import C2PA_EKUS, name_attr
from genai_provenance.errors import IdentityError


class Role(StrEnum):
    """Who a set of anchors vouches for; the roles never share anchors by default."""

    MEDIA = "media"
    APPROVER = "approver"
    PACKAGER = "packager"
    TSA = "tsa"


ENV_ANCHORS = "GENAI_PROVENANCE_TRUST_ANCHORS"
ENV_ALLOWED_LIST = "GENAI_PROVENANCE_ALLOWED_LIST"
ENV_TRUST_CONFIG = "GENAI_PROVENANCE_TRUST_CONFIG"
ENV_TSA_TRUST = "GENAI_PROVENANCE_TSA_TRUST"

# Workspace files, relative to its home.
WS_FILES = {
    Role.MEDIA: "trust/anchors.pem",
    Role.APPROVER: "trust/approver-anchors.pem",
    Role.PACKAGER: "trust/packager-anchors.pem",
    Role.TSA: "trust/tsa-anchors.pem",
}
WS_ALLOWED_LIST = "trust/allowed-list.pem"
WS_TRUST_CONFIG = "trust/trust-config.txt"

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, lower-case hex (as `openssl x509 -fingerprint -sha256`, no colons)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def read_pem_certificates(path: Path, what: str) -> list[x509.Certificate]:
    """Every certificate of a PEM file; anything else in it (keys, junk) is refused by name."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IdentityError(f"{path}: {what} file not found") from None
    except OSError as exc:
        raise IdentityError(f"{path}: cannot read {what} ({exc.strerror})") from None
    if b"PRIVATE KEY" in data:
        raise IdentityError(f"{path}: {what} file holds a private key; it must hold certificates only")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise IdentityError(f"{path}: {what} file is not PEM text") from None
    blocks = re.findall(r"-----BEGIN ([A-Z0-9 ]+)-----", text)
    if not blocks:
        raise IdentityError(f"{path}: no PEM certificate found in the {what} file")
    other = sorted({b for b in blocks if b != "CERTIFICATE"})
    if other:
        raise IdentityError(f"{path}: {what} file holds a {other[0]} block; it must hold certificates only")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise IdentityError(f"{path}: {what} file holds a certificate that cannot be parsed ({exc})") from None
    if len(certs) != len(blocks):
        raise IdentityError(f"{path}: {what} file holds a certificate that cannot be parsed")
    return certs


def read_trust_config(path: Path) -> tuple[str, ...]:
    """An EKU list as c2patool's trust_config: one dotted OID per line, `#` comments allowed."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise IdentityError(f"{path}: trust configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IdentityError(f"{path}: cannot read trust configuration ({exc})") from None
    oids = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if not _OID.match(text):
            raise IdentityError(
                f"{path}: line {number}: {text!r} is not an EKU object identifier (e.g. 1.3.6.1.5.5.7.3.4)"
            )
        oids.append(text)
    if not oids:
        raise IdentityError(f"{path}: trust configuration lists no EKU object identifier")
    return tuple(oids)


def _pem(certs: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


@dataclass(frozen=True)
class TrustConfig:
    """What is trusted, per role, as PEM text (picklable for worker processes).

    `allowed_list`: SHA-256 fingerprints of end-entity certificates trusted even without an anchor
    (c2patool's allowed list). `ekus`: the EKU OIDs a media signer must carry (None: C2PA's set).
    """

    media_pem: str | None = None
    approver_pem: str | None = None
    packager_pem: str | None = None
    tsa_pem: str | None = None
    allowed_list: tuple[str, ...] = ()
    ekus: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TrustFlags:
    """The trust files named on the command line (None: not given)."""

    anchors: Path | None = None
    approver: Path | None = None
    packager: Path | None = None
    tsa: Path | None = None
    allowed_list: Path | None = None
    trust_config: Path | None = None


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def _pick(flag: Path | None, env: str | None, configured: Path | None, ws_file: Path | None) -> Path | None:
    """The flag, else the environment variable, else the config file's, else the workspace file when it exists."""
    if flag is not None:
        return flag
    env_path = _env_path(env) if env else None
    if env_path is not None:
        return env_path
    if configured is not None:
        return configured
    return ws_file if ws_file is not None and ws_file.is_file() else None


def resolve_trust_config(
    flags: TrustFlags, workspace_home: Path | None, configured: TrustFlags | None = None
) -> TrustConfig:
    """Flags, else environment variables, else `configured` (the config file's), else the workspace's
    trust/ folder; every file validated."""
    conf = configured or TrustFlags()

    def ws(rel: str) -> Path | None:
        return workspace_home / rel if workspace_home else None

    pems: dict[Role, str | None] = {}
    for role, flag, env, in_file in (
        (Role.MEDIA, flags.anchors, ENV_ANCHORS, conf.anchors),
        (Role.APPROVER, flags.approver, None, conf.approver),
        (Role.PACKAGER, flags.packager, None, conf.packager),
        (Role.TSA, flags.tsa, ENV_TSA_TRUST, conf.tsa),
    ):
        path = _pick(flag, env, in_file, ws(WS_FILES[role]))
        pems[role] = _pem(read_pem_certificates(path, f"{role} trust anchors")) if path else None
    path = _pick(flags.allowed_list, ENV_ALLOWED_LIST, conf.allowed_list, ws(WS_ALLOWED_LIST))
    allowed = tuple(sorted({fingerprint(c) for c in read_pem_certificates(path, "allowed list")})) if path else ()
    path = _pick(flags.trust_config, ENV_TRUST_CONFIG, conf.trust_config, ws(WS_TRUST_CONFIG))
    ekus = read_trust_config(path) if path else None
    return TrustConfig(pems[Role.MEDIA], pems[Role.APPROVER], pems[Role.PACKAGER], pems[Role.TSA], allowed, ekus)


# --------------------------------------------------------------------------- chain validation

# What approvers and packagers made by pki.py carry; C2PA's signing EKUs are accepted as well.
RECORD_EKUS = frozenset(C2PA_EKUS)


EkuValidator = Callable[[xv.Policy, x509.Certificate, x509.ExtendedKeyUsage | None], None]


def _eku_validator(allowed: frozenset[ObjectIdentifier]) -> EkuValidator:
    """Refuse an end-entity certificate without one of the `allowed` extended key usages."""

    def check(policy: xv.Policy, cert: x509.Certificate, ext: x509.ExtendedKeyUsage | None) -> None:
        if ext is None:
            raise ValueError("end-entity certificate has no extended key usage")
        if not set(ext) & allowed:
            names = ", ".join(getattr(o, "_name", o.dotted_string) for o in ext)
            raise ValueError(f"extended key usage ({names}) is not allowed for this role")

    return check


def _verifier(anchors: list[x509.Certificate], at: dt.datetime, ekus: frozenset[ObjectIdentifier]) -> xv.ClientVerifier:
    ee = (
        xv.ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.SubjectAlternativeName, xv.Criticality.AGNOSTIC, None)
        .may_be_present(x509.ExtendedKeyUsage, xv.Criticality.AGNOSTIC, _eku_validator(ekus))
    )
    return (
        xv.PolicyBuilder()
        .store(xv.Store(anchors))
        .time(at)
        .extension_policies(ca_policy=xv.ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee)
        .build_client_verifier()
    )


def _cn(name: x509.Name) -> str:
    return name_attr(name, x509.oid.NameOID.COMMON_NAME) or name.rfc4514_string()


def _reason(exc: Exception, certs: list[x509.Certificate], anchors: list[x509.Certificate], at: dt.datetime) -> str:
    text = " ".join(str(exc).split()).removeprefix("validation failed: ")
    text = re.sub(r" \(encountered processing <Certificate\(.*\)>\)$", "", text)
    for cert in certs:
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            return (
                f"certificate {_cn(cert.subject)!r} was outside its validity at {at:%Y-%m-%dT%H:%M:%SZ} "
                f"(valid {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})"
            )
    anchor_names = {a.subject for a in anchors}
    if not any(c.issuer in anchor_names or c in anchors for c in certs):
        return f"chain ends at {_cn(certs[-1].issuer)!r}, which is not among the trusted roots"
    if "basicConstraints.cA" in text or "must be asserted in a CA" in text:
        for parent in certs[1:]:
            if any(c.issuer == parent.subject for c in certs) and not _is_ca(parent):
                return f"certificate chain runs through {parent.subject.rfc4514_string()!r}, which is not a CA"
        return "certificate chain runs through a certificate that is not a CA"
    if "path length" in text:
        return "certificate chain is longer than its CA's path length constraint allows"
    if "extended key usage" in text:
        return f"certificate {_cn(certs[0].subject)!r}: {text.split('ValueError: ', 1)[-1]}"
    return f"certificate chain rejected ({text})"


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def chain_problem(
    certs: list[x509.Certificate],
    anchors: list[x509.Certificate],
    at: dt.datetime | None = None,
    ekus: frozenset[ObjectIdentifier] = RECORD_EKUS,
) -> str | None:
    """None when `certs` (leaf first) chain to one of `anchors` and every one is valid at `at`; else why not."""
    if not certs:
        return "no certificate"
    if not anchors:
        return "no trusted roots are configured"
    moment = at or dt.datetime.now(dt.UTC)
    try:
        _verifier(anchors, moment, ekus).verify(certs[0], certs[1:])
    except xv.VerificationError as exc:
        return _reason(exc, certs, anchors, moment)
    return None
