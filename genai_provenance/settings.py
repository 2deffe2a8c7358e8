"""Resolve what a command runs with: trust anchors, approver roots, ledger, signing identity.

Explicit flags win, then environment variables (trust files, see trust.py), then the config file
(profile.py: --config, $GENAI_PROVENANCE_CONFIG or <workspace>/config.toml), then the workspace.
The ledger: --ledger (use_ledger), else $GENAI_PROVENANCE_LEDGER, else the config file's, else
workspace.json "ledger", else the workspace's ledger.sqlite.
"""

from __future__ import annotations

import dataclasses
import os
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from genai_provenance.credentials.identity import load_trust_anchors
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.errors import IdentityError, ProvenanceError
from genai_provenance.gate.check import CheckConfig, CheckSettings, ClearanceSource
from genai_provenance.profile import EMPTY, OcspProfile, SignerProfile, SigningProfile, find_config, load_profile
from genai_provenance.trust.config import TrustConfig, TrustFlags, resolve_trust_config
from genai_provenance.workspace import REVOCATION_LIST, REVOCATIONS_SEEN, Workspace, open_workspace, resolve_home

if TYPE_CHECKING:  # imported where used: `verify` needs no ledger, signing key, token or policy
    from cryptography import x509

    from genai_provenance.clearances.ledger import Ledger
    from genai_provenance.clearances.ledger_store import LedgerLocation
    from genai_provenance.clearances.revocations import RevocationList
    from genai_provenance.credentials.hsm import TokenIdentity, TokenKey
    from genai_provenance.credentials.identity import Identity, SigningIdentity
    from genai_provenance.policy.rules import Policy

ENV_LEDGER = "GENAI_PROVENANCE_LEDGER"
_ledger_flag: ContextVar[str | None] = ContextVar("ledger_flag", default=None)
_config_flag: ContextVar[Path | None] = ContextVar("config_flag", default=None)


def use_ledger(value: str | None) -> None:
    """The --ledger value of this command (a postgresql:// URL or an SQLite file), or None."""
    _ledger_flag.set(value)


def use_config(value: Path | None) -> None:
    """The --config value of this command (global or the subcommand's), or None."""
    _config_flag.set(value)


def signing_profile(home: Path | None) -> SigningProfile:
    """The config file (--config, else $GENAI_PROVENANCE_CONFIG, else <workspace>/config.toml), or an empty one."""
    path = find_config(_config_flag.get(), resolve_home(home))
    return load_profile(path) if path is not None else EMPTY


def ocsp_profile(home: Path | None) -> OcspProfile:
    """What sign does about the signing certificate's revocation status (the config file's [ocsp])."""
    return signing_profile(home).ocsp


def current_ledger_flag() -> str | None:
    """The --ledger value this command was given (worker processes are handed it)."""
    return _ledger_flag.get()


def current_config_flag() -> Path | None:
    """The --config value this command was given (worker processes are handed it)."""
    return _config_flag.get()


def _workspace(home: Path | None) -> Workspace | None:
    try:
        return open_workspace(home)
    except ProvenanceError:
        return None


def trust_config(flags: TrustFlags | None, home: Path | None) -> TrustConfig:
    """The trust configuration: flags, else environment variables, else the workspace (trust.py)."""
    ws = _workspace(home)
    return resolve_trust_config(flags or TrustFlags(), ws.home if ws else None, signing_profile(home).trust)


def trust_settings(config: TrustConfig, allow_remote: bool = False) -> TrustSettings:
    """What the media verifier runs with, from a resolved configuration."""
    return TrustSettings(config.media_pem, allow_remote, config.tsa_pem, config.allowed_list, config.ekus)


def resolve_trust(
    trust: Path | None,
    home: Path | None,
    allow_remote: bool = False,
    flags: TrustFlags | None = None,
    policy: Policy | None = None,
) -> TrustSettings:
    """--trust-anchors (alias --trust), else $GENAI_PROVENANCE_TRUST_ANCHORS, else the workspace's, else none.

    A `policy` whose signer list names fingerprints makes the verifier read signer certificates.
    """
    flags = flags or TrustFlags()
    if trust is not None:
        flags = dataclasses.replace(flags, anchors=trust)
    settings = trust_settings(trust_config(flags, home), allow_remote)
    if policy is None:
        return settings
    from genai_provenance.policy.signer_pins import needs_fingerprints

    return dataclasses.replace(settings, read_certificates=needs_fingerprints(policy.signers))


