"""Resolve what a command runs with: trust anchors, approver roots, ledger, signing identity.

Explicit flags win; otherwise the workspace (the embedded default) supplies them.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from genai_provenance.check import CheckConfig, ClearanceSource
from genai_provenance.clearances import load_anchors
from genai_provenance.errors import IdentityError, ProvenanceError
from genai_provenance.ledger import Ledger
from genai_provenance.pkcs11 import TokenKey, load_token_identity
from genai_provenance.policy import load_policy
from genai_provenance.signing import Identity, SigningIdentity, load_identity, load_trust_anchors
from genai_provenance.verify import TrustSettings
from genai_provenance.workspace import Workspace, open_workspace


def _workspace(home: Path | None) -> Workspace | None:
    try:
        return open_workspace(home)
    except ProvenanceError:
        return None


def resolve_trust(trust: Path | None, home: Path | None, allow_remote: bool = False) -> TrustSettings:
    """--trust, else the workspace's anchors, else none (then nothing can be trusted)."""
    if trust:
        return TrustSettings(load_trust_anchors(trust), allow_remote)
    ws = _workspace(home)
    return TrustSettings(ws.trust_anchors() if ws else None, allow_remote)


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
        anchors = load_anchors(load_trust_anchors(approver_trust))
    else:
        anchors = load_anchors(ws.approver_anchors()) if ws else []
    ledger = None
    if ws is not None and ws.ledger_path.exists():
        ledger = Ledger(ws.ledger_path, anchors)
    return ClearanceSource(anchors, ledger)


def check_config(
    trust: Path | None, approver_trust: Path | None, home: Path | None, policy: Path | None, intended_use: str | None
) -> CheckConfig:
    """A picklable CheckConfig for parallel checks, resolved like the other settings."""
    load_policy(policy)  # validate the policy file once, up front, with a clear error
    ws = _workspace(home)
    trust_pem = resolve_trust(trust, home).anchors_pem
    if approver_trust:
        approver_pem: str | None = load_trust_anchors(approver_trust)
    else:
        approver_pem = ws.approver_anchors() if ws else None
    ledger = str(ws.ledger_path) if ws and ws.ledger_path.exists() else None
    return CheckConfig(trust_pem, approver_pem, ledger, str(policy) if policy else None, intended_use)


def packager_identity(home: Path | None) -> tuple[Identity, str]:
    """The workspace's packager identity and organisation name."""
    ws = open_workspace(home)
    return ws.packager_identity(), ws.org


def packager_anchors(packager_trust: Path | None, home: Path | None) -> list[x509.Certificate]:
    """Roots that may sign package reports and signed reports: --packager-trust, else the workspace's."""
    if packager_trust:
        return load_anchors(load_trust_anchors(packager_trust))
    ws = _workspace(home)
    return load_anchors(ws.trust_anchors()) if ws else []
