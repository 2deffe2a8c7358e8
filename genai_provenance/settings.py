"""Resolve what a command runs with: trust anchors, approver roots, ledger, signing identity.

Explicit flags win, then environment variables (trust files, see trust.py), then the workspace.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cryptography import x509

from genai_provenance.check import CheckConfig, CheckSettings, ClearanceSource
from genai_provenance.clearances import load_anchors
from genai_provenance.errors import IdentityError, ProvenanceError
from genai_provenance.ledger import Ledger
from genai_provenance.pkcs11 import TokenKey, load_token_identity
from genai_provenance.policy import Policy, load_policy
from genai_provenance.signer_pins import needs_fingerprints
from genai_provenance.signing import Identity, SigningIdentity, load_identity, load_trust_anchors
from genai_provenance.trust import TrustConfig, TrustFlags, resolve_trust_config
from genai_provenance.verify import TrustSettings
from genai_provenance.workspace import Workspace, open_workspace


def _workspace(home: Path | None) -> Workspace | None:
    try:
        return open_workspace(home)
    except ProvenanceError:
        return None


def trust_config(flags: TrustFlags | None, home: Path | None) -> TrustConfig:
    """The trust configuration: flags, else environment variables, else the workspace (trust.py)."""
    ws = _workspace(home)
    return resolve_trust_config(flags or TrustFlags(), ws.home if ws else None)


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
    return dataclasses.replace(settings, read_certificates=needs_fingerprints(policy.signers if policy else None))


def resolve_identity(
    cert: Path | None, key: Path | None, home: Path | None, tsa_url: str | None, token: TokenKey | None = None
) -> SigningIdentity:
    """--cert/--key, else a key in a PKCS#11 token (--cert + --pkcs11-*), else the workspace's identity."""
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


def open_ledger(home: Path | None) -> Ledger | None:
    """The workspace ledger when there is one (never created here); else None."""
    ws = _workspace(home)
    if ws is None or not ws.ledger_path.exists():
        return None
    return Ledger(ws.ledger_path, load_anchors(ws.approver_anchors()))


def workspace_ledger(home: Path | None) -> Ledger:
    """The workspace ledger, created on first use; the workspace must exist."""
    ws = open_workspace(home)
    return Ledger(ws.ledger_path, load_anchors(ws.approver_anchors()))


def resolve_clearances(approver_trust: Path | None, home: Path | None) -> ClearanceSource:
    """Approver roots (--approver-trust, else the workspace's) and the ledger when there is one."""
    ws = _workspace(home)
    if approver_trust:
        anchors = load_anchors(load_trust_anchors(approver_trust, "approver trust anchors"))
    else:
        anchors = load_anchors(ws.approver_anchors()) if ws else []
    ledger = None
    if ws is not None and ws.ledger_path.exists():
        ledger = Ledger(ws.ledger_path, anchors)
    return ClearanceSource(anchors, ledger)


def check_settings(
    policy: Path | None, signers: Path | None, flags: TrustFlags, home: Path | None, intended_use: str | None
) -> CheckSettings:
    """What `check` runs with: the policy (and --signers list), trust, approver roots and ledger."""
    rules = load_policy(policy, signers)
    trust = resolve_trust(None, home, flags=flags, policy=rules)
    return CheckSettings(trust, rules, resolve_clearances(flags.approver, home), intended_use)


def check_config(
    trust: Path | None,
    approver_trust: Path | None,
    home: Path | None,
    policy: Path | None,
    intended_use: str | None,
    flags: TrustFlags | None = None,
    signers: Path | None = None,
) -> CheckConfig:
    """A picklable CheckConfig for parallel checks, resolved like the other settings."""
    load_policy(policy, signers)  # validate the policy and signer files once, up front, with a clear error
    ws = _workspace(home)
    flags = flags or TrustFlags()
    flags = dataclasses.replace(flags, anchors=trust or flags.anchors, approver=approver_trust or flags.approver)
    config = trust_config(flags, home)
    ledger = str(ws.ledger_path) if ws and ws.ledger_path.exists() else None
    return CheckConfig(
        config.media_pem,
        config.approver_pem,
        ledger,
        str(policy) if policy else None,
        intended_use,
        packager_pem=config.packager_pem,
        trust=trust_settings(config),
        signers_path=str(signers) if signers else None,
    )


def packager_identity(home: Path | None) -> tuple[Identity, str]:
    """The workspace's packager identity and organisation name."""
    ws = open_workspace(home)
    return ws.packager_identity(), ws.org


def packager_anchors(packager_trust: Path | None, home: Path | None) -> list[x509.Certificate]:
    """Roots that may sign package reports and signed reports (the packager role, never the media role)."""
    config = trust_config(TrustFlags(packager=packager_trust), home)
    return load_anchors(config.packager_pem) if config.packager_pem else []
