"""How many worker processes a folder can run at once without exhausting the machine's memory.

c2pa-rs hashes an asset in chunks of up to 256 MB, double-buffered, so one worker verifying a file
of S bytes peaks near min(S, 512 MB) plus the interpreter and the library (about 100 MB, measured
in bench/). A folder of masters checked with one worker per core could otherwise ask for more
memory than the machine has; the budget lowers the worker count instead, and says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from genai_provenance.errors import InputError
from genai_provenance.safe_text import clip

MiB = 1024 * 1024
HASH_BUFFER_CAP = 512 * MiB  # two 256 MB chunks in flight (c2pa-rs MAX_HASH_BUF, double-buffered)
WORKER_BASE = 100 * MiB  # interpreter, c2pa library, our own state (bench/scale_bench.py)
USABLE_SHARE = 0.8  # leave a fifth of what is available to everything else
_CGROUP = Path("/sys/fs/cgroup")
ENV_MEMORY = "GENAI_PROVENANCE_MEMORY_MB"  # a cap of one's own (a render node shared with renders)


@dataclass(frozen=True)
class WorkerBudget:
    """The worker count to use; `reason` says why it is below the request (None when it is not)."""

    workers: int
    requested: int
    peak_per_worker: int
    available: int | None
    reason: str | None = None


def peak_per_worker(size: int) -> int:
    """Expected peak resident memory, in bytes, of one worker verifying a file of `size` bytes."""
    return WORKER_BASE + min(max(size, 0), HASH_BUFFER_CAP)


def _meminfo_available(meminfo: Path) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom(root: Path) -> int | None:
    """memory.max - memory.current of this process's cgroup (v2), None when unlimited or unknown."""
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        return None


def _own_cap() -> int | None:
    value = os.environ.get(ENV_MEMORY, "").strip()
    if not value:
        return None
    try:
        megabytes = int(value)
    except ValueError:
        raise InputError(f"{ENV_MEMORY}={clip(value)}: not a whole number of megabytes") from None
    if megabytes < 1:
        raise InputError(f"{ENV_MEMORY}={megabytes}: must be at least 1")
    return megabytes * MiB


def available_memory(meminfo: Path = Path("/proc/meminfo"), cgroup: Path = _CGROUP) -> int | None:
    """Bytes this process can still use: the smallest of the system's MemAvailable, its cgroup's headroom
    and $GENAI_PROVENANCE_MEMORY_MB."""
    known = [v for v in (_meminfo_available(meminfo), _cgroup_headroom(cgroup), _own_cap()) if v is not None]
    return min(known) if known else None


def _sizes(paths: Iterable[Path]) -> list[int]:
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            continue  # the check itself reports a file that cannot be read
    return sizes


def worker_budget(paths: Iterable[Path], requested: int, available: int | None = None) -> WorkerBudget:
    """Workers for checking `paths`: at most `requested`, and no more than memory allows for the largest files.

    With `requested` workers each holding one of the largest files at once, the expected peak must
    fit in USABLE_SHARE of the available memory; at least one worker always runs.
    """
    sizes = sorted(_sizes(paths), reverse=True)
    if available is None:
        available = available_memory()
    largest = sizes[: max(1, requested)] or [0]  # at most one file per worker is in flight
    per_worker = peak_per_worker(largest[0])
    if requested <= 1 or available is None:
        return WorkerBudget(max(1, requested), requested, per_worker, available)
    budget = int(available * USABLE_SHARE)
    workers, total = 0, 0
    for size in largest:
        need = peak_per_worker(size)
        if total + need > budget:
            break
        workers, total = workers + 1, total + need
    if workers >= len(largest):  # every file that can be in flight at once fits
        return WorkerBudget(requested, requested, per_worker, available)
    workers = max(1, workers)
    reason = (
        f"{workers} worker(s) instead of {requested}: the largest files need about {per_worker // MiB} MB each "
        f"and {available // MiB} MB of memory is available"
    )
    return WorkerBudget(workers, requested, per_worker, available, reason)