def resolve_identity(
    cert: Path | None, key: Path | None, home: Path | None, tsa_url: str | None, token: TokenKey | None = None
) -> SigningIdentity:
    """--cert/--key, else a key in a PKCS#11 token (--cert + --pkcs11-*), else the config file's signer,
    else the workspace's identity. The TSA: --tsa-url, else $GENAI_PROVENANCE_TSA_URL, else the config
    file's, else the workspace's."""
    from genai_provenance.credentials.hsm import load_token_identity
    from genai_provenance.credentials.identity import load_identity

    profile = signing_profile(home)
    tsa_url = tsa_url or profile.env_tsa_url()
    if token is None and cert is None and key is None and profile.signer is not None:
        return _profile_identity(profile.signer, profile.path, tsa_url)
    if token is not None:
        if key:
            raise IdentityError("--key and --pkcs11-token are mutually exclusive (the private key is in the token)")
        if not cert:
            raise IdentityError("--pkcs11-token needs --cert: the key's certificate chain (PEM, leaf first)")
        return load_token_identity(token, cert, tsa_url)
    if bool(cert) != bool(key):
        raise IdentityError("--cert and --key go together")
    if cert and key:
        return load_identity(cert, key, tsa_url)
    return open_workspace(home).identity(tsa_url)


def resolve_signer(
    cert: Path | None, key: Path | None, home: Path | None, tsa_url: str | None, token: TokenKey | None = None
) -> SigningIdentity:
    """What signs media: resolve_identity, plus the organisation's CAWG identity when the config file has one."""
    from genai_provenance.credentials.identity import load_identity
    from genai_provenance.credentials.organisation import with_organisation

    identity = resolve_identity(cert, key, home, tsa_url, token)
    profile = signing_profile(home)
    if profile.identity is None:
        return identity
    org = profile.identity
    credential = load_identity(org.cert, org.key)
    return with_organisation(identity, credential, org.organisation, str(profile.path))


def _profile_identity(signer: SignerProfile, path: Path | None, tsa_url: str | None) -> SigningIdentity:
    """The config file's signer: a PEM key, or a key in a PKCS#11 token (PIN from the environment)."""
    from genai_provenance.credentials.hsm import load_token_identity, token_key
    from genai_provenance.credentials.identity import load_identity

    if signer.token is None:
        assert signer.key is not None  # the schema requires key or pkcs11
        return load_identity(signer.cert, signer.key, tsa_url)
    t = signer.token
    pin = t.resolved_pin()
    if pin is None and t.pin_env:
        raise IdentityError(f"{path}: signer.pkcs11.pin_env names ${t.pin_env}, which is not set")
    key = token_key(t.token, t.key_label, t.key_id, t.module)
    assert key is not None
    return load_token_identity(key, signer.cert, tsa_url, pin)


@dataclass(frozen=True)
class ApproverKeyOptions:
    """--cert/--key or --cert + --pkcs11-token/--pkcs11-key[/--pkcs11-module] for clearance records."""

    cert: Path | None = None
    key: Path | None = None
    token_label: str | None = None
    key_label: str | None = None
    module: Path | None = None
    tsa_url: str | None = None


def resolve_approver(options: ApproverKeyOptions, home: Path | None) -> Identity | TokenIdentity:
    """The identity that signs clearance records and the ledger head: given, in a token, or the
    workspace's; records are time-stamped by --tsa-url, else the workspace's TSA, when there is one."""
    from genai_provenance.credentials.hsm import token_key

    token = token_key(options.token_label, options.key_label, None, options.module)
    tsa_url = options.tsa_url or (ws.tsa_url if (ws := _workspace(home)) else None)
    if token is None and options.cert is None and options.key is None:
        return dataclasses.replace(open_workspace(home).approver_identity(), tsa_url=tsa_url)
    return cast("Identity | TokenIdentity", resolve_identity(options.cert, options.key, home, tsa_url, token))


