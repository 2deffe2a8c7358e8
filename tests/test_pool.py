"""Local worker processes: forked while the CLI is single-threaded, chunked, in order, and failing closed.

Real console-script processes on real signed, tampered and unsigned stills: `--workers 2` must give the
very report `--workers 1` gives (same assets, same order, same findings), and a worker killed mid-run
must leave no report at all (nothing judged), with a one-line error.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI_COMMAND, DISCLOSURES, ERROR_PREFIX, MEDIA

from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.gate.pool import chunk_size
from genai_provenance.schemas import validate
from genai_provenance.workspace import init_workspace

SETTLE = 60.0  # seconds allowed for the workers to appear; a deadline, not a measurement


def run(*args: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI_COMMAND, *(str(a) for a in args)], capture_output=True, text=True, timeout=300, check=False
    )


def tampered(signed: Path, out: Path) -> Path:
    data = bytearray(signed.read_bytes())
    data[-100] ^= 0xFF  # picture data just before the end of the JPEG: the hard binding no longer matches
    out.write_bytes(bytes(data))
    return out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workspace, and a folder of 60 stills in which trusted, tampered and unsigned ones alternate."""
    base = tmp_path_factory.mktemp("pool")
    ws = init_workspace(base / "ws", "Pool Test Post House").workspace
    signed = base / "plate.jpg"
    sign_asset(
        SignRequest(
            MEDIA / "plate.jpg", signed, DISCLOSURES / "plate.json", ws.identity(), TrustSettings(ws.trust_anchors())
        )
    )
    kinds = [signed, tampered(signed, base / "tampered.jpg"), MEDIA / "plate.jpg"]
    folder = base / "mixed"
    for i in range(60):
        sub = folder / f"reel{i // 20}"
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kinds[i % 3], sub / f"shot_{i:03d}.jpg")
    return ws.home, folder


def test_two_forked_workers_give_the_report_one_process_gives(mixed: tuple[Path, Path]) -> None:
    home, folder = mixed
    docs = {}
    for command in ("verify", "check"):
        for workers in (1, 2):
            res = run(command, folder, "--workers", workers, "--format", "json", "--home", home)
            assert res.returncode == 1, res.stderr  # tampered and unsigned stills fail
            doc = json.loads(res.stdout)
            validate(f"{command}-report", doc, command)
            docs[command, workers] = doc
        assert docs[command, 2] == docs[command, 1]
    statuses = [a["status"] for a in docs["verify", 2]["assets"]]
    assert statuses[:3] == ["trusted", "invalid", "no-credentials"], statuses
    paths = [a["path"] for a in docs["check", 2]["assets"]]
    assert paths == [str(folder / f"reel{i // 20}" / f"shot_{i:03d}.jpg") for i in range(60)]


def test_chunks_are_small_enough_to_share_the_last_ones() -> None:
    assert chunk_size(1000, 2) == 8 and chunk_size(60, 2) == 3 and chunk_size(8, 2) == 1 and chunk_size(2, 64) == 1


def start_method(threads: int) -> str:
    code = (
        "import threading, time\n"
        f"for _ in range({threads}): threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
        "from genai_provenance.gate.pool import pool_context\n"
        "print(pool_context().get_start_method())\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="threads are counted from /proc on Linux")
def test_workers_are_forked_only_from_a_single_threaded_process() -> None:
    assert start_method(0) == "fork"
    assert start_method(1) == "forkserver"  # another thread might hold a lock the child would inherit


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return sorted(found)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="worker processes are found through /proc")
def test_a_killed_worker_leaves_no_report_and_one_line(mixed: tuple[Path, Path], tmp_path: Path) -> None:
    home, folder = mixed
    many = tmp_path / "many"
    for i in range(5):  # 300 stills: the workers are still busy when one is killed
        shutil.copytree(folder, many / f"copy{i}")
    argv = [*CLI_COMMAND, "check", str(many), "--workers", "2", "--format", "json", "--home", str(home)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + SETTLE
        while len(children(proc.pid)) < 2:  # both workers forked (they start before any asset is handed out)
            assert proc.poll() is None and time.monotonic() < deadline, "no worker processes appeared"
            time.sleep(0.02)
        os.kill(children(proc.pid)[-1], signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2 and out == ""
    assert err.startswith(ERROR_PREFIX + "a worker process died") and err.count("\n") == 1, err


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("command", ["verify", "check"])
def test_an_unusable_ledger_is_one_line_however_many_workers(
    mixed: tuple[Path, Path], tmp_path: Path, command: str, workers: str
) -> None:
    """Workers open the ledger themselves. A worker that could not used to print a traceback (per worker) and
    the run ended with 'a worker process died': the cause hidden, the advice wrong."""
    from genai_provenance.workspace import open_workspace

    home, folder = mixed
    copy = tmp_path / "ws"
    shutil.copytree(home, copy)
    ledger = open_workspace(copy).ledger_path
    ledger.write_bytes(b"this is not an SQLite database, but it is long enough to be read as one" * 20)
    done = run(command, folder, "--workers", workers, "--format", "json", "--home", copy)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.count("\n") == 1 and str(ledger) in done.stderr, done.stderr
    assert "not a usable ledger" in done.stderr and "Traceback" not in done.stderr
