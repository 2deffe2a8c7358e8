"""Hostile input (issue 8): files and documents built to leak, hang, blow up or mislead.

Each test is an attack that worked on the old code: a private key echoed in an error, terminal
escapes from a signer's description, a YAML alias bomb, a FIFO named .jpg, a killed sign's
leftover, hidden files checked by one command and not another, deep nesting and huge numbers,
a damaged C2PA box read as "no credentials", a PNG named .jpg.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import time
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import CLI_COMMAND, DISCLOSURES, ERROR_PREFIX, MEDIA, CliResult, IdentityFiles, disclosure, needs_ffmpeg

from genai_provenance.credentials.read import TrustSettings
from genai_provenance.files import host_tag
from genai_provenance.schemas import validate
from genai_provenance.workspace import Workspace

Cli = Callable[..., CliResult]
HANG_LIMIT = 60  # seconds: a command that reads a FIFO would never return


def run_process(*args: Any, timeout: float = HANG_LIMIT, cwd: Path | None = None) -> CliResult:
    """The installed CLI as a real process; a hang fails the test instead of stalling the suite."""
    try:
        done = subprocess.run(
            [*CLI_COMMAND, *(os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args)],
            capture_output=True,
            timeout=timeout,
            check=False,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung for {timeout} s: {args}")
    out = done.stdout.decode("utf-8")  # must be valid UTF-8 whatever the file names
    err = done.stderr.decode("utf-8")
    assert "Traceback" not in err and "PRIVATE KEY" not in out + err, err
    return CliResult(done.returncode, out, err)


def one_line_error(res: CliResult, *fragments: str, code: int = 2) -> str:
    assert res.code == code, (res.code, res.stdout, res.stderr)
    [line] = res.stderr.splitlines()
    assert line.startswith(ERROR_PREFIX), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def home(workspace: Workspace) -> list[Any]:
    return ["--home", workspace.home]


# --------------------------------------------------------------------------- 1. no file contents in errors


@pytest.mark.parametrize("name", ["key.pem", "key.yaml", "key.json"])
def test_private_key_as_disclosure_or_policy_is_never_echoed(
    name: str, outsider: IdentityFiles, workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    key = tmp_path / name
    shutil.copy(outsider.key, key)
    material = [line for line in outsider.key.read_text().splitlines() if "-----" not in line]
    out = tmp_path / "out.jpg"
    runs = {
        "sign --disclosure": cli("sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", key, *home(workspace)),
        "check --policy": cli("check", MEDIA / "plate.jpg", "--policy", key, *home(workspace)),
        "preflight --policy": cli(
            "preflight", "--disclosure", DISCLOSURES / "plate.json", "--policy", key, "-o", tmp_path / "d.json"
        ),
        "preflight --disclosure": cli("preflight", "--disclosure", key, "-o", tmp_path / "d.json"),
    }
    for what, res in runs.items():
        line = one_line_error(res, name)
        assert "PRIVATE KEY" not in line, what
        assert not any(chunk[:16] in line for chunk in material), (what, line)
        assert len(line) < 400, (what, line)
    assert not out.exists()


def test_long_values_are_quoted_at_most_about_200_characters(cli: Cli, workspace: Workspace, tmp_path: Path) -> None:
    doc = disclosure("plate.json")
    doc["source_type"] = "x" * 50_000
    bad = tmp_path / "long.json"
    bad.write_text(json.dumps(doc))
    res = cli("sign", MEDIA / "plate.jpg", "-o", tmp_path / "o.jpg", "--disclosure", bad, *home(workspace))
    line = one_line_error(res, "long.json", "source_type")
    assert "x" * 90 in line and "x" * 201 not in line and line.count("x") < 260


# --------------------------------------------------------------------------- 2. terminal escapes


ESC_NAME = "shot\x1b[31m_red\x07.jpg"


@pytest.fixture(scope="module")
def escaped(sign_media: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A signed file whose disclosure text and file name carry terminal control sequences."""
    doc = disclosure("bg_replace.json")
    doc["genai"][0]["description"] = "sky\x1b[2J\x1b[H replaced\r\nFAKE: all clear"
    doc["genai"][0]["tool"]["name"] = "Gen\x1b]0;owned\x07\x9b31m"
    doc["asset"]["title"] = "title\x1b[8m"
    folder = tmp_path_factory.mktemp("escapes")
    out = folder / ESC_NAME
    sign_media("plate.jpg", doc, out=out)
    return out