TSA_ANCHORS = "trust/tsa-anchors.pem"  # optional: roots for the time-stamps on clearance records


def _tsa_pem(ws: Workspace | None) -> str | None:
    return load_trust_anchors(ws.path(TSA_ANCHORS)) if ws and ws.path(TSA_ANCHORS).exists() else None


def tsa_anchors(home: Path | None) -> list[x509.Certificate] | None:
    """The workspace's TSA roots (trust/tsa-anchors.pem) when configured; else None (tokens are
    still checked against the data and the TSA's own signature)."""
    from genai_provenance.clearances.records import load_anchors

    pem = _tsa_pem(_workspace(home))
    return load_anchors(pem) if pem else None


def ledger_location(home: Path | None, ws: Workspace | None = None) -> LedgerLocation | None:
    """--ledger, else $GENAI_PROVENANCE_LEDGER, else the config file's, else workspace.json "ledger", else the
    workspace's file."""
    from genai_provenance.clearances.ledger_store import LedgerLocation

    ws = ws or _workspace(home)
    value = _ledger_flag.get() or os.environ.get(ENV_LEDGER) or signing_profile(home).ledger
    value = value or (ws.ledger if ws else None)
    if value:
        return LedgerLocation.parse(value, ws.home if ws else resolve_home(home))
    return LedgerLocation.sqlite(ws.ledger_path) if ws else None


def open_ledger(home: Path | None) -> Ledger | None:
    """The ledger when there is one (an SQLite file is never created here); else None."""
    from genai_provenance.clearances.ledger import Ledger
    from genai_provenance.clearances.records import load_anchors

    ws = _workspace(home)
    location = ledger_location(home, ws)
    if ws is None or location is None or not location.exists():
        return None
    return Ledger(location, load_anchors(ws.approver_anchors()), tsa_anchors=tsa_anchors(home))


def workspace_ledger(home: Path | None) -> Ledger:
    """The ledger, created on first use; the workspace must exist (it holds the approver roots)."""
    from genai_provenance.clearances.ledger import Ledger, LedgerLocation
    from genai_provenance.clearances.records import load_anchors

    ws = open_workspace(home)
    location = ledger_location(home, ws) or LedgerLocation.sqlite(ws.ledger_path)
    return Ledger(location, load_anchors(ws.approver_anchors()), tsa_anchors=tsa_anchors(home))


def _revocation_list(
    anchors_pem: str | None, ws: Workspace | None, revocations: Path | None
) -> tuple[RevocationList | None, str | None]:
    """--revocations FILE (refused with exit 2 when unusable), else the workspace's imported list
    (when unusable: None and why, so checks fail closed saying so)."""
    if revocations is None and (ws is None or not ws.path(REVOCATION_LIST).exists()):
        if ws is not None and ws.path(REVOCATIONS_SEEN).exists():  # a list was imported here, and is gone
            return None, f"imported revocation list {ws.path(REVOCATION_LIST)} is missing (a list was imported before)"
        return None, None  # (the revocation modules are not even imported)
    from genai_provenance.clearances.records import load_anchors
    from genai_provenance.clearances.revocations import STORED_LIST, RevocationListError, check_not_older, read_list

    anchors = load_anchors(anchors_pem) if anchors_pem else []
    tsa = load_anchors(pem) if (pem := _tsa_pem(ws)) else None
    if revocations is not None:
        listed = read_list(revocations, anchors, tsa_anchors=tsa)
        if ws is not None:
            check_not_older(ws.home, listed)
        return listed, None
    assert ws is not None
    try:
        listed = read_list(ws.path(STORED_LIST), anchors, tsa_anchors=tsa)
        check_not_older(ws.home, listed)
    except RevocationListError as exc:
        return None, f"imported revocation list {exc}"
    return listed, None


def _approver_pem(approver_trust: Path | None, home: Path | None) -> str | None:
    return trust_config(TrustFlags(approver=approver_trust), home).approver_pem


