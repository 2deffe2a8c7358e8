"""Worker counts sized by memory: a folder of masters must not ask for more memory than the machine has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genai_provenance.gate.memory_budget import MiB, available_memory, peak_per_worker, worker_budget

GB = 1024 * MiB


def _sparse(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    with path.open("wb") as f:
        f.truncate(size)
    return path


def test_peak_grows_with_size_up_to_the_hash_buffer_then_stays_flat() -> None:
    assert peak_per_worker(10 * MiB) < peak_per_worker(300 * MiB) < peak_per_worker(GB)
    assert peak_per_worker(GB) == peak_per_worker(4 * GB) == peak_per_worker(300 * GB)


def test_stills_keep_every_requested_worker(tmp_path: Path) -> None:
    stills = [_sparse(tmp_path, f"s{i}.jpg", 2 * MiB) for i in range(50)]
    budget = worker_budget(stills, 8, available=4 * GB)
    assert budget.workers == 8 and budget.reason is None


def test_masters_on_a_small_machine_get_fewer_workers_and_a_reason(tmp_path: Path) -> None:
    masters = [_sparse(tmp_path, f"m{i}.mov", 300 * GB) for i in range(8)]
    budget = worker_budget(masters, 8, available=2 * GB)
    # 612 MB each, 80 % of 2 GB = 1638 MB: two fit, not three.
    assert budget.workers == 2
    assert budget.reason is not None and "2 worker(s) instead of 8" in budget.reason


def test_at_least_one_worker_even_when_memory_is_short(tmp_path: Path) -> None:
    masters = [_sparse(tmp_path, f"m{i}.mxf", 10 * GB) for i in range(4)]
    assert worker_budget(masters, 4, available=100 * MiB).workers == 1


def test_one_huge_file_among_stills_counts_once(tmp_path: Path) -> None:
    files = [_sparse(tmp_path, "master.mov", 50 * GB)] + [_sparse(tmp_path, f"s{i}.jpg", MiB) for i in range(20)]
    # the master (612 MB) and three stills (~101 MB each) fit in 80 % of 1.25 GB
    assert worker_budget(files, 4, available=1280 * MiB).workers == 4


def test_unreadable_paths_are_left_to_the_check(tmp_path: Path) -> None:
    assert worker_budget([tmp_path / "missing.mov"], 3, available=GB).workers == 3


def test_available_memory_takes_the_smaller_of_system_and_cgroup(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text("3000000000\n")
    (cgroup / "memory.current").write_text("1000000000\n")
    assert available_memory(meminfo, cgroup) == 2_000_000_000
    (cgroup / "memory.max").write_text("max\n")
    assert available_memory(meminfo, cgroup) == 8_000_000 * 1024


def test_this_machine_reports_its_available_memory() -> None:
    if not Path("/proc/meminfo").exists():
        pytest.skip(reason="no /proc/meminfo on this system: the budget then keeps the requested workers")
    available = available_memory()
    assert available is not None and 0 < available <= _meminfo_total()


def _meminfo_total() -> int:
    line = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal:"))
    return int(line.split()[1]) * 1024


def test_verify_and_check_use_fewer_workers_for_large_files_and_say_why(tmp_path: Path, cli_process: Any) -> None:
    """End to end: four 1 GB masters (sparse) with 1.5 GB to spend run on two workers, and stderr says so."""
    folder = tmp_path / "masters"
    folder.mkdir()
    for name in "abcd":
        _sparse(folder, f"master_{name}.exr", GB)
    env = {"GENAI_PROVENANCE_MEMORY_MB": "1536"}
    for command in ("verify", "check"):
        res = cli_process(command, folder, "--workers", 4, "--format", "json", env=env)
        assert res.code == 1, res.stderr  # unsigned masters
        assert "note: 2 worker(s) instead of 4" in res.stderr, res.stderr
        assert len(res.json()["assets"]) == 4
    roomy = cli_process(
        "verify", folder, "--workers", 4, "--format", "json", env={"GENAI_PROVENANCE_MEMORY_MB": "8192"}
    )
    assert "note:" not in roomy.stderr


def test_a_bad_memory_cap_is_one_line(tmp_path: Path, cli_process: Any) -> None:
    _sparse(tmp_path, "master.exr", MiB)
    res = cli_process("verify", tmp_path, "--workers", 2, env={"GENAI_PROVENANCE_MEMORY_MB": "lots"})
    assert res.code == 2 and "GENAI_PROVENANCE_MEMORY_MB=lots: not a whole number" in res.stderr
