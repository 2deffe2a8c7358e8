"""Worker processes that check assets in parallel: each builds its own CheckSettings from a CheckConfig."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from genai_provenance.credentials import warmup
from genai_provenance.errors import ProvenanceError, WorkerDiedError
from genai_provenance.gate.check import (
    AssetVerdict,
    CheckConfig,
    CheckSettings,
    ClearanceSource,
    check_clearances,
    verdict_for,
)
from genai_provenance.gate.discovery import Target
from genai_provenance.gate.sequences import verify_target
from genai_provenance.model.provenance import CheckedAsset

if TYPE_CHECKING:  # concurrent.futures is imported when a pool starts: one file is checked in-process
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")


class _Worker:
    """What one worker (or the caller, for one file) checks with: the c2pa context and clearance source at
    once; the policy only when a `check` job first needs it (`verify` judges nothing by it)."""

    def __init__(self, config: CheckConfig) -> None:
        self.config = config
        self.context = config.media_trust().context()
        self.clearances: ClearanceSource = config.clearance_source()
        self._settings: CheckSettings | None = None

    def settings(self) -> CheckSettings:
        if self._settings is None:
            self._settings = self.config.build(self.clearances)
        return self._settings


_WORKER: _Worker | None = None
_INIT_ERROR: ProvenanceError | None = None
MAX_WORKERS = 64


def default_workers() -> int:
    """The cores this process may use (its CPU affinity where the OS has one), at most MAX_WORKERS."""
    count_fn = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if count_fn is not None:
        count = count_fn()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count()
    return max(1, min(MAX_WORKERS, count or 1))


def _init_worker(config: CheckConfig) -> None:
    global _WORKER
    _WORKER = _Worker(config)


def _exit_with_parent(sentinel: int) -> None:
    import multiprocessing.connection

    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _watch_parent() -> None:
    """Leave as soon as the parent dies, even by SIGKILL.

    Spawned ProcessPoolExecutor workers hold both ends of their queues, so on their own they
    would wait forever (with the ledger open) after the parent is killed.
    """
    import threading

    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        threading.Thread(target=_exit_with_parent, args=(parent.sentinel,), daemon=True).start()


def _init_pool_worker(config: CheckConfig) -> None:
    """A worker that cannot open what checking needs (an unusable ledger or revocation list) raises that error
    for each job it is given, so the caller reports it in one line; raised here, the pool would print a
    traceback per worker and report only that a worker died."""
    global _INIT_ERROR
    _watch_parent()
    try:
        _init_worker(config)
    except ProvenanceError as exc:
        _INIT_ERROR = exc


def _ready_worker() -> _Worker:
    if _INIT_ERROR is not None:
        raise _INIT_ERROR
    assert _WORKER is not None, "worker not initialised"
    return _WORKER


def _init_any_worker(initializer: Callable[..., None], args: tuple[Any, ...]) -> None:
    _watch_parent()
    initializer(*args)


@contextlib.contextmanager
def worker_pool(
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    context: multiprocessing.context.BaseContext | None = None,
) -> Iterator[ProcessPoolExecutor]:
    """Worker processes for any job (started as check_pool's are, leaving with their parent); on an error or
    Ctrl-C in the caller, jobs not yet started are cancelled and the running ones waited for.

    `context`: the pool_context() that made any lock or shared value in `initargs` (a fork one cannot be handed
    to a forkserver worker)."""
    pool = _executor(workers, _init_any_worker, (initializer, initargs), context)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _check_in_worker(item: tuple[Target, str | None]) -> AssetVerdict:
    worker = _ready_worker()
    settings = worker.settings()
    target, display = item
    found = verify_target(target, worker.context, settings.trust, display)
    return verdict_for(found.report, Path(found.report.path), settings, found.content_hash)


def _verify_in_worker(target: Target) -> CheckedAsset:
    """`verify` of one file or sequence: its credentials as read with the caller's own trust settings, and its
    clearances."""
    worker = _ready_worker()
    found = verify_target(target, worker.context, worker.config.media_trust())  # verify judges nothing by policy
    report = found.report
    return CheckedAsset(report, check_clearances(report, Path(report.path), worker.clearances, found.content_hash))


def pool_context() -> multiprocessing.context.BaseContext:
    """fork while this process runs a single thread: workers start in milliseconds with every module already
    imported, and no lock half-held by another thread (c2pa's, rich's) is copied. Otherwise forkserver with
    this module preloaded (a fresh interpreter once, then ~30 ms a worker), else spawn."""
    warmup.settle()  # a file checked in-process may have started it: let it finish rather than fall back
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and _single_threaded():
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _single_threaded() -> bool:
    """Does this process run one thread, native ones included? (False where the OS cannot say.)"""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _executor(
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    context: multiprocessing.context.BaseContext | None = None,
) -> ProcessPoolExecutor:
    """A pool whose forked workers start now, while this process still runs a single thread (a ProcessPoolExecutor
    forks them at its first job, by when a progress bar's thread may be running)."""
    from concurrent.futures import ProcessPoolExecutor

    context = context or pool_context()
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs)
    if context.get_start_method() == "fork":
        pool.submit(os.getpid)
    return pool


@contextlib.contextmanager
def check_pool(config: CheckConfig, workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for check_many, reusable across several batches (None: in-process)."""
    if workers <= 1:
        yield None
        return
    with _executor(workers, _init_pool_worker, (config,)) as pool:
        yield pool


def check_many(
    items: list[tuple[Target, str | None]],
    config: CheckConfig,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[AssetVerdict]:
    """Check (file or sequence, display name or None for the default) pairs, in order, across `workers` processes.

    `pool` (from check_pool with the same config) is used when given, so a caller with several
    batches pays for starting workers once.
    """
    return _run(_check_in_worker, list(items), config, workers, progress, pool)


def verify_many(
    targets: list[Target],
    config: CheckConfig,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[CheckedAsset]:
    """`verify` of many files and sequences, in order, across `workers` processes (same results as one)."""
    return _run(_verify_in_worker, list(targets), config, workers, progress, pool)


def _run(
    fn: Callable[[Any], T],
    jobs: list[Any],
    config: CheckConfig,
    workers: int,
    progress: Callable[[int], None] | None,
    pool: ProcessPoolExecutor | None,
) -> list[T]:
    results: list[T] = []
    if (pool is None and workers <= 1) or len(jobs) < 2:
        _init_worker(config)
        for job in jobs:
            results.append(fn(job))
            if progress:
                progress(1)
        return results
    from concurrent.futures.process import BrokenProcessPool

    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(check_pool(config, workers))
        assert pool is not None
        try:
            for result in pool.map(fn, jobs, chunksize=chunk_size(len(jobs), workers)):
                results.append(result)
                if progress:
                    progress(1)
        except BrokenProcessPool as exc:  # fail closed: no asset of this run is judged
            raise WorkerDiedError(
                "a worker process died (killed, or out of memory) while checking: nothing was judged; "
                "run again, or with fewer --workers"
            ) from exc
    return results


def chunk_size(jobs: int, workers: int) -> int:
    """Assets handed to a worker at a time: few enough that no worker idles long at the end (at most 8 stills,
    ~40 ms), enough that 1,000 stills are ~125 round trips, not 1,000."""
    return max(1, min(8, jobs // (workers * 8)))


class LocalPool:
    """The AssetExecutor of this machine: `workers` processes (gate/executor.py)."""

    def __init__(
        self, config: CheckConfig, workers: int, pool: ProcessPoolExecutor | None = None, note: str | None = None
    ) -> None:
        self.config, self.workers, self.pool, self.note = config, workers, pool, note

    def check(
        self, items: list[tuple[Target, str | None]], progress: Callable[[int], None] | None = None
    ) -> list[AssetVerdict]:
        return check_many(items, self.config, self.workers, progress, self.pool)

    def verify(self, targets: list[Target], progress: Callable[[int], None] | None = None) -> list[CheckedAsset]:
        return verify_many(targets, self.config, self.workers, progress, self.pool)
