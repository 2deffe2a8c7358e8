"""The production signing profile: a TOML file (`--config FILE`, else $GENAI_PROVENANCE_CONFIG, else
`<workspace>/config.toml`) holding the signer, TSA, OCSP, trust files, default policy and ledger, so
export scripts run `sign IN --disclosure F` with no other flag.

Precedence is one path everywhere: flags, then environment variables, then this file, then the
workspace. Relative paths in the file are relative to the file's folder. Unknown keys are refused
(schemas/config.schema.json). A PIN in plain text is accepted only from a file only its owner can read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from genai_provenance.errors import InputError
from genai_provenance.files import read_regular
from genai_provenance.schemas import validate
from genai_provenance.trust.config import TrustFlags

ENV_CONFIG = "GENAI_PROVENANCE_CONFIG"
ENV_TSA_URL = "GENAI_PROVENANCE_TSA_URL"
ENV_POLICY = "GENAI_PROVENANCE_POLICY"
WORKSPACE_CONFIG = "config.toml"


class OcspMode(StrEnum):
    """What `sign` does about the signing certificate's revocation status."""

    OFF = "off"  # nothing (no network)
    REQUIRE = "require"  # ask the certificate's OCSP responder first; sign only on a verified `good`


@dataclass(frozen=True)
class TokenSigner:
    """A key in a PKCS#11 token. The PIN comes from `pin_env` (or `pin`, from a 0600 file only)."""

    token: str
    key_label: str | None = None
    key_id: str | None = None
    module: Path | None = None
    pin_env: str | None = None
    pin: str | None = field(default=None, repr=False)

    def resolved_pin(self) -> str | None:
        """$GENAI_PROVENANCE_PKCS11_PIN wins, then the variable `pin_env` names, then `pin`."""
        from genai_provenance.credentials.hsm import ENV_PIN

        if os.environ.get(ENV_PIN):
            return os.environ[ENV_PIN]
        if self.pin_env and os.environ.get(self.pin_env):
            return os.environ[self.pin_env]
        return self.pin


@dataclass(frozen=True)
class SignerProfile:
    """The media signing identity: a certificate chain (PEM, leaf first) and a PEM key or a token key."""

    cert: Path
    key: Path | None = None
    token: TokenSigner | None = None


@dataclass(frozen=True)
class OrganisationProfile:
    """The organisation's CAWG identity: its name and the X.509 credential (PEM) that signs the assertion."""

    organisation: str
    cert: Path
    key: Path


@dataclass(frozen=True)
class OcspProfile:
    mode: OcspMode = OcspMode.OFF
    responder_url: str | None = None  # else the signing certificate's AIA OCSP URL
    timeout: float = 10.0


@dataclass(frozen=True)
class SigningProfile:
    """What a config file says; every field None/empty when it does not say it."""

    path: Path | None = None
    signer: SignerProfile | None = None
    identity: OrganisationProfile | None = None
    tsa_url: str | None = None
    ocsp: OcspProfile = field(default_factory=OcspProfile)
    trust: TrustFlags = field(default_factory=TrustFlags)
    policy: Path | None = None
    ledger: str | None = None

    def env_tsa_url(self) -> str | None:
        """$GENAI_PROVENANCE_TSA_URL, else the file's `tsa_url`."""
        return os.environ.get(ENV_TSA_URL) or self.tsa_url

    def env_policy(self) -> Path | None:
        """$GENAI_PROVENANCE_POLICY, else the file's `policy`."""
        value = os.environ.get(ENV_POLICY)
        return Path(value).expanduser() if value else self.policy


EMPTY = SigningProfile()


def find_config(flag: Path | None, workspace_home: Path | None) -> Path | None:
    """--config, else $GENAI_PROVENANCE_CONFIG, else `<workspace>/config.toml` when it exists."""
    if flag is not None:
        return flag
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser()
    candidate = workspace_home / WORKSPACE_CONFIG if workspace_home else None
    return candidate if candidate is not None and candidate.is_file() else None


def load_profile(path: Path) -> SigningProfile:
    """Read and check a config file; one-line errors name the file and the key."""
    import tomllib  # only when there is a config file

    data = read_regular(path, "config file")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not a valid TOML file ({exc})") from None
    validate("config", document, str(path))
    base = path.parent

    def file(value: Any) -> Path | None:
        return (base / Path(value).expanduser()) if isinstance(value, str) else None

    signer = _signer(document.get("signer"), path, file)
    org: dict[str, Any] | None = document.get("identity")
    identity = None
    if org is not None:
        cert, key = file(org["cert"]), file(org["key"])
        assert cert is not None and key is not None  # required by the schema
        identity = OrganisationProfile(org["organisation"], cert, key)
    ocsp_doc: dict[str, Any] = document.get("ocsp", {})
    trust: dict[str, Any] = document.get("trust", {})
    ledger = document.get("ledger")
    if isinstance(ledger, str) and not ledger.startswith(("postgresql://", "postgres://")):
        ledger = str(file(ledger))
    return SigningProfile(
        path=path,
        signer=signer,
        identity=identity,
        tsa_url=document.get("tsa_url"),
        ocsp=OcspProfile(
            OcspMode(ocsp_doc.get("mode", OcspMode.OFF)),
            ocsp_doc.get("responder_url"),
            float(ocsp_doc.get("timeout", 10.0)),
        ),
        trust=TrustFlags(
            anchors=file(trust.get("anchors")),
            approver=file(trust.get("approver_anchors")),
            packager=file(trust.get("packager_anchors")),
            tsa=file(trust.get("tsa_anchors")),
            allowed_list=file(trust.get("allowed_list")),
            trust_config=file(trust.get("trust_config")),
        ),
        policy=Path("default") if document.get("policy") == "default" else file(document.get("policy")),
        ledger=ledger,
    )


def _signer(doc: dict[str, Any] | None, path: Path, file: Any) -> SignerProfile | None:
    if doc is None:
        return None
    token_doc: dict[str, Any] | None = doc.get("pkcs11")
    token = None
    if token_doc is not None:
        if "pin" in token_doc and not _owner_only(path):
            raise InputError(
                f"{path}: signer.pkcs11.pin: a PIN in plain text needs the file to be readable by its owner only "
                "(chmod 600); better, name an environment variable with pin_env"
            )
        token = TokenSigner(
            token_doc["token"],
            token_doc.get("key_label"),
            token_doc.get("key_id"),
            file(token_doc.get("module")),
            token_doc.get("pin_env"),
            token_doc.get("pin"),
        )
    return SignerProfile(file(doc["cert"]), file(doc.get("key")), token)


def _owner_only(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)
