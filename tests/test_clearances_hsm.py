"""Clearance records, the ledger head and revocation lists signed with an approver key that lives in
a real SoftHSM2 token (the key is generated in the token; its certificate comes from the approver root)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ERROR_PREFIX, CliResult
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from test_pkcs11 import _KEYGEN

from genai_provenance.clearances.ledger import Ledger
from genai_provenance.clearances.records import VALID, authenticate, load_anchors
from genai_provenance.clearances.revocations import verify_list
from genai_provenance.credentials.hsm import DEFAULT_MODULE, ENV_PIN
from genai_provenance.trust.pki import Issued, certify_public_key
from genai_provenance.workspace import APPROVER_ROOT_CERT, APPROVER_ROOT_KEY, Workspace, init_workspace

pytestmark = pytest.mark.skipif(
    shutil.which("softhsm2-util") is None or not DEFAULT_MODULE.is_file(),
    reason=f"SoftHSM2 is not installed (softhsm2-util, {DEFAULT_MODULE}); apt-get install softhsm2",
)

TOKEN, PIN, SO_PIN, KEY = "legal-hsm", "2468-legal-pin", "1357-so-pin", "approver-key"
Run = Callable[..., CliResult]


@dataclass(frozen=True)
class LegalHsm:
    ws: Workspace
    conf: Path
    chain: Path

    def env(self, pin: str | None = PIN) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf), **({ENV_PIN: pin} if pin else {ENV_PIN: ""})}

    def token_args(self) -> list[Any]:
        return ["--cert", self.chain, "--pkcs11-token", TOKEN, "--pkcs11-key", KEY, "--home", self.ws.home]


@pytest.fixture(scope="module")
def legal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegalHsm]:
    folder = tmp_path_factory.mktemp("legal-hsm")
    ws = init_workspace(folder / "ws", "HSM Studio").workspace
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": str(conf), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN],
        env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    made = subprocess.run(
        [sys.executable, "-c", _KEYGEN, str(DEFAULT_MODULE), TOKEN, PIN, json.dumps({KEY: ["01", "secp256r1", True]})],
        env=env, check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    root_cert = x509.load_pem_x509_certificate(ws.path(APPROVER_ROOT_CERT).read_bytes())
    root_key = serialization.load_pem_private_key(ws.path(APPROVER_ROOT_KEY).read_bytes(), password=None)
    root = Issued(root_cert, root_key)  # type: ignore[arg-type]
    public = serialization.load_der_public_key(bytes.fromhex(json.loads(made.stdout)[KEY]))
    cert = certify_public_key(root, public, "HSM Legal Approver", "HSM Studio")  # type: ignore[arg-type]
    chain = folder / "approver-hsm.chain.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + root.cert_pem())
    yield LegalHsm(ws, conf, chain)


def _no_secrets(res: CliResult) -> CliResult:
    assert PIN not in res.stdout + res.stderr
    return res


def test_grant_revoke_and_export_with_the_key_in_the_token(legal: LegalHsm, cli_process: Run, tmp_path: Path) -> None:
    grant = ["approvals", "grant", "--id", "APR-HSM-1", "--production", "PRJ-1", "--asset", "SH010"]
    res = _no_secrets(cli_process(*grant, "--covers", "ideation", *legal.token_args(), env=legal.env()))
    assert res.code == 0 and "signed by HSM Legal Approver" in res.stdout, res.stderr
    res = _no_secrets(
        cli_process("approvals", "revoke", "APR-HSM-1", "--reason", "cut", *legal.token_args(), env=legal.env())
    )
    assert res.code == 0, res.stderr
    listed = tmp_path / "list.json"
    res = _no_secrets(cli_process("revocations", "export", "-o", listed, *legal.token_args(), env=legal.env()))
    assert res.code == 0, res.stderr

    anchors = load_anchors(legal.ws.approver_anchors())
    with Ledger(legal.ws.ledger_path, anchors) as ledger:
        assert ledger.integrity.verified
        assert ledger.integrity.head is not None and ledger.integrity.head.signer == "HSM Legal Approver"
        entry = ledger.get("APR-HSM-1")
        assert entry is not None and entry.state == "revoked"
        assert authenticate(entry.envelope, anchors).status == VALID
        assert entry.record["issuer"]["common_name"] == "HSM Legal Approver"
    revocations = verify_list(json.loads(listed.read_text()), anchors, str(listed))
    assert revocations.signer == "HSM Legal Approver" and set(revocations.revoked) == {"APR-HSM-1"}
    shown = cli_process("approvals", "list", "--home", legal.ws.home, "--format", "json", env=legal.env(None))
    assert shown.json()["ledger"]["head"]["signer"] == "HSM Legal Approver"


def test_missing_pin_or_wrong_key_is_one_line_and_writes_nothing(legal: LegalHsm, cli_process: Run) -> None:
    grant = ["approvals", "grant", "--id", "APR-HSM-2", "--production", "PRJ-1", "--asset", "SH010"]
    res = _no_secrets(cli_process(*grant, "--covers", "ideation", *legal.token_args(), env=legal.env(None)))
    assert res.code == 2 and len(res.error_lines) == 1 and res.stderr.startswith(ERROR_PREFIX), res.stderr
    assert ENV_PIN in res.stderr
    args = [a if a != KEY else "no-such-key" for a in legal.token_args()]
    res = _no_secrets(cli_process(*grant, "--covers", "ideation", *args, env=legal.env()))
    assert res.code == 2 and len(res.error_lines) == 1 and "no-such-key" in res.stderr, res.stderr
    assert "APR-HSM-2" not in cli_process("approvals", "list", "--home", legal.ws.home).stdout
