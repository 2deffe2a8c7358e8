"""Running a batch: a job per file and a job per frame of each sequence, across worker processes.

`sign FOLDER`, `sign --batch` and `sign PATTERN` all go through here. A sequence is signed whole or not at
all: when a frame fails, or on Ctrl-C or SIGTERM, every sidecar of that sequence is removed again.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from types import FrameType
from typing import Any

from genai_provenance.credentials.batch import (
    BatchOptions,
    FrameJob,
    ItemResult,
    ItemStatus,
    Progress,
    Resolved,
    SignerSpec,
    failed_result,
    file_size,
    frame_request,
    init_state,
    init_worker,
    item_size,
    precheck,
    report_bytes,
    sidecar_of,
    sign_frame_job,
    sign_item,
    signed_result,
)
from genai_provenance.credentials.digest import running_total
from genai_provenance.credentials.sequence_pattern import FrameSequence
from genai_provenance.credentials.shotlist import BatchItem
from genai_provenance.credentials.sign_asset import SignResult
from genai_provenance.credentials.sign_sequence import (
    SequencePlan,
    SequenceSignResult,
    plan_sequence,
    sequence_result,
    sign_plan,
)
from genai_provenance.errors import ProvenanceError, SigningError
from genai_provenance.files import pid_alive, sweep_dead_temps
from genai_provenance.safe_text import clip

WORKER_EXIT_WAIT = 30.0  # seconds to wait for stopped workers to exit before sweeping (the next run sweeps too)


def sign_batch(
    items: list[BatchItem],
    spec: SignerSpec,
    options: BatchOptions,
    workers: int = 1,
    progress: Progress | None = None,
    resolved: Resolved | None = None,
) -> list[ItemResult]:
    """Sign every item (in order of `items` in the result), across `workers` processes (`resolved`: the
    caller's spec.resolve(), reused when signing in this process; each worker resolves for itself).

    A sequence is one item but many jobs: its record is built here from every frame, then each frame is
    signed by whichever worker is free; if any frame fails, the sequence's other sidecars are removed.
    """
    if workers <= 1 or (len(items) < 2 and all(i.sequence is None for i in items)):
        return _in_process(items, spec, options, progress, resolved)
    run = _Run(items, options, progress)

    def submit(pool: Any) -> None:
        for index, item in enumerate(items):
            run.submit(pool, index, item)

    run.drive(spec, workers, submit)
    return [run.results[i] for i in range(len(items))]


def sign_pattern(
    plan: SequencePlan,
    disclosure: Path,
    spec: SignerSpec,
    options: BatchOptions,
    workers: int = 1,
    progress: Progress | None = None,
    resolved: Resolved | None = None,
) -> SequenceSignResult:
    """`sign PATTERN`: one planned sequence (sign_sequence.plan_sequence), its frames signed across `workers`
    processes (a job per frame, as a folder's sequence is); all or nothing. Raises the first frame's failure,
    naming the frame."""
    sequence = FrameSequence(plan.pattern, plan.frames)
    item = BatchItem(sequence.path, disclosure, None, "", sequence)
    if workers <= 1 or len(plan.frames) < 2:
        init_state(spec, options, None, resolved)
        report_bytes(running_total(progress.bytes_done) if progress else None)
        return sign_plan(frame_request(item, plan.frames[0][1], None), plan, progress.frames if progress else None)
    run = _Run([item], options, progress)
    run.drive(spec, workers, lambda pool: run.submit_plan(pool, 0, item, plan))
    return run.sequence(0)


class _StopRequests:
    """Ctrl-C and SIGTERM while workers run are noted, and raised as KeyboardInterrupt by the collecting loop
    (`check`). Raised from the signal handler itself, the interrupt could land inside concurrent.futures' wait
    between two of its lock acquisitions; the pool's management thread then waited forever for that lock, and
    so did the shutdown. An ignored signal stays ignored."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopRequests:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                current = signal.getsignal(signum)
                if current not in (signal.SIG_IGN, None):
                    self._previous[signum] = current
                    signal.signal(signum, self._note)
        return self

    def _note(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    def __exit__(self, *_exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


class _Run:
    """The jobs of one parallel batch: a job per file, a job per frame of each sequence."""

    def __init__(self, items: list[BatchItem], options: BatchOptions, progress: Progress | None) -> None:
        self.items, self.options, self.progress = items, options, progress
        self.results: dict[int, ItemResult] = {}
        self.pending: dict[Future[Any], tuple[int, int | None]] = {}  # future -> (item, frame index or None)
        self.frames: dict[int, dict[int, SignResult | Exception]] = {}  # item -> frame index -> outcome
        self.plans: dict[int, SequencePlan] = {}
        self.signed: dict[int, list[SignResult]] = {}  # a sequence signed whole: its frames, in order
        self.failures: dict[int, Exception] = {}  # a sequence not signed: its first frame's failure

    def drive(self, spec: SignerSpec, workers: int, submit: Callable[[Any], None]) -> None:
        """Start the workers, `submit(pool)` the jobs, collect every outcome; on any error or interrupt, remove
        every sidecar of each sequence not signed whole (the pool has finished its running jobs by then)."""
        from genai_provenance.gate.pool import pool_context, worker_pool

        context = pool_context()  # the shared values and the pool share one start method (fork or forkserver)
        counter = context.Value(ctypes.c_longlong, 0)
        pids = context.Array(ctypes.c_int, workers)
        with _StopRequests() as stop:
            try:
                with worker_pool(workers, init_worker, (spec, self.options, counter, pids), context) as pool:
                    submit(pool)
                    while self.pending:
                        stop.check()
                        done, _ = wait(self.pending, timeout=0.2, return_when=FIRST_COMPLETED)
                        stop.check()  # before the outcomes: workers sent the same SIGTERM stop after their file
                        for future in done:
                            self.collect(future)
                        if self.progress:
                            self.progress.bytes_done(counter.value)
            except BaseException:
                _wait_gone([pid for pid in pids[:] if pid])  # the pool cannot tell once its forkserver is gone
                self.remove_unfinished_sequences()
                self.sweep_dead_workers_temps()
                raise

    def submit(self, pool: Any, index: int, item: BatchItem) -> None:
        if item.sequence is None:
            self.pending[pool.submit(sign_item, item)] = (index, None)
            return
        early = precheck(item, self.options)
        if early is None:
            try:
                plan = plan_sequence(item.sequence.pattern, None, self.options.force)
            except (ProvenanceError, OSError) as exc:
                early = failed_result(item, exc, item_size(item))
        if early is not None:
            self._done(index, early)
            return
        self.submit_plan(pool, index, item, plan)

    def submit_plan(self, pool: Any, index: int, item: BatchItem, plan: SequencePlan) -> None:
        """A job per frame of a planned sequence."""
        self.plans[index], self.frames[index] = plan, {}
        for frame in range(len(plan.frames)):
            self.pending[pool.submit(sign_frame_job, FrameJob(item, plan, frame))] = (index, frame)

    def collect(self, future: Future[Any]) -> None:
        index, frame = self.pending.pop(future)
        item = self.items[index]
        if frame is None:
            self._done(index, _outcome(future, item))
            return
        try:
            outcome: SignResult | Exception = future.result()
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a worker that died: this frame is not signed
            path = self.plans[index].frames[frame][1]
            outcome = SigningError(f"{path}: frame not signed (its worker stopped: {exc.__class__.__name__})")
        self.frames[index][frame] = outcome
        if self.progress and self.progress.frames:
            self.progress.frames(1)
        if len(self.frames[index]) == len(self.plans[index].frames):
            self._done(index, self._sequence_result(index))

    def sequence(self, index: int) -> SequenceSignResult:
        """A sequence signed whole, as `sign PATTERN` reports it; else its first frame's failure, raised."""
        if index in self.failures:
            exc = self.failures[index]
            raise exc if isinstance(exc, ProvenanceError) else SigningError(clip(str(exc)))
        return sequence_result(self.plans[index], self.signed[index])

    def _sequence_result(self, index: int) -> ItemResult:
        item, outcomes = self.items[index], self.frames.pop(index)
        ordered = [outcomes[i] for i in sorted(outcomes)]
        failures = [o for o in ordered if isinstance(o, Exception)]
        signed = [o for o in ordered if not isinstance(o, Exception)]
        if not failures:
            self.signed[index] = signed
            return signed_result(item, signed, item_size(item))
        self._remove(index, signed)  # all or nothing
        self.failures[index] = failures[0]
        return failed_result(item, failures[0], item_size(item))

    def _done(self, index: int, result: ItemResult) -> None:
        self.results[index] = result
        if self.progress:
            self.progress.files(1)

    def _remove(self, index: int, results: list[SignResult]) -> None:
        """The sidecars this run wrote for a sequence; without --force none existed when it was planned, so
        every frame's sidecar goes (even one a stopped worker wrote but could not report)."""
        outputs = {r.output for r in results}
        if not self.options.force:
            outputs.update(sidecar_of(path) for _, path in self.plans[index].frames)
        for output in outputs:
            with contextlib.suppress(OSError):
                output.unlink()

    def remove_unfinished_sequences(self) -> None:
        """Ctrl-C or an error mid-run (the pool has finished its running jobs): a sequence is signed whole or
        not at all, so every sidecar of an unfinished one goes, collected or not."""
        unfinished: dict[int, list[SignResult]] = {
            index: [o for o in outcomes.values() if not isinstance(o, Exception)]
            for index, outcomes in self.frames.items()
        }
        for future, (index, frame) in self.pending.items():
            if frame is not None and future.done() and not future.cancelled() and future.exception() is None:
                outcome = future.result()
                if isinstance(outcome, SignResult):
                    unfinished.setdefault(index, []).append(outcome)
        for index, results in unfinished.items():
            self._remove(index, results)

    def sweep_dead_workers_temps(self) -> None:
        """A worker ended mid-write (SIGTERM to the process group also ends the forkserver, and its children
        leave with it: gate/pool._watch_parent) leaves its staged file: remove dead processes' staged files
        beside each output."""
        folders = {i.sequence.pattern.folder if i.sequence is not None else i.input.parent for i in self.items}
        for folder in folders:
            sweep_dead_temps(folder)


def _wait_gone(workers: list[int]) -> None:
    """Until the workers have exited (a bounded wait: the next run sweeps what a late one leaves)."""
    deadline = time.monotonic() + WORKER_EXIT_WAIT
    while any(pid_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.02)


def _outcome(future: Future[ItemResult], item: BatchItem) -> ItemResult:
    try:
        return future.result()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a worker that died (out of memory, killed): this file is not signed
        why = f"{item.input}: not signed ({exc.__class__.__name__}: {clip(str(exc))})"
        return ItemResult(item.input, None, ItemStatus.FAILED, why, item.source, file_size(item.input))


def _in_process(
    items: list[BatchItem],
    spec: SignerSpec,
    options: BatchOptions,
    progress: Progress | None,
    resolved: Resolved | None,
) -> list[ItemResult]:
    init_state(spec, options, None, resolved)
    report_bytes(running_total(progress.bytes_done) if progress else None)
    results = []
    for item in items:
        results.append(sign_item(item))
        if progress:
            progress.files(1)
    return results
