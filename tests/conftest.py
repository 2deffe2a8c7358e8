"""Shared fixtures: real certificates, a real workspace, the bundled media, CLI runners.

Everything here is real: certificates made with `cryptography` (genai_provenance.trust.pki), C2PA
signing through c2pa-python, the installed console script for subprocess runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from genai_provenance.cli import main
from genai_provenance.credentials.identity import Identity, load_identity
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, SignResult, sign_asset
from genai_provenance.trust.pki import Issued, create_root, issue_leaf
from genai_provenance.workspace import ENV_HOME, ROOT_CERT, ROOT_KEY, TRUST_ANCHORS, Workspace, init_workspace

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "fixtures" / "media"
DISCLOSURES = ROOT / "fixtures" / "disclosures"
_VENV_CLI = ROOT / ".venv" / "bin" / "genai-provenance"
CLI_COMMAND = [str(_VENV_CLI)] if _VENV_CLI.exists() else [sys.executable, "-m", "genai_provenance"]


@dataclass(frozen=True)
class TerminalRun:
    code: int
    stdout: str
    terminal: str  # everything written to stderr, a real pty (progress bars draw there)


if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # a suite started as a background job (nohup, &) inherits
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C ignored; the Ctrl-C tests need it back


def run_on_terminal(argv: list[str], timeout: float = 300) -> TerminalRun:
    """Run `argv` with stderr (and stdin) on a real pty and stdout to a file; what each received."""
    import pty
    import tempfile

    primary, secondary = pty.openpty()
    with tempfile.TemporaryFile() as out, subprocess.Popen(argv, stdin=secondary, stdout=out, stderr=secondary) as proc:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the terminal's other end closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=timeout)
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    os.close(primary)
    return TerminalRun(code, stdout, b"".join(chunks).decode("utf-8", "replace"))


IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
ERROR_PREFIX = "genai-provenance: error: "
PRIVATE_KEY_MARK = "PRIVATE KEY"

# Every embeddable format the tool promises (fixture file, MIME type, kind).
SIGNABLE = {
    "plate.jpg": ("image/jpeg", "image"),
    "plate.png": ("image/png", "image"),
    "plate.tiff": ("image/tiff", "image"),
    "plate.webp": ("image/webp", "image"),
    "plate.mp4": ("video/mp4", "video"),
    "plate_h264.mov": ("video/quicktime", "video"),
    "plate_prores.mov": ("video/quicktime", "video"),
    "dialogue.wav": ("audio/wav", "audio"),
    "dialogue.mp3": ("audio/mpeg", "audio"),
}


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def disclosure(name: str) -> dict[str, Any]:
    """A bundled disclosure (fixtures/disclosures/<name>), parsed."""
    from genai_provenance.credentials.disclosure import load

    return load(DISCLOSURES / name).raw


def leftovers(folder: Path) -> list[str]:
    """Hidden or temporary files a failed write might have left (".*", "*.part")."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".part"))


# --------------------------------------------------------------------------- isolation


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test may read or write the real per-user workspace: point the defaults at an empty folder."""
    empty = tmp_path_factory.mktemp("no-home") / "absent"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_HOME, str(empty))
        mp.setenv("XDG_DATA_HOME", str(empty.parent / "xdg"))
        yield empty


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class IdentityFiles:
    """A signing identity on disk (chain PEM leaf-first, key PEM) and loaded."""

    cert: Path
    key: Path
    identity: Identity
    root_pem: Path  # the root that issued it, as a trust-anchor file

    def cli_args(self) -> list[str]:
        return ["--cert", str(self.cert), "--key", str(self.key)]


def write_identity(folder: Path, leaf: Issued, root: Issued) -> IdentityFiles:
    """Write `leaf` (+ chain to `root`) as PEM files with the key at 0600; load it back."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key, root_pem = folder / "chain.pem", folder / "key.pem", folder / "root.pem"
    cert.write_bytes(leaf.cert_pem() + root.cert_pem())
    key.touch(mode=0o600)
    key.write_bytes(leaf.key_pem())
    root_pem.write_bytes(root.cert_pem())
    return IdentityFiles(cert, key, load_identity(cert, key), root_pem)


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """An initialised workspace (development root, signer, trust anchors), shared by the session.

    Treat it as read-only: tests that init/replace workspaces make their own.
    """
    home = tmp_path_factory.mktemp("session-ws") / "ws"
    return init_workspace(home, "Test Post House").workspace


