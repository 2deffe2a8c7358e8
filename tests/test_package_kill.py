"""A packaging run killed with SIGKILL at any moment leaves no partial package and no change to the source.

The real console script packages 300 signed stills with two workers; the test watches the run
(its worker processes, the hidden staging folder beside the target, the bag files appearing in
it) and kills it at a chosen moment. The watchdog process started with the staging folder must
then remove it, and the worker processes must go away.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CLI_COMMAND, DISCLOSURES, MEDIA

from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.gate.package import STAGING_MARK
from genai_provenance.workspace import init_workspace

COPIES = 300
SETTLE = 30.0  # seconds allowed for the watchdog and the workers to notice; a deadline, not a measurement


def tree(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel] = (
            "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest() + f":{path.stat().st_mtime_ns}"
        )
    return out


def descendants(pid: int) -> set[int]:
    """Live processes below `pid` (workers, watchdog), from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Deliverable:
    home: Path
    source: Path
    before: dict[str, str]


@pytest.fixture(scope="module")
def deliverable(tmp_path_factory: pytest.TempPathFactory) -> Deliverable:
    base = tmp_path_factory.mktemp("kill")
    ws = init_workspace(base / "ws", "Kill Test Post House").workspace
    signed = base / "signed.jpg"
    trust = TrustSettings(ws.trust_anchors())
    sign_asset(SignRequest(MEDIA / "plate.jpg", signed, DISCLOSURES / "plate.json", ws.identity(), trust))
    source = base / "deliverable"
    for i in range(COPIES):
        folder = source / f"EP10{i % 3}" / f"SH{i % 10:03d}0"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(signed, folder / f"frame_{i:04d}.jpg")
    return Deliverable(ws.home, source, tree(source))


def staging_dirs(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if STAGING_MARK in p.name]


Moment = Callable[[int, Path], bool]


def checking(pid: int, parent: Path) -> bool:
    """Worker processes are running and nothing has been staged yet."""
    return not staging_dirs(parent) and len(descendants(pid)) >= 2


def staging_created(pid: int, parent: Path) -> bool:
    return bool(staging_dirs(parent))


def payload_copied(pid: int, parent: Path) -> bool:
    return any(sum(1 for _ in (s / "data").rglob("*.jpg")) >= COPIES // 2 for s in staging_dirs(parent) if s.exists())


def bag_written(pid: int, parent: Path) -> bool:
    """The bag and the signed report are written; the staged package is being re-verified."""
    return any((s / "tagmanifest-sha512.txt").exists() for s in staging_dirs(parent))


MOMENTS: dict[str, Moment] = {
    "while checking": checking,
    "staging folder just created": staging_created,
    "while copying the payload": payload_copied,
    "while re-verifying the staged bag": bag_written,
}


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SETTLE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.05)


def old_package(target: Path) -> dict[str, str]:
    """A small existing package at `target` (as --force would find it)."""
    (target / "data").mkdir(parents=True)
    (target / "bagit.txt").write_text("BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8")
    (target / "data" / "old.txt").write_text("the previous delivery\n", encoding="utf-8")
    return tree(target)


@pytest.mark.parametrize(
    ("moment", "force"), [(m, False) for m in MOMENTS] + [("while re-verifying the staged bag", True)]
)
def test_killed_run_leaves_nothing_behind(moment: str, force: bool, deliverable: Deliverable, tmp_path: Path) -> None:
    parent = tmp_path / "out"
    parent.mkdir()
    target = parent / "EP101_final"
    previous = old_package(target) if force else None
    reached = MOMENTS[moment]
    command = [*CLI_COMMAND, "package", str(deliverable.source), "-o", str(target), "--workers", "2"]
    command += ["--home", str(deliverable.home)] + (["--force"] if force else [])
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    helpers: set[int] = set()
    try:
        while proc.poll() is None and not reached(proc.pid, parent):
            time.sleep(0.01)
        assert proc.poll() is None, f"the run ended before the moment '{moment}' was reached"
        helpers = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        wait_for(lambda: not staging_dirs(parent), "the watchdog did not remove the staging folder")
        wait_for(lambda: not any(alive(p) for p in helpers), "worker or watchdog processes outlived the run")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in helpers:  # only the processes this run started, and only if they hung on
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.stderr:
            proc.stderr.close()
    if previous is None:
        assert not target.exists(), "no partial package"
        assert list(parent.iterdir()) == [], "nothing at all left beside the target"
    else:
        assert tree(target) == previous, "the package that --force would have replaced is intact"
        assert os.listdir(parent) == [target.name]
    assert tree(deliverable.source) == deliverable.before, "the source folder is unchanged"


# Enter the real staging context, make the first rename of --force (or both), then die by SIGKILL.
_DIE_WHILE_REPLACING = """
import os, signal, sys
from pathlib import Path
from genai_provenance.gate.package import _staging
target, renames = Path(sys.argv[1]), int(sys.argv[2])
with _staging(target) as (staging, previous):
    (staging / "data").mkdir()
    (staging / "bagit.txt").write_text("BagIt-Version: 0.97\\nTag-File-Character-Encoding: UTF-8\\n")
    (staging / "data" / "new.txt").write_text("the new delivery\\n")
    os.replace(target, previous)
    if renames == 2:
        os.replace(staging, target)
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("renames", [1, 2], ids=["between the two renames", "after both renames"])
def test_killed_while_replacing_a_package_loses_nothing(renames: int, tmp_path: Path) -> None:
    """--force parks the old package, renames the new one in, then removes the old: die in between."""
    parent = tmp_path / "out"
    target = parent / "EP101_final"
    old = old_package(target)
    done = subprocess.run(
        [sys.executable, "-c", _DIE_WHILE_REPLACING, str(target), str(renames)], capture_output=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    wait_for(lambda: os.listdir(parent) == [target.name], "the watchdog did not settle the replacement")
    if renames == 1:
        assert tree(target) == old, "the previous package is back in place"
    else:
        assert (target / "data" / "new.txt").read_text(encoding="utf-8") == "the new delivery\n"


def test_a_run_after_the_kills_packages_everything(deliverable: Deliverable, tmp_path: Path) -> None:
    """Nothing the killed runs did gets in the way: the same folder packages."""
    target = tmp_path / "EP101_final"
    home = ["--home", str(deliverable.home)]
    done = subprocess.run(
        [*CLI_COMMAND, "package", str(deliverable.source), "-o", str(target), "--workers", "2", *home],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{COPIES} assets checked: {COPIES} cleared, 0 blocked" in done.stdout
    assert len((target / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines()) == COPIES
    assert os.listdir(tmp_path) == [target.name]
    assert tree(deliverable.source) == deliverable.before
