"""Resolve what a command runs with: trust anchors, approver roots, ledger, signing identity.

Explicit flags win; otherwise the workspace (the embedded default) supplies them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from cryptography import x509

from genai_provenance.check import CheckConfig, ClearanceSource
from genai_provenance.clearances import load_anchors
from genai_provenance.errors import IdentityError, ProvenanceError
from genai_provenance.ledger import Ledger
from genai_provenance.pkcs11 import TokenIdentity, TokenKey, load_token_identity, token_key
from genai_provenance.policy import load_policy
from genai_provenance.revocations import STORED_LIST, RevocationList, RevocationListError, check_not_older, read_list
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
    token = token_key(options.token_label, options.key_label, None, options.module)
    tsa_url = options.tsa_url or (ws.tsa_url if (ws := _workspace(home)) else None)
    if token is None and options.cert is None and options.key is None:
        return dataclasses.replace(open_workspace(home).approver_identity(), tsa_url=tsa_url)
    return cast(Identity | TokenIdentity, resolve_identity(options.cert, options.key, home, tsa_url, token))


TSA_ANCHORS = "trust/tsa-anchors.pem"  # optional: roots for the time-stamps on clearance records


def _tsa_pem(ws: Workspace | None) -> str | None:
    return load_trust_anchors(ws.path(TSA_ANCHORS)) if ws and ws.path(TSA_ANCHORS).exists() else None


def tsa_anchors(home: Path | None) -> list[x509.Certificate] | None:
    """The workspace's TSA roots (trust/tsa-anchors.pem) when configured; else None (tokens are
    still checked against the data and the TSA's own signature)."""
    pem = _tsa_pem(_workspace(home))
    return load_anchors(pem) if pem else None


def open_ledger(home: Path | None) -> Ledger | None:
    """The workspace ledger when there is one (never created here); else None."""
    ws = _workspace(home)
    if ws is None or not ws.ledger_path.exists():
        return None
    return Ledger(ws.ledger_path, load_anchors(ws.approver_anchors()), tsa_anchors=tsa_anchors(home))


def workspace_ledger(home: Path | None) -> Ledger:
    """The workspace ledger, created on first use; the workspace must exist."""
    ws = open_workspace(home)
    return Ledger(ws.ledger_path, load_anchors(ws.approver_anchors()), tsa_anchors=tsa_anchors(home))


def _revocation_list(
    anchors_pem: str | None, ws: Workspace | None, revocations: Path | None
) -> tuple[RevocationList | None, str | None]:
    """--revocations FILE (refused with exit 2 when unusable), else the workspace's imported list
    (when unusable: None and why, so checks fail closed saying so)."""
    anchors = load_anchors(anchors_pem) if anchors_pem else []
    tsa = load_anchors(pem) if (pem := _tsa_pem(ws)) else None
    if revocations is not None:
        listed = read_list(revocations, anchors, tsa_anchors=tsa)
        if ws is not None:
            check_not_older(ws.home, listed)
        return listed, None
    if ws is None or not ws.path(STORED_LIST).exists():
        return None, None
    try:
        listed = read_list(ws.path(STORED_LIST), anchors, tsa_anchors=tsa)
        check_not_older(ws.home, listed)
    except RevocationListError as exc:
        return None, f"imported revocation list {exc}"
    return listed, None


def _approver_pem(approver_trust: Path | None, ws: Workspace | None) -> str | None:
    if approver_trust:
        return load_trust_anchors(approver_trust)
    return ws.approver_anchors() if ws else None


def resolve_clearances(
    approver_trust: Path | None, home: Path | None, revocations: Path | None = None
) -> ClearanceSource:
    """Approver roots (--approver-trust, else the workspace's), the ledger when there is one, and a
    revocation list (--revocations, else the one imported into the workspace)."""
    ws = _workspace(home)
    pem = _approver_pem(approver_trust, ws)
    anchors = load_anchors(pem) if pem else []
    tsa = tsa_anchors(home)
    ledger = None
    if ws is not None and ws.ledger_path.exists():
        ledger = Ledger(ws.ledger_path, anchors, tsa_anchors=tsa)
    listed, problem = _revocation_list(pem, ws, revocations)
    return ClearanceSource(anchors, ledger, listed, problem, tsa)


def check_config(
    trust: Path | None,
    approver_trust: Path | None,
    home: Path | None,
    policy: Path | None,
    intended_use: str | None,
    revocations: Path | None = None,
) -> CheckConfig:
    """A picklable CheckConfig for parallel checks, resolved like the other settings."""
    load_policy(policy)  # validate the policy file once, up front, with a clear error
    ws = _workspace(home)
    trust_pem = resolve_trust(trust, home).anchors_pem
    approver_pem = _approver_pem(approver_trust, ws)
    ledger = str(ws.ledger_path) if ws and ws.ledger_path.exists() else None
    listed, problem = _revocation_list(approver_pem, ws, revocations)
    return CheckConfig(
        trust_pem,
        approver_pem,
        ledger,
        str(policy) if policy else None,
        intended_use,
        revocations_path=listed.path if listed else None,
        list_problem=problem,
        tsa_pem=_tsa_pem(ws),
    )


def packager_identity(home: Path | None) -> tuple[Identity, str]:
    """The workspace's packager identity and organisation name."""
    ws = open_workspace(home)
    return ws.packager_identity(), ws.org
