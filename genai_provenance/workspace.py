"""The embedded default workspace: development CA, signing identity, trust anchors.

Location: --home, else $GENAI_PROVENANCE_HOME, else $XDG_DATA_HOME/genai-provenance
(~/.local/share/genai-provenance).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from genai_provenance import __version__
from genai_provenance.credentials.identity import Identity, load_identity, load_trust_anchors
from genai_provenance.errors import WorkspaceError
from genai_provenance.files import write_bytes, write_text

if TYPE_CHECKING:  # pki (certificate creation) is imported by init only
    from genai_provenance.trust.pki import Issued

ENV_HOME = "GENAI_PROVENANCE_HOME"
MARKER = "workspace.json"
ROOT_CERT, ROOT_KEY = "ca/root.pem", "ca/root.key"
SIGNER_CHAIN, SIGNER_KEY = "signer/chain.pem", "signer/key.pem"
TRUST_ANCHORS = "trust/anchors.pem"
APPROVER_ROOT_CERT, APPROVER_ROOT_KEY = "approver-ca/root.pem", "approver-ca/root.key"
APPROVER_CHAIN, APPROVER_KEY = "approver/chain.pem", "approver/key.pem"
APPROVER_ANCHORS = "trust/approver-anchors.pem"
PACKAGER_ROOT_CERT, PACKAGER_ROOT_KEY = "packager-ca/root.pem", "packager-ca/root.key"
PACKAGER_CHAIN, PACKAGER_KEY = "packager/chain.pem", "packager/key.pem"
PACKAGER_ANCHORS = "trust/packager-anchors.pem"
LEDGER = "ledger.sqlite"
REVOCATION_LIST = "revocations/current.json"  # the imported revocation list (revocations import)
REVOCATIONS_SEEN = "revocations/seen.json"  # the newest list imported so far (refuses going back)


def default_home() -> Path:
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "genai-provenance"


def resolve_home(home: Path | None) -> Path:
    return (home or default_home()).expanduser()


@dataclass(frozen=True)
class Workspace:
    home: Path
    org: str
    tsa_url: str | None = None
    ledger: str | None = None  # workspace.json "ledger": a postgresql:// URL or an SQLite file (else ledger.sqlite)

    def path(self, relative: str) -> Path:
        return self.home / relative

    def identity(self, tsa_url: str | None = None) -> Identity:
        return load_identity(self.path(SIGNER_CHAIN), self.path(SIGNER_KEY), tsa_url or self.tsa_url)

    def trust_anchors(self) -> str:
        return load_trust_anchors(self.path(TRUST_ANCHORS))

    def packager_identity(self) -> Identity:
        """The identity that signs package reports (under its own packager root, not the media root)."""
        return load_identity(self.path(PACKAGER_CHAIN), self.path(PACKAGER_KEY))

    def packager_anchors(self) -> str:
        """Roots trusted to sign package reports; kept apart from media and approver anchors."""
        return load_trust_anchors(self.path(PACKAGER_ANCHORS))

    def approver_identity(self) -> Identity:
        """The identity that signs approvals, consents and revocations (not media)."""
        return load_identity(self.path(APPROVER_CHAIN), self.path(APPROVER_KEY))

    def approver_anchors(self) -> str:
        """Roots trusted to issue clearances; kept apart from the media-signing anchors."""
        return load_trust_anchors(self.path(APPROVER_ANCHORS))

    @property
    def ledger_path(self) -> Path:
        return self.path(LEDGER)


def open_workspace(home: Path | None) -> Workspace:
    """Open an initialised workspace, or explain how to make one."""
    root = resolve_home(home)
    marker = root / MARKER
    if not marker.is_file():
        raise WorkspaceError(
            f"{root}: no workspace here; run `genai-provenance init` (or pass --cert/--key and --trust)"
        )
    try:
        meta = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise WorkspaceError(f"{marker}: unreadable workspace file ({exc})") from None
    ledger = meta.get("ledger")
    if ledger is not None and (not isinstance(ledger, str) or not ledger.strip()):
        raise WorkspaceError(f'{marker}: "ledger" must be a postgresql:// URL or a file path')
    return Workspace(home=root, org=str(meta.get("org", "")), tsa_url=meta.get("tsa_url"), ledger=ledger)


@dataclass(frozen=True)
class InitResult:
    workspace: Workspace
    files: dict[str, Path]
    replaced: bool


def _write_identity(folder: Path, cert_rel: str, key_rel: str, leaf: Issued, root: Issued) -> None:
    write_bytes(folder / cert_rel, leaf.cert_pem() + root.cert_pem())
    write_bytes(folder / key_rel, leaf.key_pem(), mode=0o600)


def _write_root(folder: Path, cert_rel: str, key_rel: str, anchors_rel: str, name: str, org: str) -> Issued:
    """A new root CA: its certificate, its key (0600), and a trust-anchor file holding it."""
    from genai_provenance.trust.pki import create_root

    root = create_root(name, org)
    write_bytes(folder / cert_rel, root.cert_pem())
    write_bytes(folder / key_rel, root.key_pem(), mode=0o600)
    write_bytes(folder / anchors_rel, root.cert_pem())
    return root


def init_workspace(home: Path | None, org: str, *, force: bool = False) -> InitResult:
    """Create a workspace with development credentials; whole or not at all."""
    from genai_provenance.trust.pki import issue_leaf

    root = resolve_home(home)
    existing = root.exists()
    if existing:
        if not root.is_dir():
            raise WorkspaceError(f"{root}: exists and is not a folder")
        if (root / MARKER).exists():
            if not force:
                raise WorkspaceError(f"{root}: a workspace already exists (use --force to replace it)")
        elif any(root.iterdir()):
            raise WorkspaceError(f"{root}: folder is not empty and is not a genai-provenance workspace")
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.init."))
    try:
        os.chmod(staging, 0o700)
        # Media signing: the root trusted by verify.
        ca = _write_root(staging, ROOT_CERT, ROOT_KEY, TRUST_ANCHORS, f"{org} Development Root CA", org)
        _write_identity(staging, SIGNER_CHAIN, SIGNER_KEY, issue_leaf(ca, f"{org} Media Signer (development)", org), ca)
        # Package reports: a root of their own, so a media signer cannot sign a package report.
        packager_ca = _write_root(
            staging, PACKAGER_ROOT_CERT, PACKAGER_ROOT_KEY, PACKAGER_ANCHORS, f"{org} Development Packager Root CA", org
        )
        packager = issue_leaf(packager_ca, f"{org} Packager (development)", org)
        _write_identity(staging, PACKAGER_CHAIN, PACKAGER_KEY, packager, packager_ca)
        # Clearances: a separate root, so a media-signing key can never issue an approval.
        approver_ca = _write_root(
            staging, APPROVER_ROOT_CERT, APPROVER_ROOT_KEY, APPROVER_ANCHORS, f"{org} Development Approver Root CA", org
        )
        approver = issue_leaf(approver_ca, f"{org} Legal Approver (development)", org)
        _write_identity(staging, APPROVER_CHAIN, APPROVER_KEY, approver, approver_ca)
        meta = {
            "version": 1,
            "org": org,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "created_by": f"genai-provenance {__version__}",
            "development_credentials": True,
            "tsa_url": None,
        }
        write_text(staging / MARKER, json.dumps(meta, indent=2) + "\n")
        if existing:
            old = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.old."))
            os.replace(root, old / "ws")
            os.replace(staging, root)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    ws = Workspace(home=root, org=org)
    files = {
        "root CA certificate": ws.path(ROOT_CERT),
        "signing certificate chain": ws.path(SIGNER_CHAIN),
        "signing key (0600)": ws.path(SIGNER_KEY),
        "trust anchors": ws.path(TRUST_ANCHORS),
        "packager certificate chain": ws.path(PACKAGER_CHAIN),
        "packager key (0600)": ws.path(PACKAGER_KEY),
        "packager trust anchors": ws.path(PACKAGER_ANCHORS),
        "approver certificate chain": ws.path(APPROVER_CHAIN),
        "approver key (0600)": ws.path(APPROVER_KEY),
        "approver trust anchors": ws.path(APPROVER_ANCHORS),
    }
    return InitResult(ws, files, replaced=existing and force)