def assert_no_controls(text: str) -> None:
    assert not any(ch in text for ch in "\x1b\x07\r\x9b"), repr(text)


def test_text_reports_never_send_control_characters(escaped: Path, workspace: Workspace, cli: Cli) -> None:
    runs = [
        cli("verify", escaped, *home(workspace)),
        cli("verify", escaped.parent, *home(workspace)),
        cli("check", escaped, *home(workspace)),
        cli("explain", escaped, *home(workspace)),
    ]
    for res in runs:
        assert res.stdout and res.code in (0, 1), res.stderr
        assert_no_controls(res.stdout + res.stderr)
    assert "\\x1b[2J" in runs[0].stdout  # shown, not obeyed
    assert "shot\\x1b[31m_red\\x07.jpg" in runs[0].stdout


def test_sign_and_package_text_and_errors_escape_file_names(
    escaped: Path, workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "out\x1b[2J.jpg"
    res = cli("sign", escaped, "-o", out, "--disclosure", DISCLOSURES / "plate.json", *home(workspace))
    assert res.code == 0, res.stderr
    assert_no_controls(res.stdout)
    res = cli("verify", tmp_path / "nope\x1b[2J.jpg")
    one_line_error(res, "nope\\x1b[2J.jpg")
    assert_no_controls(res.stderr)
    res = cli("package", escaped.parent, "-o", tmp_path / "pkg", *home(workspace))
    assert res.code == 1
    assert_no_controls(res.stdout)
    junit = cli("package", escaped.parent, "-o", tmp_path / "pkg", "--format", "junit", *home(workspace))
    root = ET.fromstring(junit.stdout)  # well-formed although the name holds ESC and BEL
    assert [c.get("name") for c in root.iter("testcase")] == ["shot\\x1b[31m_red\\x07.jpg"]
    doc = cli("package", escaped.parent, "-o", tmp_path / "pkg", "--format", "json", *home(workspace)).json()
    validate("package-report", doc, "package --format json")


# --------------------------------------------------------------------------- 3. YAML alias bomb

BILLION_LAUGHS = """asset: {title: t, production: P, asset_id: A, intended_use: final}
genai:
  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]
  - &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
  - &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
  - &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
  - &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
  - &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
  - &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
  - &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
  - &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]
  - &a9 [*a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8]
"""


@pytest.mark.parametrize("option", ["sign --disclosure", "check --policy"])
def test_yaml_alias_bomb_is_refused_quickly(option: str, workspace: Workspace, tmp_path: Path) -> None:
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(BILLION_LAUGHS)
    if option == "sign --disclosure":
        args = ["sign", MEDIA / "plate.jpg", "-o", tmp_path / "o.jpg", "--disclosure", bomb, *home(workspace)]
    else:
        args = ["check", MEDIA / "plate.jpg", "--policy", bomb, *home(workspace)]
    res = run_process(*args, timeout=30)
    one_line_error(res, "laughs.yaml", "YAML anchors and aliases are not allowed")


# --------------------------------------------------------------------------- 4. FIFOs and devices


@pytest.fixture
def fifo_folder(tmp_path: Path, sign_media: Any) -> Path:
    folder = tmp_path / "delivery"
    folder.mkdir()
    sign_media("plate.jpg", "plate.json", out=folder / "plate.jpg")
    os.mkfifo(folder / "x.jpg")
    return folder


def test_fifo_file_arguments_are_refused_not_read(fifo_folder: Path, workspace: Workspace, tmp_path: Path) -> None:
    fifo = fifo_folder / "x.jpg"
    os.mkfifo(tmp_path / "d.yaml")
    plate, out = fifo_folder / "plate.jpg", tmp_path / "o.jpg"
    disc = DISCLOSURES / "plate.json"
    cases = [
        ["verify", fifo],
        ["check", fifo],
        ["explain", fifo],
        ["sign", fifo, "-o", out, "--disclosure", disc],
        ["sign", plate, "-o", out, "--disclosure", tmp_path / "d.yaml"],
        ["sign", plate, "-o", out, "--disclosure", disc, "--parent", fifo],
        ["sign", plate, "-o", out, "--disclosure", disc, "--ingredient", fifo],
        ["check", plate, "--policy", tmp_path / "d.yaml"],
        ["preflight", "--disclosure", tmp_path / "d.yaml", "-o", tmp_path / "decl.json"],
    ]
    for args in cases:
        res = run_process(*args, *([] if args[0] == "preflight" else home(workspace)))
        line = one_line_error(res)
        assert "named pipe" in line or "not a file" in line, line
    assert not out.exists()


def test_fifo_in_a_folder_is_unreadable_and_blocks_the_package(
    fifo_folder: Path, workspace: Workspace, tmp_path: Path
) -> None:
    res = run_process("verify", fifo_folder, "--format", "json", *home(workspace))
    assert res.code == 1
    statuses = {Path(a["path"]).name: (a["status"], a["error"]) for a in json.loads(res.stdout)["assets"]}
    assert statuses["plate.jpg"][0] == "trusted"
    assert statuses["x.jpg"][0] == "unreadable" and "named pipe" in statuses["x.jpg"][1]
    res = run_process("check", fifo_folder, *home(workspace))
    assert res.code == 1 and "named pipe" in res.stdout
    res = run_process("package", fifo_folder, "-o", tmp_path / "pkg", "--format", "json", *home(workspace))
    assert res.code == 1, res.stderr
    doc = json.loads(res.stdout)
    assert [(s["path"], s["reason"]) for s in doc["stray"]] == [("x.jpg", "is a named pipe (FIFO)")]
    assert not (tmp_path / "pkg").exists()


def test_fifo_inside_a_package_fails_verify_package_without_hanging(
    sign_media: Any, workspace: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    sign_media("plate.jpg", "plate.json", out=folder / "plate.jpg")
    pkg = tmp_path / ("p" * 255)  # the longest name a folder can have: its staging name must be shortened
    res = run_process("package", folder, "-o", pkg, *home(workspace))
    assert res.code == 0, res.stdout + res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["delivery", pkg.name]
    (pkg / "data" / "plate.jpg").unlink()
    os.mkfifo(pkg / "data" / "plate.jpg")
    res = run_process("verify-package", pkg, "--format", "json", *home(workspace))
    assert res.code == 1
    assert json.loads(res.stdout)["problems"] == [
        "data/plate.jpg: is a named pipe (FIFO); a package holds regular files only"
    ]


def test_fifo_as_any_file_option_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "anchors.pem")
    res = run_process("verify", MEDIA / "plate.jpg", "--trust", tmp_path / "anchors.pem")
    one_line_error(res, "--trust", "anchors.pem", "named pipe")
    fifo = tmp_path / "anchors.pem"
    res = run_process("sign", MEDIA / "plate.jpg", "-o", tmp_path / "o.jpg", "--disclosure",
                      DISCLOSURES / "plate.json", "--cert", fifo, "--key", fifo)  # fmt: skip
    one_line_error(res, "--cert", "named pipe")


# --------------------------------------------------------------------------- 5. a killed sign's leftovers


def write_silence(path: Path, seconds: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(48000)
        chunk = b"\x01\x00" * 2 * 48000
        for _ in range(seconds):
            wav.writeframes(chunk)


def test_killed_sign_leftover_is_swept_by_the_next_sign_and_package(workspace: Workspace, tmp_path: Path) -> None:
    big = tmp_path / "long.wav"
    write_silence(big, 600)  # ~115 MB: signing takes long enough to be caught mid-write
    folder = tmp_path / "delivery"
    folder.mkdir()
    out = folder / "long.wav"
    args = [*CLI_COMMAND, "sign", str(big), "-o", str(out), "--disclosure", str(DISCLOSURES / "plate.json"),
            "--home", str(workspace.home)]  # fmt: skip
    leftover: list[Path] = []
    for _attempt in range(3):
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and not leftover:
            leftover = [p for p in folder.iterdir() if p.name.endswith(".part") and p.stat().st_size > 0]
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if leftover and not out.exists():
            break
        shutil.rmtree(folder)
        folder.mkdir()
        leftover = []
    assert leftover, "could not catch sign while it wrote its temporary file"
    [part] = leftover
    assert part.exists() and part.name.startswith(".long.wav.genai-provenance-")
    assert str(proc.pid) in part.name

    res = run_process("sign", MEDIA / "plate.jpg", "-o", folder / "plate.jpg",
                      "--disclosure", DISCLOSURES / "plate.json", *home(workspace))  # fmt: skip
    assert res.code == 0, res.stderr
    assert not part.exists(), "the next sign in that folder removes a dead run's temporary file"

    # the same leftover, found by package: removed, reported, not a stray
    shutil.copy(big, part)  # the same leftover again, still named for the dead pid
    res = run_process("package", folder, "-o", tmp_path / "pkg", "--format", "json", *home(workspace))
    doc = json.loads(res.stdout)
    assert res.code == 0, (doc["stray"], [a["findings"] for a in doc["assets"]])
    assert doc["discovery"]["removed"] == [part.name]
    assert not part.exists()


def test_a_live_temporary_file_is_in_progress_not_a_stray(
    sign_media: Any, workspace: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    sign_media("plate.jpg", "plate.json", out=folder / "plate.jpg")
    live = folder / f".other.jpg.genai-provenance-{host_tag()}-{os.getpid()}-0123abcd.part"  # this process
    live.write_bytes(b"half written")
    res = run_process("package", folder, "-o", tmp_path / "pkg", "--format", "json", *home(workspace))
    doc = json.loads(res.stdout)
    assert res.code == 0 and doc["stray"] == []
    assert doc["discovery"]["in_progress"] == [live.name]
    assert live.exists()
    res = run_process("verify", folder, "--format", "json", *home(workspace))
    doc = json.loads(res.stdout)
    assert [Path(a["path"]).name for a in doc["assets"]] == ["plate.jpg"]
    assert doc["discovery"]["in_progress"] == [str(live)]


def test_another_machines_temporary_file_is_never_swept(sign_media: Any, workspace: Workspace, tmp_path: Path) -> None:
    """On storage several machines mount, a pid means nothing here: another machine's writer may be alive."""
    folder = tmp_path / "delivery"
    folder.mkdir()
    sign_media("plate.jpg", "plate.json", out=folder / "plate.jpg")
    other = "0000ffff" if host_tag() != "0000ffff" else "ffff0000"
    remote = folder / f".comp.mp4.genai-provenance-{other}-999999-0123abcd.part"  # no such pid here
    remote.write_bytes(b"being written elsewhere")
    res = run_process("package", folder, "-o", tmp_path / "pkg", "--format", "json", *home(workspace))
    doc = json.loads(res.stdout)
    assert res.code == 0 and doc["stray"] == [] and doc["discovery"]["removed"] == []
    assert doc["discovery"]["in_progress"] == [remote.name]
    assert remote.exists()


# --------------------------------------------------------------------------- 6. one discovery for every command


@pytest.fixture
def hidden_folder(tmp_path: Path, sign_media: Any) -> Path:
    folder = tmp_path / "delivery"
    (folder / "sub").mkdir(parents=True)
    sign_media("plate.jpg", "plate.json", out=folder / "plate.jpg")
    shutil.copy(MEDIA / "plate.jpg", folder / "sub" / ".unsigned.jpg")  # hidden, unsigned: must not slip through
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "sub" / "._plate.jpg").write_bytes(b"\x00\x05\x16\x07")
    (folder / "readme.txt").write_text("notes")
    return folder


def test_hidden_media_are_checked_by_check_as_package_blocks_them(
    hidden_folder: Path, workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    res = cli("check", hidden_folder, "--format", "json", *home(workspace))
    assert res.code == 1
    doc = res.json()
    validate("check-report", doc, "check --format json")
    assert {Path(a["path"]).name: a["blocked"] for a in doc["assets"]} == {"plate.jpg": False, ".unsigned.jpg": True}
    assert doc["discovery"]["skipped"] == [{"path": str(hidden_folder / "readme.txt"), "reason": "not a media file"}]
    assert doc["discovery"]["ignored"] == [str(hidden_folder / ".DS_Store"), str(hidden_folder / "sub" / "._plate.jpg")]
    text = cli("check", hidden_folder, *home(workspace)).stdout
    assert "ignored 2 files on the default ignore list" in text and "readme.txt (not a media file)" in text

    pkg = cli("package", hidden_folder, "-o", tmp_path / "pkg", "--format", "json", *home(workspace)).json()
    validate("package-report", pkg, "package --format json")
    assert [s["path"] for s in pkg["stray"]] == ["readme.txt"]
    assert {a["path"]: a["blocked"] for a in pkg["assets"]} == {"plate.jpg": False, "sub/.unsigned.jpg": True}
    assert pkg["discovery"]["ignored"] == [".DS_Store", "sub/._plate.jpg"]


def test_no_default_ignores_considers_every_file(
    hidden_folder: Path, workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    doc = cli("verify", hidden_folder, "--no-default-ignores", "--format", "json", *home(workspace)).json()
    validate("verify-report", doc, "verify --format json")
    assert doc["discovery"]["ignored"] == []
    names = {Path(a["path"]).name for a in doc["assets"]}
    assert names == {"plate.jpg", ".unsigned.jpg", "._plate.jpg"}
    assert str(hidden_folder / ".DS_Store") in [s["path"] for s in doc["discovery"]["skipped"]]
    pkg = cli("package", hidden_folder, "-o", tmp_path / "pkg", "--no-default-ignores", "--format", "json",
              *home(workspace)).json()  # fmt: skip
    assert [s["path"] for s in pkg["stray"]] == [".DS_Store", "readme.txt"]


def test_overlapping_paths_are_counted_once(hidden_folder: Path, workspace: Workspace, cli: Cli) -> None:
    plate = hidden_folder / "plate.jpg"
    doc = cli("verify", hidden_folder, plate, hidden_folder / "." / "plate.jpg", "--format", "json",
              *home(workspace)).json()  # fmt: skip
    assert sorted(Path(a["path"]).name for a in doc["assets"]) == [".unsigned.jpg", "plate.jpg"]
    assert doc["summary"]["assets"] == 2
    doc = cli("verify", hidden_folder, hidden_folder / "sub", hidden_folder, "--format", "json",
              *home(workspace)).json()  # fmt: skip
    assert doc["summary"]["assets"] == 2
    assert doc["discovery"]["skipped"] == [{"path": str(hidden_folder / "readme.txt"), "reason": "not a media file"}]
    assert doc["discovery"]["ignored"] == [str(hidden_folder / ".DS_Store"), str(hidden_folder / "sub" / "._plate.jpg")]


# --------------------------------------------------------------------------- 7. deep, huge, looping, long, undecodable


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("deep.json", "[" * 100_000, "nested"),
        ("deep_closed.json", "[" * 5000 + "]" * 5000, "nested"),
        ("deep.yaml", "[" * 100_000, "nested"),
        ("exp.json", '{"asset": 1e999999}', "number too large"),
        ("digits.json", '{"asset": ' + "9" * 100_000 + "}", "number too large"),
        ("digits.yaml", "asset: " + "9" * 100_000, "number too large"),
        ("nan.json", '{"asset": NaN}', "NaN"),
        ("inf.yaml", "asset: .inf", "infinite"),
        ("binary.yaml", b"\xff\xfe\x00garbage", "not UTF-8"),
        ("surrogate.json", '{"asset": {"title": "\\ud800"}}', "lone surrogate"),
    ],
)
def test_pathological_documents_get_one_line(
    name: str, content: str | bytes, fragment: str, workspace: Workspace, tmp_path: Path
) -> None:
    doc = tmp_path / name
    if isinstance(content, bytes):
        doc.write_bytes(content)
    else:
        doc.write_text(content)
    res = run_process("sign", MEDIA / "plate.jpg", "-o", tmp_path / "o.jpg", "--disclosure", doc, *home(workspace))
    one_line_error(res, name, fragment)
    res = run_process("check", MEDIA / "plate.jpg", "--policy", doc, *home(workspace))
    one_line_error(res, name, fragment)


def test_symlink_loop(tmp_path: Path, workspace: Workspace, sign_media: Any) -> None:
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    one_line_error(run_process("verify", loop), "loop.jpg", "symbolic link loop")
    sign_media("plate.jpg", "plate.json", out=tmp_path / "plate.jpg")
    res = run_process("verify", tmp_path, "--format", "json", *home(workspace))
    assets = {Path(a["path"]).name: a for a in json.loads(res.stdout)["assets"]}
    assert assets["loop.jpg"]["status"] == "unreadable" and "symbolic link loop" in assets["loop.jpg"]["error"]
    out = tmp_path / "o.jpg"
    res = run_process("sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", loop, *home(workspace))
    one_line_error(res, "loop.jpg")


def test_long_output_names_fit_and_too_long_ones_are_refused(workspace: Workspace, tmp_path: Path, cli: Cli) -> None:
    name = "n" * 251 + ".jpg"  # 255 bytes: fits, its temporary file would not without shortening
    res = cli("sign", MEDIA / "plate.jpg", "-o", tmp_path / name, "--disclosure", DISCLOSURES / "plate.json",
              *home(workspace))  # fmt: skip
    assert res.code == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    res = cli("sign", MEDIA / "plate.jpg", "-o", tmp_path / ("m" * 252 + ".jpg"), "--disclosure",
              DISCLOSURES / "plate.json", *home(workspace))  # fmt: skip
    one_line_error(res, "file name too long")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_full_disk_is_a_clear_error(workspace: Workspace, tmp_path: Path) -> None:
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(tiny)], capture_output=True)
    if mounted.returncode != 0:
        why = mounted.stderr.decode(errors="replace").strip()
        pytest.skip(reason=f"a 64 KiB tmpfs to fill could not be mounted (needs root or CAP_SYS_ADMIN): {why}")
    try:
        with open(tiny / "fill", "wb", buffering=0) as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)
        res = run_process("sign", MEDIA / "plate.jpg", "-o", tiny / "o.jpg", "--disclosure",
                          DISCLOSURES / "plate.json", *home(workspace))  # fmt: skip
        one_line_error(res, "o.jpg", "no space left on device", "nothing was written")
        res = run_process("preflight", "--disclosure", DISCLOSURES / "bg_replace.json", "-o", tiny / "d.json")
        one_line_error(res, "d.json", "no space left on device", "nothing was written")
        assert os.listdir(tiny) == ["fill"]
    finally:
        subprocess.run(["umount", str(tiny)], check=False)


