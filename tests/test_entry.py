"""The console script's quick exit (cli/entry.py): exit handlers run, output is whole, codes are sys.exit's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROLOGUE = """
import atexit, sys, threading, time
from genai_provenance.cli.entry import leave
atexit.register(lambda: print("exit handler ran", file=sys.stderr))
sys.stdout.write("x" * 100_000)  # still in the buffer when leave() is called
"""


def _run(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROLOGUE + body], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(("code", "status"), [("None", 0), ("0", 0), ("1", 1), ("2", 2), ("'a message'", 1)])
def test_leave_exits_as_sys_exit_would_with_handlers_run_and_output_flushed(code: str, status: int) -> None:
    done = _run(f"leave({code})")
    assert done.returncode == status
    assert done.stdout == "x" * 100_000
    assert "exit handler ran" in done.stderr
    if code.startswith("'"):
        assert "a message" in done.stderr


def test_leave_waits_for_a_running_thread_as_normal_shutdown_does() -> None:
    done = _run(
        "def late():\n"
        "    time.sleep(0.5)\n"
        "    print('thread finished', file=sys.stderr)\n"
        "threading.Thread(target=late).start()\n"
        "leave(1)\n"
    )
    assert done.returncode == 1
    assert "thread finished" in done.stderr


def test_leave_skips_the_interpreter_teardown() -> None:
    """What makes it quick: objects still alive at exit are not freed one by one (their __del__ never runs)."""
    body = (
        "class Noisy:\n    def __del__(self):\n        print('torn down', file=sys.stderr)\nkept = Noisy()\nleave(0)\n"
    )
    done = _run(body)
    assert done.returncode == 0
    assert "torn down" not in done.stderr
    normal = _run(body.replace("leave(0)", "sys.exit(0)"))
    assert "torn down" in normal.stderr  # the same program, exiting the normal way, does tear down


def test_a_ledger_left_open_is_closed_at_exit_so_sqlite_folds_its_log_back(tmp_path: Path) -> None:
    """Without the teardown, an open SQLite ledger would leave its write-ahead log beside the file; a later
    cut of the ledger file would then be read through that log instead of failing (test_ledger_tamper)."""
    db = tmp_path / "ledger.sqlite"
    body = (
        "from pathlib import Path\n"
        "from genai_provenance.clearances.ledger_store import LedgerLocation, open_store\n"
        f"store = open_store(LedgerLocation.sqlite(Path({str(db)!r})))\n"
        "with store.write():\n"
        "    store.run('CREATE TABLE extra (x INTEGER)')\n"
        "leave(0)\n"
    )
    done = _run(body)
    assert done.returncode == 0, done.stderr
    assert db.exists()
    assert not Path(f"{db}-wal").exists(), "the write-ahead log was left behind"
