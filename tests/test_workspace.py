"""`init` and the embedded default workspace; key hygiene; verify stays off the network by default."""

from __future__ import annotations

import http.server
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import DISCLOSURES, IPTC, MEDIA, PRIVATE_KEY_MARK, CliResult, sha256
from cryptography import x509

from genai_provenance.credentials.identity import Identity, load_identity
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.settings import resolve_trust
from genai_provenance.workspace import (
    ENV_HOME,
    MARKER,
    PACKAGER_ANCHORS,
    PACKAGER_CHAIN,
    PACKAGER_KEY,
    PACKAGER_ROOT_CERT,
    PACKAGER_ROOT_KEY,
    ROOT_CERT,
    ROOT_KEY,
    SIGNER_CHAIN,
    SIGNER_KEY,
    TRUST_ANCHORS,
    Workspace,
)

CORE_FILES = [
    MARKER,
    ROOT_CERT,
    ROOT_KEY,
    SIGNER_CHAIN,
    SIGNER_KEY,
    TRUST_ANCHORS,
    PACKAGER_ROOT_CERT,
    PACKAGER_ROOT_KEY,
    PACKAGER_CHAIN,
    PACKAGER_KEY,
    PACKAGER_ANCHORS,
]


def snapshot(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): sha256(p) for p in sorted(home.rglob("*")) if p.is_file()}


def private_key_files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and PRIVATE_KEY_MARK.encode() in p.read_bytes()]


def test_init_writes_a_usable_workspace(cli_process: Any, tmp_path: Path) -> None:
    home = tmp_path / "studio-ws"
    res = cli_process("init", "--home", home, "--org", "Northlight Post")
    assert res.code == 0, res.stderr
    assert str(home) in res.stdout and "DEVELOPMENT credentials" in res.stdout
    for rel in CORE_FILES:
        assert (home / rel).is_file(), rel
    for rel in (ROOT_CERT, SIGNER_CHAIN, SIGNER_KEY, TRUST_ANCHORS, PACKAGER_ANCHORS):
        assert str(home / rel) in res.stdout, rel
    packager_root = x509.load_pem_x509_certificate((home / PACKAGER_ROOT_CERT).read_bytes())
    assert x509.load_pem_x509_certificates((home / PACKAGER_ANCHORS).read_bytes()) == [packager_root]
    assert x509.load_pem_x509_certificates((home / PACKAGER_CHAIN).read_bytes())[0].issuer == packager_root.subject
    assert packager_root.subject != x509.load_pem_x509_certificate((home / ROOT_CERT).read_bytes()).subject
    chain = x509.load_pem_x509_certificates((home / SIGNER_CHAIN).read_bytes())
    root = x509.load_pem_x509_certificate((home / ROOT_CERT).read_bytes())
    anchors = x509.load_pem_x509_certificates((home / TRUST_ANCHORS).read_bytes())
    assert len(chain) == 2 and chain[1] == root and root in anchors
    assert chain[0].issuer == root.subject
    leaf = load_identity(home / SIGNER_CHAIN, home / SIGNER_KEY)  # C2PA-acceptable, key matches
    assert leaf.alg == "es256"
    assert [p.name for p in tmp_path.iterdir()] == ["studio-ws"]  # no staging folders left behind


def test_key_files_are_private(workspace: Workspace) -> None:
    keys = private_key_files(workspace.home)
    assert workspace.path(SIGNER_KEY) in keys and workspace.path(ROOT_KEY) in keys
    for path in keys:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in workspace.home.rglob("*.pem"):
        if path not in keys:
            assert PRIVATE_KEY_MARK not in path.read_text()


def test_second_init_is_refused_and_force_replaces(cli: Any, sign_media: Any, tmp_path: Path) -> None:
    home = tmp_path / "ws"
    assert cli("init", "--home", home).code == 0
    before = snapshot(home)
    identity = load_identity(home / SIGNER_CHAIN, home / SIGNER_KEY)
    signed = sign_media(
        "plate.jpg", "plate.json", identity=identity, trust=TrustSettings((home / TRUST_ANCHORS).read_text())
    )
    assert cli("verify", signed.output, "--home", home).code == 0

    res = cli("init", "--home", home)
    assert res.code == 2 and len(res.error_lines) == 1
    assert str(home) in res.stderr and "--force" in res.stderr
    assert snapshot(home) == before

    res = cli("init", "--home", home, "--force")
    assert res.code == 0 and "Replaced" in res.stdout
    after = snapshot(home)
    assert set(after) == set(before)
    assert after[ROOT_CERT] != before[ROOT_CERT] and after[SIGNER_KEY] != before[SIGNER_KEY]
    for path in private_key_files(home):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws"]
    # The old development root is gone from the anchors: what it signed is no longer trusted here.
    res = cli("verify", signed.output, "--home", home, "--format", "json")
    assert res.code == 1 and res.json()["assets"][0]["status"] == "valid-untrusted"


def test_init_refuses_a_folder_that_is_not_a_workspace(cli: Any, tmp_path: Path) -> None:
    home = tmp_path / "projects"
    home.mkdir()
    (home / "edit.txt").write_text("someone's work")
    res = cli("init", "--home", home, "--force")
    assert res.code == 2 and len(res.error_lines) == 1 and "not a genai-provenance workspace" in res.stderr
    assert [p.name for p in home.iterdir()] == ["edit.txt"]