def test_undecodable_and_control_file_names_give_valid_json_and_junit(
    sign_media: Any, workspace: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    sign_media("plate.jpg", "plate.json", out=folder / "plate.jpg")
    odd = os.fsencode(folder) + b"/caf\xe9\x1b.jpg"
    shutil.copy(MEDIA / "plate.jpg", os.fsdecode(odd))
    res = run_process("verify", folder, "--format", "json", *home(workspace))
    doc = json.loads(res.stdout)
    validate("verify-report", doc, "verify --format json")
    assert sorted(Path(a["path"]).name for a in doc["assets"]) == ["caf\\xe9\x1b.jpg", "plate.jpg"]
    res = run_process("package", folder, "-o", tmp_path / "pkg", "--format", "junit", *home(workspace))
    root = ET.fromstring(res.stdout)
    names = sorted(c.get("name") or "" for c in root.iter("testcase"))
    assert names == ["caf\\xe9\\x1b.jpg", "plate.jpg"]
    res = run_process("package", folder, "-o", tmp_path / "pkg", "--format", "json", *home(workspace))
    doc = json.loads(res.stdout)
    assert [(s["path"], s["reason"]) for s in doc["stray"]] == [("caf\\xe9\x1b.jpg", "file name is not valid UTF-8")]
    res = run_process("check", folder, *home(workspace))
    assert "caf\\xe9\\x1b.jpg" in res.stdout


# --------------------------------------------------------------------------- 8. damaged C2PA boxes


def damage_until_not_found(data: bytes, mime: str, start: int, stop: int) -> tuple[bytes, int]:
    """Flip bytes from `start` until c2pa no longer finds a manifest at all (ManifestNotFound)."""
    context = TrustSettings().context()
    for offset in range(start, stop):
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        try:
            with c2pa.Reader(mime, _stream(bytes(damaged)), context=context):
                continue
        except c2pa.C2paError.ManifestNotFound:
            return bytes(damaged), offset
        except c2pa.C2paError:
            continue
    pytest.fail(f"no offset in {start}..{stop} hides the manifest from c2pa")


def _stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


@pytest.mark.parametrize(
    ("name", "mime", "box"),
    [
        ("dialogue.wav", "audio/wav", b"C2PA"),
        ("plate.mp4", "video/mp4", b"uuid"),
        ("plate.jpg", "image/jpeg", b"\xff\xeb"),
    ],
)
def test_damaged_c2pa_box_is_invalid_not_no_credentials(
    name: str, mime: str, box: bytes, sign_media: Any, workspace: Workspace, tmp_path: Path, cli: Cli
) -> None:
    data = sign_media(name, "bg_replace.json").output.read_bytes()
    at = data.find(b"jumb")
    where = data.rfind(box, 0, at)
    assert 0 <= where < at
    damaged, offset = damage_until_not_found(data, mime, where - 4, at + 64)
    path = tmp_path / name
    path.write_bytes(damaged)
    doc = cli("verify", path, "--format", "json", *home(workspace)).json()
    [asset] = doc["assets"]
    assert asset["status"] == "invalid", (offset, asset)
    assert "credentials present but damaged" in asset["error"]
    res = cli("check", path, "--intended-use", "temporary", *home(workspace))
    assert res.code == 1, res.stdout


def test_unsigned_files_stay_no_credentials(workspace: Workspace, cli: Cli) -> None:
    for name in ("dialogue.wav", "plate.mp4", "plate.png", "plate.jpg", "dialogue.mp3"):
        [asset] = cli("verify", MEDIA / name, "--format", "json", *home(workspace)).json()["assets"]
        assert asset["status"] == "no-credentials", name


# --------------------------------------------------------------------------- 9. formats asked of c2pa, content sniffed


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


@pytest.fixture(scope="module")
def other_formats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formats")
    made = {"svg": folder / "logo.svg"}
    made["svg"].write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4"/></svg>\n')
    if shutil.which("ffmpeg"):
        src = ["-f", "lavfi", "-i", "testsrc=size=64x64:rate=8"]
        jobs = {
            "avi": [*src, "-t", "0.5", "clip.avi"],
            "flac": ["-f", "lavfi", "-i", "sine=duration=0.3", "tone.flac"],
            "jxl": [*src, "-frames:v", "1", "-c:v", "libjxl", "bare.jxl"],
            "avif": [*src, "-frames:v", "1", "-c:v", "libaom-av1", "-still-picture", "1", "still.avif"],
        }
        for key, args in jobs.items():
            done = subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], cwd=folder, capture_output=True)
            if done.returncode == 0:
                made[key] = folder / args[-1]
        if "jxl" in made:  # the ISO BMFF-style JPEG XL container around the bare codestream
            container = b"\x00\x00\x00\x0cJXL \r\n\x87\n" + _box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ")
            made["jxl-container"] = folder / "boxed.jxl"
            made["jxl-container"].write_bytes(container + _box(b"jxlc", made["jxl"].read_bytes()))
        if "avif" in made:
            made["heif"] = folder / "still.heif"  # an AV1 HEIF image under the generic HEIF name
            shutil.copy(made["avif"], made["heif"])
    return made


