"""`sign PATTERN --workers N`: one sequence's frames signed across worker processes, all or nothing.

Real EXR frames made by ffmpeg, real signing in real worker processes, real signals to a real process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI_COMMAND, DISCLOSURES, ERROR_PREFIX, MEDIA, CliResult, leftovers, needs_ffmpeg
from test_sequences import NAME, ffmpeg, make_frames

from genai_provenance.schemas import validate
from genai_provenance.workspace import Workspace, init_workspace

Cli = Callable[..., CliResult]
PLATE = DISCLOSURES / "plate.json"

pytestmark = needs_ffmpeg()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("seqpar") / "ws", "Sequence Workers Post").workspace


def sign_json(cli: Cli, ws: Workspace, pattern: Path, *flags: Any) -> CliResult:
    return cli("sign", pattern, "--disclosure", PLATE, *flags, "--format", "json", "--home", ws.home)


def sidecars(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.c2pa"))


def _meaning(doc: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A report with the folder it was made in taken out (two copies of the same frames)."""
    for item in doc["frames"]:
        item["sidecar"] = str(Path(item["sidecar"]).relative_to(folder))
    return doc


def test_pattern_signed_across_workers_verifies_as_one_asset_as_with_one_worker(
    ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    one = make_frames(tmp_path / "one", "exr")
    two = tmp_path / "two"
    shutil.copytree(one, two)
    docs = {}
    for folder, workers in ((one, 1), (two, 2)):
        res = sign_json(cli, ws, folder / f"{NAME}.####.exr", "--workers", workers)
        assert res.code == 0, res.stderr
        validate("sign-sequence-report", res.json(), "sign PATTERN --format json")
        docs[workers] = _meaning(res.json(), folder)
        assert sidecars(folder) == [f"{NAME}.{n}.exr.c2pa" for n in range(1001, 1007)]
        assert leftovers(folder) == []
    assert docs[1] == docs[2], "the same frames signed by one worker or two: the same report"
    assert docs[2]["sequence"]["name"] == f"{NAME}.[1001-1006].exr" and docs[2]["sequence"]["count"] == 6
    assets = {}
    for folder in (one, two):
        verified = cli("verify", folder, "--format", "json", "--home", ws.home)
        assert verified.code == 0, verified.stdout
        [asset] = verified.json()["assets"]
        assert asset["path"] == str(folder / f"{NAME}.[1001-1006].exr") and asset["status"] == "trusted"
        assets[folder] = asset["sequence"]
    assert assets[one] == assets[two] and assets[two]["record"] == docs[2]["sequence"]["record"]
    three = tmp_path / "three"
    shutil.copytree(one, three, ignore=shutil.ignore_patterns("*.c2pa"))
    text = cli("sign", three / f"{NAME}.%04d.exr", "--disclosure", PLATE, "--workers", 2, "--home", ws.home)
    assert text.code == 0 and text.stdout.startswith(f"Signed image sequence {three / NAME}.[1001-1006].exr: 6 frames")


def test_frames_option_and_output_refused_as_before(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    folder = make_frames(tmp_path / "shots", "exr")
    pattern = folder / f"{NAME}.%04d.exr"
    res = sign_json(cli, ws, pattern, "--frames", "1002-1004", "--workers", 2)
    assert res.code == 0, res.stderr
    assert [f["frame"] for f in res.json()["frames"]] == [1002, 1003, 1004]
    assert sidecars(folder) == [f"{NAME}.{n}.exr.c2pa" for n in (1002, 1003, 1004)]
    res = cli("sign", pattern, "-o", tmp_path / "x.c2pa", "--disclosure", PLATE, "--force", "--home", ws.home)
    assert res.code == 2 and "-o/--output does not apply to a sequence" in res.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_a_frame_that_cannot_be_signed_leaves_no_sidecar_on_any_frame(
    workers: int, ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    """The record hashes every frame; the worker signing 1004 refuses it (a PNG named .exr): every other
    frame's sidecar, written by either worker, is removed, and the error names the frame."""
    folder = make_frames(tmp_path / "bad", "exr")
    bad = folder / f"{NAME}.1004.exr"
    bad.write_bytes((MEDIA / "plate.png").read_bytes())
    res = sign_json(cli, ws, folder / f"{NAME}.%04d.exr", "--workers", workers)
    assert res.code == 2, res.stdout + res.stderr
    assert res.error_lines == [res.error_lines[0]] and res.error_lines[0].startswith(ERROR_PREFIX)
    assert str(bad) in res.stderr
    assert sidecars(folder) == [] and leftovers(folder) == []


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_an_unreadable_frame_stops_the_sequence_before_anything_is_written(
    kind: str, ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    folder = make_frames(tmp_path / kind, "exr")
    odd = folder / f"{NAME}.1003.exr"
    odd.unlink()
    if kind == "directory":
        odd.mkdir()
    else:
        os.mkfifo(odd)
    res = sign_json(cli, ws, folder / f"{NAME}.%04d.exr", "--workers", 2)
    assert res.code == 2 and str(odd) in res.stderr, res.stderr
    assert sidecars(folder) == []


def _many_frames(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x180:rate=24", "-frames:v", str(count), "-pix_fmt", "gbrpf32le",
           "-compression", "0", "-start_number", "1001", str(folder / f"{NAME}.%04d.exr"))  # fmt: skip
    return folder


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("sig", "group", "background"),
    [(signal.SIGTERM, True, False), (signal.SIGTERM, False, False), (signal.SIGINT, True, False),
     (signal.SIGTERM, False, True)],
    ids=["sigterm-group", "sigterm-parent", "ctrl-c", "sigterm-background-job"],
)  # fmt: skip
def test_interrupted_pattern_leaves_no_sidecar_on_any_frame(
    sig: signal.Signals, group: bool, background: bool, ws: Workspace, tmp_path: Path
) -> None:
    """Stopped once some frames have their sidecar: the run ends 130 and no frame keeps a sidecar. A background
    job (Ctrl-C ignored) once hung here: its SIGTERM was raised inside concurrent.futures' wait, with a lock
    half-taken, and the pool's shutdown waited for it forever."""
    folder = _many_frames(tmp_path / "shots", 48)
    cmd = [*CLI_COMMAND, "sign", str(folder / f"{NAME}.%04d.exr"), "--disclosure", str(PLATE), "--workers", "2",
           "--home", str(ws.home)]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_ignore_ctrl_c if background else None,
    )
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and not list(folder.glob("*.c2pa")) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "signing finished before it could be interrupted"
        if group:
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert err.decode().splitlines() == [f"{ERROR_PREFIX}interrupted; nothing partial was left behind"]
    assert sidecars(folder) == [], "a sequence is signed whole or not at all"
    assert leftovers(folder) == []


def test_a_zombie_is_not_a_running_writer(tmp_path: Path) -> None:
    """A worker that died mid-write but was not reaped (its forkserver died first) still has a pid: its staged
    file is swept all the same."""
    from genai_provenance.files import pid_alive, sweep_dead_temps, temp_name

    child = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 60
        while Path(f"/proc/{child.pid}/stat").read_text().split(") ")[-1][0] != "Z":  # exited, not reaped
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not pid_alive(child.pid)
        staged = tmp_path / temp_name("a.exr.c2pa").replace(f"-{os.getpid()}-", f"-{child.pid}-")
        staged.write_bytes(b"half")
        assert sweep_dead_temps(tmp_path) == [staged] and not staged.exists()
    finally:
        child.wait()
    assert pid_alive(os.getpid())