@pytest.fixture(scope="session")
def identity(workspace: Workspace) -> Identity:
    return workspace.identity()


@pytest.fixture(scope="session")
def trust(workspace: Workspace) -> TrustSettings:
    """The workspace's anchors, remote fetch off (the default)."""
    return TrustSettings(workspace.trust_anchors())


@pytest.fixture(scope="session")
def anchors_file(workspace: Workspace) -> Path:
    return workspace.path(TRUST_ANCHORS)


@pytest.fixture(scope="session")
def dev_root(workspace: Workspace) -> Issued:
    """The workspace's development root CA (certificate and key), to issue more identities."""
    cert = x509.load_pem_x509_certificate(workspace.path(ROOT_CERT).read_bytes())
    key = serialization.load_pem_private_key(workspace.path(ROOT_KEY).read_bytes(), password=None)
    return Issued(cert, key)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def camera_identity(dev_root: Issued, tmp_path_factory: pytest.TempPathFactory) -> IdentityFiles:
    """A plate / camera-department identity under the workspace root."""
    leaf = issue_leaf(dev_root, "Unit A Camera Department", "Test Production Camera")
    return write_identity(tmp_path_factory.mktemp("id-camera"), leaf, dev_root)


@pytest.fixture(scope="session")
def vendor_identity(dev_root: Issued, tmp_path_factory: pytest.TempPathFactory) -> IdentityFiles:
    """A VFX vendor identity under the same workspace root."""
    leaf = issue_leaf(dev_root, "Skyline VFX Compositing", "Skyline VFX Ltd")
    return write_identity(tmp_path_factory.mktemp("id-vendor"), leaf, dev_root)


@pytest.fixture(scope="session")
def outsider(tmp_path_factory: pytest.TempPathFactory) -> IdentityFiles:
    """A well-formed identity from a different root that the workspace does not trust."""
    root = create_root("Elsewhere Root CA", "Elsewhere Inc")
    leaf = issue_leaf(root, "Elsewhere Signer", "Elsewhere Inc")
    return write_identity(tmp_path_factory.mktemp("id-outsider"), leaf, root)


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path

    def cli_args(self) -> list[str]:
        return ["--cert", str(self.cert), "--key", str(self.key)]


def _cert_files(folder: Path, leaf: Issued, root: Issued) -> CertFiles:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "chain.pem", folder / "key.pem"
    cert.write_bytes(leaf.cert_pem() + root.cert_pem())
    key.touch(mode=0o600)
    key.write_bytes(leaf.key_pem())
    return CertFiles(cert, key)