@needs_ffmpeg()
@pytest.mark.parametrize("key", ["svg", "avi", "flac", "jxl", "jxl-container", "avif", "heif"])
def test_formats_c2pa_reads_are_no_credentials_not_unreadable(
    key: str, other_formats: dict[str, Path], workspace: Workspace, cli: Cli
) -> None:
    if key not in other_formats:
        pytest.skip(reason=f"this ffmpeg build has no encoder for {key}, so there is no such file to verify")
    res = cli("verify", other_formats[key], "--format", "json", *home(workspace))
    [asset] = res.json()["assets"]
    assert asset["status"] == "no-credentials", asset


def test_png_named_jpg_is_caught(workspace: Workspace, cli: Cli, tmp_path: Path) -> None:
    fake = tmp_path / "plate.jpg"
    shutil.copy(MEDIA / "plate.png", fake)
    res = cli("sign", fake, "-o", tmp_path / "o.jpg", "--disclosure", DISCLOSURES / "plate.json", *home(workspace))
    one_line_error(res, "plate.jpg", "content is PNG, name says JPEG")
    res = cli("verify", fake, "--format", "json", *home(workspace))
    [asset] = res.json()["assets"]
    assert asset["status"] == "unreadable" and asset["error"] == "content is PNG, name says JPEG"
    res = cli("sign", MEDIA / "plate.jpg", "-o", tmp_path / "o.jpg", "--disclosure", DISCLOSURES / "plate.json",
              "--ingredient", fake, *home(workspace))  # fmt: skip
    one_line_error(res, "content is PNG, name says JPEG")