def test_environment_home_is_honoured_and_no_flags_are_needed(cli_process: Any, tmp_path: Path) -> None:
    home = tmp_path / "from-env"
    env = {ENV_HOME: str(home)}
    res = cli_process("init", env=env)
    assert res.code == 0 and str(home) in res.stdout
    assert (home / MARKER).is_file()
    out = tmp_path / "signed.mp4"
    res = cli_process("sign", MEDIA / "plate.mp4", "-o", out, "--disclosure", DISCLOSURES / "bg_replace.json", env=env)
    assert res.code == 0, res.stderr
    assert "(trusted)" in res.stdout
    res = cli_process("verify", out, "--format", "json", env=env)
    assert res.code == 0
    assert res.json()["assets"][0]["status"] == "trusted"
    # --home wins over the environment.
    other = tmp_path / "explicit"
    assert cli_process("init", "--home", other, env=env).code == 0
    assert (other / MARKER).is_file()
    res = cli_process("verify", out, "--home", other, env=env)
    assert res.code == 1 and "VALID BUT UNTRUSTED" in res.stdout


def test_no_private_key_material_in_any_output(cli: Any, tmp_path: Path) -> None:
    """Every CLI helper already refuses PRIVATE KEY in output; this runs each command on purpose."""
    home = tmp_path / "ws"
    out = tmp_path / "a.jpg"
    sign = ["sign", MEDIA / "plate.jpg", "--disclosure", DISCLOSURES / "bg_replace.json", "--home", home, "-o"]
    runs: list[list[Any]] = [
        ["init", "--home", home],
        ["init", "--home", home],  # refused: exists
        ["init", "--home", home, "--force"],
        [*sign, out],
        [*sign, tmp_path / "b.jpg", "--format", "json"],
        [*sign, tmp_path / "c.jpg", "--cert", home / SIGNER_KEY, "--key", home / SIGNER_KEY],  # key as certificate
        [*sign, tmp_path / "d.jpg", "--cert", home / SIGNER_CHAIN, "--key", home / SIGNER_CHAIN],  # cert as key
        ["verify", out, "--home", home],
        ["verify", out, "--home", home, "--format", "json"],
        ["verify", out, "--trust", home / SIGNER_KEY],  # key as trust anchors
    ]
    outputs: list[CliResult] = [cli(*args) for args in runs]
    assert [r.code for r in outputs] == [0, 2, 0, 0, 0, 2, 2, 0, 0, 2]
    for res in outputs:
        assert PRIVATE_KEY_MARK not in res.stdout + res.stderr
        assert "BEGIN EC" not in res.stdout + res.stderr


def test_identity_repr_hides_the_key(identity: Identity) -> None:
    assert PRIVATE_KEY_MARK.encode() in identity.key_pem
    assert PRIVATE_KEY_MARK not in repr(identity)


# --------------------------------------------------------------------------- no network by default


def test_trust_settings_keep_remote_fetch_off_unless_allowed(workspace: Workspace) -> None:
    assert TrustSettings().settings()["verify"]["remote_manifest_fetch"] is False
    assert resolve_trust(None, workspace.home).settings()["verify"] == {
        "remote_manifest_fetch": False,
        "ocsp_fetch": False,
    }
    assert resolve_trust(None, workspace.home, allow_remote=True).settings()["verify"]["remote_manifest_fetch"] is True


@dataclass
class ManifestServer:
    url: str
    requests: list[str] = field(default_factory=list)
    body: bytes = b""


@pytest.fixture
def manifest_server() -> Iterator[ManifestServer]:
    """A 127.0.0.1 HTTP server that serves one manifest store and counts requests."""
    state = ManifestServer(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            state.requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/c2pa")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/manifests/plate.c2pa"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_verify_does_not_fetch_remote_manifests_unless_allowed(
    manifest_server: ManifestServer, identity: Identity, workspace: Workspace, cli: Any, tmp_path: Path
) -> None:
    asset = tmp_path / "remote.jpg"
    definition = {
        "claim_generator_info": [{"name": "remote-test", "version": "1"}],
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}]},
            }
        ],
    }
    builder = c2pa.Builder(definition, context=TrustSettings().context())
    builder.set_no_embed()
    builder.set_remote_url(manifest_server.url)
    with builder, open(MEDIA / "plate.jpg", "rb") as src, open(asset, "w+b") as dst:
        manifest_server.body = builder.sign(identity.signer(), "image/jpeg", src, dst)
    assert manifest_server.url.encode() in asset.read_bytes()  # the asset only points at its manifest

    res = cli("verify", asset, "--home", workspace.home, "--format", "json")
    assert res.code == 1
    [report] = res.json()["assets"]
    assert report["status"] == "unreadable"
    assert [f["code"] for f in report["failures"]] == ["manifest.remote"]
    assert "--allow-remote" in report["error"]
    text = cli("verify", asset, "--home", workspace.home)
    assert text.code == 1
    assert manifest_server.requests == [], "verify contacted the network without --allow-remote"

    res = cli("verify", asset, "--home", workspace.home, "--allow-remote", "--format", "json")
    assert res.code == 0, res.stdout
    assert res.json()["assets"][0]["status"] == "trusted"
    assert manifest_server.requests == ["/manifests/plate.c2pa"]
