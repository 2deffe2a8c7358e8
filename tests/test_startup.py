"""Start-up structure: a command imports only what it needs (issue 11 item 5).

Each test runs the real CLI in a fresh interpreter and reads `sys.modules` afterwards. They assert
structure, not time: a module-level import of a heavy module on the verify path (the ledger, the
policy, rich, jsonschema, PostgreSQL, Dask, the signing code) makes them fail.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from genai_provenance.reports.console import may_be_terminal
from genai_provenance.workspace import Workspace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

_RUN = """
import json, sys
from genai_provenance.cli import main
try:
    main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

# Never needed to verify a file: the clearance ledger and records (an asset that cites no clearance),
# the policy (verify judges nothing by it), rich (stdout is no terminal), and other commands' code.
NOT_FOR_VERIFY = (
    "rich",
    "yaml",
    "psycopg",
    "distributed",
    "dask",
    "pkcs11",
    "bagit",
    "concurrent.futures",
    "genai_provenance.clearances.ledger",
    "genai_provenance.clearances.ledger_chain",
    "genai_provenance.clearances.records",
    "genai_provenance.clearances.timestamps",
    "genai_provenance.clearances.revocations",
    "genai_provenance.clearances.waivers",
    "genai_provenance.policy.rules",
    "genai_provenance.policy.signer_pins",
    "genai_provenance.documents",
    "genai_provenance.demo",
    "genai_provenance.cli.core",
    "genai_provenance.cli.sign_batch",
    "genai_provenance.credentials.batch",
    "genai_provenance.credentials.sign_asset",
    "genai_provenance.credentials.hsm",
    "genai_provenance.trust.pki",
    "genai_provenance.gate.cluster",
    "genai_provenance.gate.package",
    "genai_provenance.explain",
)


def _run(tmp_path: Path, *args: str | Path) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(out), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.exists(), done.stderr
    result = json.loads(out.read_text())
    return result["code"], set(result["modules"])


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


def test_verify_of_a_signed_file_imports_no_ledger_policy_rich_or_signing_code(tmp_path, sign_media, workspace):
    signed = sign_media("plate.jpg", "plate.json").output
    code, modules = _run(tmp_path, "verify", signed, "--home", workspace.home, "--format", "text")
    assert code == 0
    assert "genai_provenance.cli.verify" in modules  # the command really ran
    assert "c2pa" in modules
    assert _loaded(modules, NOT_FOR_VERIFY) == []


def test_verify_json_of_a_file_without_credentials_does_not_import_jsonschema(tmp_path, workspace: Workspace):
    plain = tmp_path / "plain.jpg"
    plain.write_bytes((FIXTURES / "media" / "plate.jpg").read_bytes())
    code, modules = _run(tmp_path, "verify", plain, "--home", workspace.home, "--format", "json")
    assert code == 1  # no credentials: not passing
    assert _loaded(modules, (*NOT_FOR_VERIFY, "jsonschema", "referencing")) == []


def test_check_imports_no_signing_packaging_or_cluster_code(tmp_path, sign_media, workspace):
    signed = sign_media("plate.jpg", "plate.json").output
    code, modules = _run(tmp_path, "check", signed, "--home", workspace.home, "--format", "json")
    assert code in (0, 1)
    assert "genai_provenance.policy.rules" in modules  # check does judge by the policy
    heavy = ("rich", "psycopg", "distributed", "dask", "pkcs11", "bagit", "genai_provenance.demo")
    other = ("genai_provenance.cli.core", "genai_provenance.credentials.batch", "genai_provenance.credentials.hsm")
    assert _loaded(modules, (*heavy, *other, "genai_provenance.trust.pki", "genai_provenance.gate.cluster")) == []


def test_sidecar_sign_imports_no_batch_policy_or_verify_pool(tmp_path, workspace):
    media = tmp_path / "plate.jpg"
    media.write_bytes((FIXTURES / "media" / "plate.jpg").read_bytes())
    disclosure = FIXTURES / "disclosures" / "plate.json"
    code, modules = _run(tmp_path, "sign", media, "--sidecar", "--disclosure", disclosure, "--home", workspace.home)
    assert code == 0 and (tmp_path / "plate.jpg.c2pa").is_file()
    heavy = ("rich", "psycopg", "distributed", "dask", "pkcs11", "bagit", "genai_provenance.demo")
    other = (
        "genai_provenance.cli.sign_batch",
        "genai_provenance.credentials.batch",
        "genai_provenance.policy.rules",
        "genai_provenance.trust.pki",
        "genai_provenance.gate.cluster",
        "genai_provenance.gate.package",
    )
    assert _loaded(modules, (*heavy, *other)) == []


ENVIRONMENTS = [
    {},
    {"FORCE_COLOR": ""},
    {"FORCE_COLOR": "1"},
    {"TTY_COMPATIBLE": "0"},
    {"TTY_COMPATIBLE": "1"},
    {"NO_COLOR": "1"},
]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_rich_is_skipped_only_where_rich_would_see_no_terminal(monkeypatch, env):
    """may_be_terminal decides whether rich is imported at all: it may say yes too often, never no wrongly."""
    from rich.console import Console

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    stream = io.StringIO()  # not a tty
    rich_says = Console(file=stream, force_terminal=None, no_color=None).is_terminal
    assert may_be_terminal(stream) or not rich_says
    if env in ({}, {"NO_COLOR": "1"}):  # a plain pipe: rich is not even imported
        assert not may_be_terminal(stream)
    if env in ({"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "1"}):
        assert rich_says and may_be_terminal(stream)