@pytest.mark.parametrize(
    ("head", "family"),
    [
        (b"\xff\xd8\xff\xe0", "JPEG"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"GIF89a", "GIF"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WebP"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "WAV"),
        (b"II*\x00", "TIFF"),
        (b"MM\x00*", "TIFF"),
        (b"\x00\x00\x00\x18ftypmp42", "BMFF"),
        (b"\x00\x00\x00\x14ftypqt  ", "BMFF"),
        (b"%PDF-1.7", "PDF"),
        (b"ID3\x04", "MP3"),
        (b"\xff\xfb\x90\x00", "MP3"),
        (b"v/1\x01", "EXR"),
        (b"SDPX", "DPX"),
        (b"XPDS", "DPX"),
        (b"\x06\x0e\x2b\x34\x02\x05", "MXF"),
        (b"garbage!", None),
    ],
)
def test_magic_bytes(head: bytes, family: str | None) -> None:
    from genai_provenance.credentials.formats import sniff

    assert sniff(head) == family


def test_every_format_fixture_sniffs_as_its_name_says() -> None:
    from genai_provenance.credentials.formats import content_problem, media_format

    for path in sorted(MEDIA.iterdir()):
        fmt = media_format(path)
        if fmt is not None:
            assert content_problem(path, fmt, path.read_bytes()[:64]) is None, path