@pytest.fixture(scope="session")
def expired(dev_root: Issued, tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    """A certificate (and its key) from the workspace root that expired last week."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    leaf = issue_leaf(dev_root, "Lapsed Signer", "Test Post House", days=20, not_before=start)
    return _cert_files(tmp_path_factory.mktemp("id-expired"), leaf, dev_root)


@pytest.fixture(scope="session")
def server_auth_only(dev_root: Issued, tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    """A TLS server certificate: C2PA refuses it for signing."""
    leaf = issue_leaf(dev_root, "www.example.test", "Test Post House", eku=ExtendedKeyUsageOID.SERVER_AUTH)
    return _cert_files(tmp_path_factory.mktemp("id-tls"), leaf, dev_root)


# --------------------------------------------------------------------------- signing helper

Disclosure = dict[str, Any] | Path | str


@dataclass
class Signer:
    """Sign bundled media (or any file) with a disclosure; outputs go to fresh folders."""

    identity: Identity
    trust: TrustSettings
    base: pytest.TempPathFactory

    def disclosure_path(self, value: Disclosure) -> Path:
        if isinstance(value, dict):
            path = self.base.mktemp("disclosure") / "disclosure.json"
            path.write_text(json.dumps(value), encoding="utf-8")
            return path
        path = Path(value)
        return path if path.is_absolute() else DISCLOSURES / path

    def __call__(
        self,
        source: Path | str,
        disclosure: Disclosure = "plate.json",
        *,
        out: Path | None = None,
        identity: Identity | None = None,
        trust: TrustSettings | None = None,
        parent: Path | None = None,
        ingredients: Iterable[Path] = (),
        force: bool = False,
    ) -> SignResult:
        src = Path(source) if Path(source).is_absolute() else MEDIA / source
        out = out or self.base.mktemp("signed") / src.name
        return sign_asset(
            SignRequest(
                src,
                out,
                self.disclosure_path(disclosure),
                identity or self.identity,
                trust or self.trust,
                parent=parent,
                ingredients=list(ingredients),
                force=force,
            )
        )


@pytest.fixture(scope="session")
def sign_media(identity: Identity, trust: TrustSettings, tmp_path_factory: pytest.TempPathFactory) -> Signer:
    """`sign_media("plate.jpg", "bg_replace.json" | {...} | Path, identity=..., parent=...)` -> SignResult."""
    return Signer(identity, trust, tmp_path_factory)


def build_with_c2pa(
    definition: dict[str, Any],
    source: Path,
    out: Path,
    identity: Identity,
    mime: str = "image/jpeg",
    ingredients: Iterable[tuple[dict[str, Any], Path, str]] = (),
) -> Path:
    """Sign `source` into `out` straight through c2pa.Builder, the way another tool would."""
    builder = c2pa.Builder(definition, context=TrustSettings().context())
    with builder:
        for ingredient, path, fmt in ingredients:
            with open(path, "rb") as stream:
                builder.add_ingredient(ingredient, fmt, stream)
        with open(source, "rb") as src, open(out, "w+b") as dst:
            builder.sign(identity.signer(), mime, src, dst)
    return out


# --------------------------------------------------------------------------- CLI


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.splitlines()

    def json(self) -> Any:
        return json.loads(self.stdout)


def _checked(result: CliResult) -> CliResult:
    for stream in (result.stdout, result.stderr):
        assert PRIVATE_KEY_MARK not in stream, "private key material in command output"
        assert "Traceback" not in stream, stream
    return result


@pytest.fixture(scope="session")
def cli() -> Callable[..., CliResult]:
    """Run the CLI in-process (click's runner): `cli("verify", path, env={...})`."""
    runner = CliRunner()

    def run(*args: Any, env: dict[str, str] | None = None) -> CliResult:
        res = runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
        return _checked(CliResult(res.exit_code, res.stdout, res.stderr))

    return run


@pytest.fixture(scope="session")
def cli_process() -> Callable[..., CliResult]:
    """Run the installed console script as a real process."""

    def run(*args: Any, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
        full_env = {**os.environ, **(env or {})}
        done = subprocess.run(
            [*CLI_COMMAND, *(str(a) for a in args)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=full_env,
            cwd=cwd,
        )
        return _checked(CliResult(done.returncode, done.stdout, done.stderr))

    return run


def needs_ffmpeg() -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


# --------------------------------------------------------------------------- a throwaway PostgreSQL server

LEDGER_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A PostgreSQL server on 127.0.0.1 for this session (tests/pg.py); skips when it cannot run."""
    import tempfile

    import pg

    folder = Path(tempfile.mkdtemp(prefix="gp-postgres-"))  # not under pytest's 0700 folder: postgres must reach it
    try:
        server = pg.start(folder)
    except pg.Unavailable as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(reason=f"PostgreSQL could not be started on 127.0.0.1 for the ledger tests: {exc}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=LEDGER_BACKENDS)
def ledger_backend(request: pytest.FixtureRequest) -> str | None:
    """None for the workspace's SQLite ledger; else the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    server = request.getfixturevalue("postgres")
    return str(server.new_database())