def resolve_clearances(
    approver_trust: Path | None, home: Path | None, revocations: Path | None = None
) -> ClearanceSource:
    """Approver roots (--approver-trust, else $GENAI_PROVENANCE_... / the workspace's), the ledger when there
    is one, and a revocation list (--revocations, else the one imported into the workspace)."""
    from genai_provenance.clearances.ledger import Ledger
    from genai_provenance.clearances.records import load_anchors

    ws = _workspace(home)
    pem = _approver_pem(approver_trust, home)
    anchors = load_anchors(pem) if pem else []
    tsa = tsa_anchors(home)
    ledger = None
    if (location := ledger_location(home, ws)) is not None and location.exists():
        ledger = Ledger(location, anchors, tsa_anchors=tsa)
    listed, problem = _revocation_list(pem, ws, revocations)
    return ClearanceSource(anchors, ledger, listed, problem, tsa)


def check_settings(
    policy: Path | None,
    signers: Path | None,
    flags: TrustFlags,
    home: Path | None,
    intended_use: str | None,
    revocations: Path | None = None,
) -> CheckSettings:
    """What `check` runs with: the policy (and --signers list), trust, approver roots, ledger, revocations."""
    from genai_provenance.policy.rules import load_policy

    rules = load_policy(policy or signing_profile(home).env_policy(), signers)
    trust = resolve_trust(None, home, flags=flags, policy=rules)
    return CheckSettings(trust, rules, resolve_clearances(flags.approver, home, revocations), intended_use)


def check_config(
    trust: Path | None,
    approver_trust: Path | None,
    home: Path | None,
    policy: Path | None,
    intended_use: str | None,
    flags: TrustFlags | None = None,
    signers: Path | None = None,
    revocations: Path | None = None,
    *,
    with_policy: bool = True,
) -> CheckConfig:
    """A picklable CheckConfig for parallel checks, resolved like the other settings (the policy: --policy,
    else $GENAI_PROVENANCE_POLICY, else the config file's, else the built-in one). `with_policy=False`
    (`verify`, which judges nothing by the policy): the policy is neither loaded nor validated."""
    policy = policy or signing_profile(home).env_policy()
    if with_policy:
        from genai_provenance.policy.rules import load_policy

        load_policy(policy, signers)  # validate the policy and signer files once, up front, with a clear error
    ws = _workspace(home)
    flags = flags or TrustFlags()
    flags = dataclasses.replace(flags, anchors=trust or flags.anchors, approver=approver_trust or flags.approver)
    config = trust_config(flags, home)
    location = ledger_location(home, ws)
    ledger = location if location is not None and location.exists() else None
    listed, problem = _revocation_list(config.approver_pem, ws, revocations)
    return CheckConfig(
        config.media_pem,
        config.approver_pem,
        ledger.target if ledger else None,
        str(policy) if policy else None,
        intended_use,
        packager_pem=config.packager_pem,
        trust=trust_settings(config),
        signers_path=str(signers) if signers else None,
        revocations_path=listed.path if listed else None,
        revocations_digest=listed.digest if listed else None,
        list_problem=problem,
        tsa_pem=_tsa_pem(ws),
        ledger_guard=str(ledger.guard) if ledger else None,
    )


def verify_config(home: Path | None, allow_remote: bool, flags: TrustFlags) -> CheckConfig:
    """A picklable description of what `verify` runs with (trust as resolve_trust, clearances as
    resolve_clearances), so worker processes build the same settings."""
    config = check_config(None, None, home, None, None, flags, with_policy=False)
    assert config.trust is not None  # check_config resolved it from the same flags: only --allow-remote differs
    return dataclasses.replace(config, trust=dataclasses.replace(config.trust, allow_remote=allow_remote))


def packager_identity(home: Path | None) -> tuple[Identity, str]:
    """The workspace's packager identity and organisation name."""
    ws = open_workspace(home)
    return ws.packager_identity(), ws.org


def packager_anchors(packager_trust: Path | None, home: Path | None) -> list[x509.Certificate]:
    """Roots that may sign package reports and signed reports (the packager role, never the media role)."""
    from genai_provenance.clearances.records import load_anchors

    config = trust_config(TrustFlags(packager=packager_trust), home)
    return load_anchors(config.packager_pem) if config.packager_pem else []
