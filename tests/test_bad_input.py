"""Bad input through the CLI: one line on stderr, no traceback, exit 2 (1 for an asset that fails
verification), no output (not even a hidden temporary file), inputs unchanged."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    DISCLOSURES,
    ERROR_PREFIX,
    MEDIA,
    CertFiles,
    CliResult,
    IdentityFiles,
    disclosure,
    leftovers,
    sha256,
)

from genai_provenance.workspace import SIGNER_CHAIN, Workspace


@dataclass
class Env:
    """Everything the cases need: prepared bad files, identities, the workspace."""

    bad: Path
    workspace: Workspace
    outsider: IdentityFiles
    expired: CertFiles
    server_auth_only: CertFiles


@pytest.fixture(scope="module")
def env(
    tmp_path_factory: pytest.TempPathFactory,
    workspace: Workspace,
    outsider: IdentityFiles,
    expired: CertFiles,
    server_auth_only: CertFiles,
) -> Env:
    bad = tmp_path_factory.mktemp("bad-input")
    (bad / "truncated.mp4").write_bytes((MEDIA / "plate.mp4").read_bytes()[:3000])
    (bad / "truncated.mov").write_bytes((MEDIA / "plate_prores.mov").read_bytes()[:20000])
    (bad / "truncated.wav").write_bytes((MEDIA / "dialogue.wav").read_bytes()[:16000])
    (bad / "corrupt.jpg").write_bytes((MEDIA / "plate.jpg").read_bytes()[:2000])
    (bad / "garbage.jpg").write_bytes(bytes(range(256)) * 20)
    shutil.copy(MEDIA / "plate.mp4", bad / "clip.mxf")
    shutil.copy(MEDIA / "plate.jpg", bad / "plate.xyz")
    base = disclosure("bg_replace.json")

    def write(name: str, change: Callable[[dict[str, Any]], None]) -> None:
        doc = copy.deepcopy(base)
        change(doc)
        (bad / name).write_text(json.dumps(doc))

    write("wrong_type.json", lambda d: d["asset"].update(title=5))
    write("wrong_bool.json", lambda d: d["genai"][0]["data_handling"].update(trains_on_inputs="no"))
    write("unknown_field.json", lambda d: d["genai"][0].update(colour="red"))
    write("unknown_top_field.json", lambda d: d.update(notes="x"))
    write("unknown_category.json", lambda d: d["genai"][0].update(category="alien-invasion"))
    write("unknown_source_type.json", lambda d: d["genai"][0].update(source_type="magic"))
    write("missing_asset_id.json", lambda d: d["asset"].pop("asset_id"))
    write(
        "backwards_time.json", lambda d: d["genai"][0].update(time_range={"start": "00:00:03:00", "end": "00:00:01:00"})
    )
    (bad / "not_json.json").write_text('{"asset": {"title": ')
    (bad / "not_yaml.yaml").write_text("asset: [unclosed\n  - x: {")
    (bad / "cert_as_key.pem").write_bytes(outsider.cert.read_bytes())
    return Env(bad, workspace, outsider, expired, server_auth_only)


@dataclass
class SignCase:
    """`sign INPUT -o OUT --disclosure D [extra]`; the expected message fragments."""

    input: Callable[[Env], Path]
    expect: list[str]
    disclosure: Callable[[Env], Path] = lambda e: DISCLOSURES / "bg_replace.json"
    extra: Callable[[Env], list[Any]] = lambda e: ["--home", e.workspace.home]
    out_suffix: str | None = None  # default: the input's suffix


def media(name: str) -> Callable[[Env], Path]:
    return lambda e: MEDIA / name


def bad(name: str) -> Callable[[Env], Path]:
    return lambda e: e.bad / name


SIGN_CASES: dict[str, SignCase] = {
    "missing_input": SignCase(bad("nope.jpg"), ["nope.jpg", "not found"]),
    # a folder is a batch (a sidecar per file): -o names its report, never a media file
    "input_is_folder": SignCase(lambda e: e.bad, ["signed.jpg", "-o/--output is the report"], out_suffix=".jpg"),
    "unsupported_exr": SignCase(media("plate.exr"), ["plate.exr", "EXR cannot carry embedded Content Credentials"]),
    "unsupported_dpx": SignCase(media("plate.dpx"), ["plate.dpx", "DPX cannot carry embedded Content Credentials"]),
    "unsupported_mxf": SignCase(bad("clip.mxf"), ["clip.mxf", "MXF cannot carry embedded Content Credentials"]),
    "unknown_extension": SignCase(bad("plate.xyz"), ["plate.xyz", "unsupported format .xyz"]),
    "truncated_mp4": SignCase(bad("truncated.mp4"), ["truncated.mp4", "extends beyond the end of the file"]),
    "truncated_prores_mov": SignCase(bad("truncated.mov"), ["truncated.mov", "extends beyond the end of the file"]),
    # fails inside c2pa's signer, after the staged temporary output exists: it must be removed
    "truncated_wav": SignCase(
        bad("truncated.wav"),
        ["truncated.wav", "signing failed", "exceeds file size"],
        disclosure=lambda e: DISCLOSURES / "plate.json",  # no time range: the duration check does not come first
    ),
    "corrupt_jpeg_truncated": SignCase(bad("corrupt.jpg"), ["corrupt.jpg", "truncated"]),
    "corrupt_jpeg_garbage": SignCase(bad("garbage.jpg"), ["garbage.jpg", "cannot read media"]),
    "missing_disclosure": SignCase(media("plate.jpg"), ["nope.json", "not found"], disclosure=bad("nope.json")),
    "disclosure_wrong_type": SignCase(
        media("plate.jpg"), ["wrong_type.json", "asset.title", "not of type"], disclosure=bad("wrong_type.json")
    ),
    "disclosure_wrong_bool": SignCase(
        media("plate.jpg"),
        ["genai[0].data_handling.trains_on_inputs", "not of type"],
        disclosure=bad("wrong_bool.json"),
    ),
    "disclosure_unknown_field": SignCase(
        media("plate.jpg"),
        ["unknown_field.json", "genai[0]", "unknown field 'colour'"],
        disclosure=bad("unknown_field.json"),
    ),
    "disclosure_unknown_top_field": SignCase(
        media("plate.jpg"), ["unknown field 'notes'"], disclosure=bad("unknown_top_field.json")
    ),
    "disclosure_unknown_category": SignCase(
        media("plate.jpg"),
        ["unknown_category.json", "genai[0].category", "'alien-invasion' is not allowed"],
        disclosure=bad("unknown_category.json"),
    ),
    "disclosure_unknown_source_type": SignCase(
        media("plate.jpg"), ["genai[0].source_type", "'magic'"], disclosure=bad("unknown_source_type.json")
    ),
    "disclosure_missing_field": SignCase(
        media("plate.jpg"), ["asset", "'asset_id' is a required property"], disclosure=bad("missing_asset_id.json")
    ),
    "disclosure_backwards_time_range": SignCase(
        media("plate.mp4"), ["genai[0].time_range", "before start"], disclosure=bad("backwards_time.json")
    ),
    "disclosure_not_json": SignCase(
        media("plate.jpg"), ["not_json.json", "not valid JSON"], disclosure=bad("not_json.json")
    ),
    "disclosure_not_yaml": SignCase(
        media("plate.jpg"), ["not_yaml.yaml", "not valid YAML"], disclosure=bad("not_yaml.yaml")
    ),
    "missing_key": SignCase(
        media("plate.jpg"),
        ["missing.key", "private key file not found"],
        extra=lambda e: ["--cert", e.outsider.cert, "--key", e.bad / "missing.key"],
    ),
    "cert_without_key": SignCase(
        media("plate.jpg"), ["--cert and --key go together"], extra=lambda e: ["--cert", e.outsider.cert]
    ),
    "key_does_not_match_certificate": SignCase(
        media("plate.jpg"),
        ["private key does not match the certificate"],
        extra=lambda e: ["--cert", e.workspace.path(SIGNER_CHAIN), "--key", e.outsider.key],
    ),
    "certificate_as_key": SignCase(
        media("plate.jpg"),
        ["cert_as_key.pem", "not a PEM private key"],
        extra=lambda e: ["--cert", e.outsider.cert, "--key", e.bad / "cert_as_key.pem"],
    ),
    "expired_certificate": SignCase(
        media("plate.jpg"), ["certificate expired on"], extra=lambda e: e.expired.cli_args()
    ),
    "tls_server_certificate": SignCase(
        media("plate.jpg"),
        ["extended key usage does not allow C2PA signing"],
        extra=lambda e: e.server_auth_only.cli_args(),
    ),
    "no_workspace_and_no_key": SignCase(
        media("plate.jpg"), ["no workspace here", "genai-provenance init"], extra=lambda e: ["--home", e.bad / "no-ws"]
    ),
    "missing_parent": SignCase(
        media("plate.jpg"),
        ["nope-parent.jpg", "not found"],
        extra=lambda e: ["--home", e.workspace.home, "--parent", e.bad / "nope-parent.jpg"],
    ),
    "output_extension_differs": SignCase(media("plate.jpg"), ["output extension must match"], out_suffix=".png"),
}
PROCESS_CASES = ["missing_input", "unsupported_exr", "truncated_mp4", "corrupt_jpeg_truncated", "expired_certificate"]


def assert_one_line_error(res: CliResult, fragments: list[str], code: int = 2) -> None:
    assert res.code == code, (res.code, res.stdout, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(ERROR_PREFIX)
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert res.stdout == ""


def run_sign_case(name: str, env: Env, run: Callable[..., CliResult], tmp_path: Path) -> None:
    case = SIGN_CASES[name]
    src = case.input(env)
    disclosure_path = case.disclosure(env)
    watched = [p for p in (src, disclosure_path) if p.is_file()]
    before = {p: sha256(p) for p in watched}
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / ("signed" + (case.out_suffix or src.suffix))
    res = run("sign", src, "-o", out, "--disclosure", disclosure_path, *case.extra(env))
    assert_one_line_error(res, case.expect)
    assert not out.exists()
    assert list(out_dir.iterdir()) == [], leftovers(out_dir)
    assert {p: sha256(p) for p in watched} == before


@pytest.mark.parametrize("name", sorted(SIGN_CASES))
def test_sign_bad_input(name: str, env: Env, cli: Any, tmp_path: Path) -> None:
    run_sign_case(name, env, cli, tmp_path)


@pytest.mark.parametrize("name", PROCESS_CASES)
def test_sign_bad_input_as_a_real_process(name: str, env: Env, cli_process: Any, tmp_path: Path) -> None:
    run_sign_case(name, env, cli_process, tmp_path)


def test_output_equal_to_input_leaves_the_input_whole(env: Env, cli: Any, tmp_path: Path) -> None:
    src = tmp_path / "plate.jpg"
    shutil.copy(MEDIA / "plate.jpg", src)
    before = sha256(src)
    for out in (src, tmp_path / "." / "plate.jpg"):
        res = cli("sign", src, "-o", out, "--disclosure", DISCLOSURES / "plate.json", "--home", env.workspace.home)
        assert_one_line_error(res, ["output path is the input"])
        assert sha256(src) == before
    link = tmp_path / "link.jpg"
    link.symlink_to(src)
    res = cli(
        "sign", src, "-o", link, "--disclosure", DISCLOSURES / "plate.json", "--home", env.workspace.home, "--force"
    )
    assert_one_line_error(res, ["output path is the input"])
    assert sha256(src) == before and src.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.jpg", "plate.jpg"]


def test_existing_output_is_kept_without_force(env: Env, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out.jpg"
    out.write_bytes(b"an earlier delivery")
    res = cli(
        "sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", DISCLOSURES / "plate.json", "--home", env.workspace.home
    )
    assert_one_line_error(res, ["out.jpg", "already exists", "--force"])
    assert out.read_bytes() == b"an earlier delivery"
    assert leftovers(tmp_path) == []
    res = cli(
        "sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", DISCLOSURES / "plate.json",
        "--home", env.workspace.home, "--force",
    )  # fmt: skip
    assert res.code == 0 and out.read_bytes()[:2] == b"\xff\xd8"
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- verify


def test_verify_missing_path(cli: Any, tmp_path: Path) -> None:
    assert_one_line_error(cli("verify", tmp_path / "nope.mp4"), ["nope.mp4", "no such file or folder"])


def test_verify_folder_without_media(cli_process: Any, tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no media here")
    (tmp_path / "sub").mkdir()
    assert_one_line_error(cli_process("verify", tmp_path), [str(tmp_path), "holds no media files"])


@pytest.mark.parametrize("name", ["truncated.mp4", "truncated.mov", "corrupt.jpg", "garbage.jpg"])
def test_verify_damaged_unsigned_media_is_unreadable(name: str, env: Env, cli_process: Any) -> None:
    path = env.bad / name
    before = sha256(path)
    res = cli_process("verify", path, "--home", env.workspace.home, "--format", "json")
    assert res.code == 1 and res.stderr == ""
    [asset] = res.json()["assets"]
    assert asset["status"] == "unreadable" and asset["failures"]
    assert sha256(path) == before


@pytest.mark.parametrize(("name", "cut", "status"), [("plate.mp4", 1000, "unreadable"), ("plate.jpg", 2000, "invalid")])
def test_verify_truncated_signed_media_fails(
    name: str, cut: int, status: str, sign_media: Any, env: Env, cli: Any, tmp_path: Path
) -> None:
    data = sign_media(name, "plate.json").output.read_bytes()
    truncated = tmp_path / name
    truncated.write_bytes(data[:-cut])
    res = cli("verify", truncated, "--home", env.workspace.home, "--format", "json")
    assert res.code == 1 and res.stderr == ""
    assert res.json()["assets"][0]["status"] == status
    text = cli("verify", truncated, "--home", env.workspace.home)
    assert text.code == 1 and status.upper() in text.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["verify", "--format", "xml", str(MEDIA / "plate.jpg")], "'xml' is not one of"),
        (["verify"], "Missing argument"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_are_one_line_too(args: list[str], fragment: str, cli: Any) -> None:
    assert_one_line_error(cli(*args), [fragment, "--help"])
