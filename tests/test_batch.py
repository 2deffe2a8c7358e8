"""Batch signing at export: `sign FOLDER`, `sign --batch SHOTLIST.csv`, --workers, --title templates.

Real signing in real worker processes; a killed or interrupted batch leaves no partial sidecar.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import c2pa
import pytest
from conftest import CLI_COMMAND, DISCLOSURES, ERROR_PREFIX, MEDIA, CliResult, leftovers, needs_ffmpeg, run_on_terminal

from genai_provenance.credentials.formats import SIDECAR_ANY_MIME
from genai_provenance.files import TEMP_MARK
from genai_provenance.schemas import validate
from genai_provenance.workspace import Workspace, init_workspace

Cli = Callable[..., CliResult]
PLATE = DISCLOSURES / "plate.json"
EXR_MAGIC = b"\x76\x2f\x31\x01"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("batch") / "ws", "Batch Test Post").workspace


def frames(folder: Path, names: list[str], size: int = 40_000) -> list[Path]:
    out = []
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(EXR_MAGIC + os.urandom(size))
        out.append(path)
    return out


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".c2pa")


def declared_title(asset: Path) -> str:
    """The asset.title of the disclosure embedded in the sidecar, read by c2pa itself."""
    with open(asset, "rb") as fh:
        reader = c2pa.Reader(SIDECAR_ANY_MIME, fh, sidecar(asset).read_bytes())
        doc = json.loads(reader.json())
    manifest = doc["manifests"][doc["active_manifest"]]
    [data] = [a["data"] for a in manifest["assertions"] if a["label"] == "com.genai-provenance.disclosure"]
    return str(data["asset"]["title"])


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_folder_is_signed_file_by_file_with_templated_titles(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    shots = tmp_path / "EP101"
    exrs = frames(shots, ["SH010/comp_v003.exr", "SH020/comp_v001.exr", "SH020/bg.exr"])
    (shots / "notes.txt").write_text("not media", encoding="utf-8")
    before = {p: p.read_bytes() for p in exrs}
    res = cli("sign", shots, "--disclosure", PLATE, "--title", "{parent}_{stem}", "--workers", "2",
              "--format", "json", "--home", ws.home)  # fmt: skip
    assert res.code == 0, res.stdout + res.stderr
    doc = res.json()
    validate("sign-batch-report", doc, "sign FOLDER --format json")
    assert doc["summary"] == {"files": 4, "signed": 3, "failed": 0, "error": 0, "skipped": 1, "bytes": 3 * 40_004}
    assert doc["skipped_by_reason"] == {"not a media file": 1}
    assert {f["input"]: f["status"] for f in doc["files"]}[str(shots / "notes.txt")] == "skipped"
    for exr in exrs:
        assert exr.read_bytes() == before[exr], "inputs are never modified"
        assert sidecar(exr).is_file()
    assert declared_title(exrs[0]) == "SH010_comp_v003"
    assert declared_title(exrs[2]) == "SH020_bg"
    verified = cli("verify", shots, "--format", "json", "--home", ws.home)
    assert verified.code == 0 and {a["status"] for a in verified.json()["assets"]} == {"trusted"}
    # Run again: every sidecar exists, nothing is re-signed (a batch can be resumed), exit 0.
    again = cli("sign", shots, "--disclosure", PLATE, "--format", "json", "--home", ws.home).json()
    assert again["summary"]["signed"] == 0 and again["skipped_by_reason"]["sidecar exists (--force replaces it)"] == 3


def test_shotlist_one_failing_file_does_not_stop_the_others(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    a, b, c, d = frames(tmp_path / "plates", ["a.exr", "b.exr", "c.exr", "d.exr"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"asset": {"title": "x"}}), encoding="utf-8")  # fails the disclosure schema
    sidecar(c).write_bytes(b"not a manifest store")  # a broken sidecar: --force will not launder it
    shots = write_csv(
        tmp_path / "shots.csv",
        [
            "file,disclosure,title",
            f"plates/a.exr,{PLATE},shot {{stem}}",
            "plates/b.exr,bad.json,",
            "plates/c.exr,../" + os.path.relpath(PLATE, tmp_path.parent) + ",",
            f"plates/d.exr,{PLATE},",
        ],
    )
    report = tmp_path / "report.json"
    res = cli("sign", "--batch", shots, "--force", "--workers", "2", "--format", "json", "-o", report,
              "--home", ws.home)  # fmt: skip
    assert res.code == 1, res.stderr  # a file failed a verification-type check
    assert res.stdout == ""
    doc = json.loads(report.read_text(encoding="utf-8"))
    validate("sign-batch-report", doc, "sign --batch --format json")
    status = {Path(f["input"]).name: f for f in doc["files"]}
    assert [status[n]["status"] for n in ("a.exr", "b.exr", "c.exr", "d.exr")] == [
        "signed",
        "error",
        "failed",
        "signed",
    ]
    assert status["b.exr"]["source"] == f"{shots}:3" and "bad.json" in status["b.exr"]["error"]
    assert "launder a broken history" in status["c.exr"]["error"]
    assert sidecar(c).read_bytes() == b"not a manifest store"
    assert not sidecar(b).exists() and sidecar(a).is_file() and sidecar(d).is_file()
    assert declared_title(a) == "shot a"
    assert leftovers(tmp_path / "plates") == []


def test_only_input_errors_exit_2(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    [a] = frames(tmp_path, ["a.exr"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"asset": {"title": "x"}}), encoding="utf-8")  # fails the disclosure schema
    shots = write_csv(tmp_path / "shots.csv", ["file,disclosure", f"a.exr,{bad}"])
    res = cli("sign", "--batch", shots, "--home", ws.home)
    assert res.code == 2 and "error    " in res.stdout and "Signed 0, failed 0, input errors 1" in res.stdout
    assert not sidecar(a).exists()
    bad.write_text("{", encoding="utf-8")  # unreadable: refused before anything is signed, one line
    res = cli("sign", "--batch", shots, "--home", ws.home)
    assert (
        res.code == 2
        and res.stdout == ""
        and res.error_lines
        == [
            f"{ERROR_PREFIX}{bad}: not valid JSON (line 1, column 2: Expecting property name enclosed in double quotes)"
        ]
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["file,title", "a.exr,x"], "shots.csv:1: missing column disclosure"),
        (["file,disclosure,scene", f"a.exr,{PLATE},1"], "shots.csv:1: unknown column scene"),
        (["file,disclosure", f"a.exr,{PLATE}", f"missing.exr,{PLATE}"], "shots.csv:3: file"),
        (["file,disclosure", f"a.exr,{PLATE}", "a.exr,nope.json"], "shots.csv:3: disclosure"),
        (["file,disclosure", f"a.exr,{PLATE}", f"./a.exr,{PLATE}"], "shots.csv:3: file"),
        (["file,disclosure", f",{PLATE}"], "shots.csv:2: file: empty"),
        (["file,disclosure,title", f"a.exr,{PLATE},{{scene}}"], "shots.csv:2: title '{scene}': unknown placeholder"),
        (["file,disclosure"], "shots.csv: no rows"),
    ],
)
def test_shotlist_errors_name_the_file_and_line(
    rows: list[str], message: str, ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    [a] = frames(tmp_path, ["a.exr"])
    shots = write_csv(tmp_path / "shots.csv", rows)
    res = cli("sign", "--batch", shots, "--home", ws.home)
    assert res.code == 2, res.stdout
    [line] = res.error_lines
    assert line.startswith(ERROR_PREFIX) and message in line, line
    assert not sidecar(a).exists(), "nothing is signed when the shot list is wrong"


def test_unknown_placeholders_are_input_errors(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    [a] = frames(tmp_path / "f", ["a.exr"])
    res = cli("sign", tmp_path / "f", "--disclosure", PLATE, "--title", "{shot}", "--home", ws.home)
    assert res.code == 2 and "--title" in res.stderr and "unknown placeholder {shot}" in res.stderr
    templated = tmp_path / "templated.json"
    doc = json.loads(PLATE.read_text(encoding="utf-8"))
    doc["asset"]["title"] = "{stem:>9}"
    templated.write_text(json.dumps(doc), encoding="utf-8")
    res = cli("sign", tmp_path / "f", "--disclosure", templated, "--home", ws.home)
    assert res.code == 2 and f"{templated}: asset.title" in res.stderr and "unknown placeholder" in res.stderr
    assert not sidecar(a).exists()
    doc["asset"]["title"] = "{{literal}} {name}"
    templated.write_text(json.dumps(doc), encoding="utf-8")
    assert cli("sign", tmp_path / "f", "--disclosure", templated, "--home", ws.home).code == 0
    assert declared_title(a) == "{literal} a.exr"


def test_batch_usage_errors(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    frames(tmp_path / "f", ["a.exr"])
    res = cli("sign", tmp_path / "f", "--home", ws.home)
    assert res.code == 2 and "needs --disclosure" in res.stderr
    res = cli("sign", tmp_path / "f", "--disclosure", PLATE, "--parent", MEDIA / "plate.jpg", "--home", ws.home)
    assert res.code == 2 and "--parent and --ingredient" in res.stderr
    shots = write_csv(tmp_path / "shots.csv", ["file,disclosure", f"f/a.exr,{PLATE}"])
    res = cli("sign", "--batch", shots, "--disclosure", PLATE, "--home", ws.home)
    assert res.code == 2 and "shot list names each file's disclosure" in res.stderr


def _wait_for_staged(proc: subprocess.Popen[bytes], folders: list[Path]) -> None:
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if any(TEMP_MARK in p.name for f in folders for p in f.iterdir()):
            return
        time.sleep(0.01)
    raise AssertionError("signing finished before it could be interrupted")


def _sparse(folder: Path, names: list[str], size: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        path = folder / name
        with open(path, "wb") as fh:  # sparse: hashing takes a moment, storing it takes nothing
            fh.write(EXR_MAGIC)
            fh.truncate(size)
        out.append(path)
    return out


def test_killed_batch_leaves_no_partial_sidecar(ws: Workspace, tmp_path: Path) -> None:
    """SIGKILL of the whole process group (parent and workers) mid-run: every sidecar there is whole and
    verifies; the dead run's staged files are swept by the next run, which signs the rest."""
    folder = tmp_path / "masters"
    masters = _sparse(folder, [f"reel{i}.exr" for i in range(4)], 1 << 29)
    cmd = [*CLI_COMMAND, "sign", str(folder), "--disclosure", str(PLATE), "--workers", "2", "--home", str(ws.home)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_staged(proc, [folder])
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert not all(sidecar(m).exists() for m in masters), "the batch finished before it was killed"
    for master in masters:
        if sidecar(master).exists():  # renamed into place only once whole and verified
            with open(master, "rb") as fh:
                reader = c2pa.Reader(SIDECAR_ANY_MIME, fh, sidecar(master).read_bytes())
                assert reader.get_validation_state() in ("Valid", "Trusted")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    assert all(sidecar(m).is_file() for m in masters) and leftovers(folder) == []


@pytest.mark.parametrize("batch", [False, True], ids=["one-file", "batch"])
def test_ctrl_c_leaves_nothing_half_written_and_exits_130(batch: bool, ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    masters = _sparse(folder, ["a.exr", "b.exr"] if batch else ["a.exr"], 1 << 31)
    target = [str(folder), "--workers", "2"] if batch else [str(masters[0])]
    cmd = [*CLI_COMMAND, "sign", *target, "--disclosure", str(PLATE), "--home", str(ws.home)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_for_staged(proc, [folder])
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: to the whole foreground group
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err.decode().splitlines() == [f"{ERROR_PREFIX}interrupted; nothing partial was left behind"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(m.name for m in masters), "no sidecar, no staged file"


def test_stdout_report_matches_the_text_summary(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    frames(tmp_path / "f", ["a.exr", "b.exr"])
    res = cli("sign", tmp_path / "f", "--disclosure", PLATE, "--workers", "1", "--home", ws.home)
    assert res.code == 0
    assert res.stdout.splitlines()[-1] == "Signed 2, failed 0, input errors 0, skipped 0 of 2 files"
    assert res.stdout.count("(trusted)") == 2


def test_signing_in_this_process_resolves_the_signer_once(
    ws: Workspace, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The up-front check (a bad key is one error, not one per file) is also what signing uses: the key is loaded,
    or the token logged in to, once (it was twice)."""
    from genai_provenance.credentials.batch import SignerSpec

    calls: list[object] = []
    resolve = SignerSpec.resolve

    def counted(self: SignerSpec) -> object:
        calls.append(self)
        return resolve(self)

    monkeypatch.setattr(SignerSpec, "resolve", counted)
    frames(tmp_path / "f", ["a.exr", "b.exr"])
    res = cli("sign", tmp_path / "f", "--disclosure", PLATE, "--workers", "1", "--home", ws.home)
    assert res.code == 0, res.stderr
    assert len(calls) == 1


@needs_ffmpeg()
def test_no_thumbnail(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    """ffmpeg decodes each EXR frame for its thumbnail (a second read, the slowest step of a sequence):
    --no-thumbnail leaves it out, and says nothing about ffmpeg."""
    for flags, expected in (((), True), (("--no-thumbnail",), False)):
        folder = tmp_path / str(expected)
        folder.mkdir()
        exr = folder / "plate.exr"
        shutil.copy2(MEDIA / "plate.exr", exr)
        res = cli("sign", exr, "--disclosure", PLATE, *flags, "--format", "json", "--home", ws.home)
        assert res.code == 0, res.stderr
        assert res.json()["thumbnail"] is expected
        assert not any("thumbnail" in w for w in res.json()["warnings"])


def test_progress_on_a_terminal_shows_files_and_bytes(ws: Workspace, tmp_path: Path) -> None:
    """On a terminal (a real pty), signing a large file shows a bar with files and bytes; piped, nothing."""
    [big] = _sparse(tmp_path, ["master.exr"], 1 << 30)
    cmd = [*CLI_COMMAND, "sign", str(big), "--disclosure", str(PLATE), "--home", str(ws.home)]
    run = run_on_terminal(cmd)
    assert run.code == 0
    text = run.terminal
    assert "signing" in text and "of 1 files" in text and "of 1.1 GB" in text, text[-2000:]
    assert sidecar(big).is_file()


@needs_ffmpeg()
def test_a_folder_signs_its_image_sequences_as_sequences(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    """An EXR sequence found in a folder gets its signed record of frames, so a deleted frame is caught later."""
    from test_sequences import NAME, make_frames

    shots = tmp_path / "EP101"
    make_frames(shots / "SH010", "exr")
    frames(shots, ["SH020/bg.exr"])
    res = cli("sign", shots, "--disclosure", PLATE, "--format", "json", "--home", ws.home)
    assert res.code == 0, res.stdout + res.stderr
    doc = res.json()
    validate("sign-batch-report", doc, "sign FOLDER --format json")
    signed = {Path(f["input"]).name for f in doc["files"] if f["status"] == "signed"}
    assert signed == {f"{NAME}.[1001-1006].exr", "bg.exr"}
    assert all(sidecar(p).is_file() for p in (shots / "SH010").glob("*.exr"))
    verified = cli("verify", shots, "--format", "json", "--home", ws.home)
    assert verified.code == 0, verified.stdout
    sequence = next(a for a in verified.json()["assets"] if a.get("sequence"))
    assert sequence["sequence"]["count"] == 6 and sequence["status"] == "trusted"
    for path in (shots / "SH010").glob(f"{NAME}.1004.exr*"):
        path.unlink()
    broken = cli("verify", shots, "--format", "json", "--home", ws.home)
    assert broken.code == 1 and f"{NAME}.1004.exr" in broken.stdout
    again = cli("sign", shots, "--disclosure", PLATE, "--format", "json", "--home", ws.home).json()
    assert again["summary"]["signed"] == 0, "signed frames are not signed again one by one"
    # A run killed half way through a sequence leaves some frames with sidecars: not "skipped" as if done.
    for path in (shots / "SH010").glob(f"{NAME}.1002.exr.c2pa"):
        path.unlink()
    partial = cli("sign", shots, "--disclosure", PLATE, "--format", "json", "--home", ws.home)
    assert partial.code == 2 and "4 of 5 frames already have sidecars" in partial.stdout, partial.stdout


@needs_ffmpeg()
def test_a_sequence_is_signed_across_workers_whole_or_not_at_all(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    """Frames of one sequence are signed by several workers; one bad frame leaves no sidecar on any frame."""
    from test_sequences import NAME, make_frames

    good = make_frames(tmp_path / "good" / "SH010", "exr")
    res = cli("sign", good.parent, "--disclosure", PLATE, "--workers", 2, "--format", "json", "--home", ws.home)
    assert res.code == 0, res.stdout + res.stderr
    assert sorted(p.name for p in good.glob("*.c2pa")) == [f"{NAME}.{n}.exr.c2pa" for n in range(1001, 1007)]
    verified = cli("verify", good.parent, "--format", "json", "--home", ws.home)
    assert verified.code == 0 and verified.json()["assets"][0]["sequence"]["count"] == 6

    bad = make_frames(tmp_path / "bad" / "SH010", "exr")
    (bad / f"{NAME}.1004.exr").write_bytes((MEDIA / "plate.png").read_bytes())  # not an EXR: refused
    res = cli("sign", bad.parent, "--disclosure", PLATE, "--workers", 2, "--format", "json", "--home", ws.home)
    assert res.code == 2, res.stdout + res.stderr
    [item] = res.json()["files"]
    assert item["status"] == "error" and f"{NAME}.1004.exr" in item["error"]
    assert list(bad.glob("*.c2pa")) == [], "no frame keeps a sidecar when one frame could not be signed"
    assert leftovers(bad) == []
