"""Batch signing at export: a folder or a shot list, a sidecar per file, in worker processes.

One failing file does not stop the others; each result says what happened. Every sidecar is
written as a single sign writes it (staged, verified, renamed), so a killed batch leaves none half-made.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Any

from genai_provenance.clearances.ledger import Ledger
from genai_provenance.credentials.hsm import TokenKey
from genai_provenance.credentials.identity import SigningIdentity
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sequence_pattern import FrameSequence
from genai_provenance.credentials.shotlist import BatchItem
from genai_provenance.credentials.sign_asset import SignRequest, SignResult, sign_asset
from genai_provenance.credentials.sign_sequence import SequencePlan, plan_sequence, sign_frame, sign_sequence
from genai_provenance.credentials.title_template import check_template
from genai_provenance.documents import read_document
from genai_provenance.errors import InputError, ProvenanceError
from genai_provenance.gate.discovery import SIDECAR_SUFFIX, discover_paths
from genai_provenance.profile import OcspProfile
from genai_provenance.safe_text import clip


class ItemStatus(StrEnum):
    SIGNED = "signed"
    FAILED = "failed"  # signing or the read-back verification failed (exit 1)
    ERROR = "error"  # an input problem with this file or its disclosure (exit 2)
    SKIPPED = "skipped"  # nothing to do: its sidecar exists (no --force), or not a media file


@dataclass(frozen=True)
class SignerSpec:
    """How each worker finds its signer, trust and ledger (the flags, resolved once per process)."""

    home: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    tsa_url: str | None = None
    token: TokenKey | None = None
    trust: Path | None = None
    ledger: str | None = None  # --ledger
    config: Path | None = None  # --config (the signing profile: signer, TSA, OCSP, organisation identity)

    def resolve(self) -> tuple[SigningIdentity, TrustSettings, Ledger | None, OcspProfile]:
        from genai_provenance.settings import (
            ocsp_profile,
            open_ledger,
            resolve_signer,
            resolve_trust,
            use_config,
            use_ledger,
        )

        use_ledger(self.ledger)
        use_config(self.config)
        identity = resolve_signer(self.cert, self.key, self.home, self.tsa_url, self.token)
        return identity, resolve_trust(self.trust, self.home), open_ledger(self.home), ocsp_profile(self.home)


@dataclass(frozen=True)
class BatchOptions:
    force: bool = False
    record_broken_history: bool = False
    title: str | None = None  # --title: a template for every file (a shot list's title column wins)
    thumbnail: bool = True


@dataclass(frozen=True)
class ItemResult:
    input: Path
    output: Path | None
    status: ItemStatus
    error: str | None = None
    source: str = ""
    size: int = 0
    asset_status: str | None = None  # how the written sidecar verified (trusted, valid-untrusted)
    warnings: tuple[str, ...] = ()


@dataclass
class BatchResult:
    items: list[ItemResult] = field(default_factory=list)

    def count(self, status: ItemStatus) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def exit_code(self) -> int:
        """0 all signed (or skipped), 1 a file failed signing or verification, 2 only input errors."""
        if self.count(ItemStatus.FAILED):
            return 1
        return 2 if self.count(ItemStatus.ERROR) else 0


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def folder_items(
    folder: Path, disclosure: Path, *, default_ignores: bool = True
) -> tuple[list[BatchItem], list[ItemResult]]:
    """Every media file and image sequence under `folder` (verify's discovery rule), and the files skipped.

    Numbered frames that discovery groups into a sequence (unsigned EXR, DPX, ...) are signed as one
    sequence, with its signed record of frames, as `sign 'name.%04d.exr'` would sign them.
    """
    found = discover_paths([folder], default_ignores=default_ignores)
    items = [
        BatchItem(t.path, disclosure, None, str(folder), t) if isinstance(t, FrameSequence)
        else BatchItem(t, disclosure, None, str(folder))
        for t in found.targets()
    ]  # fmt: skip
    skipped = [ItemResult(Path(s.path), None, ItemStatus.SKIPPED, s.reason, str(folder)) for s in found.skipped]
    return items, skipped


def check_titles(items: list[BatchItem], options: BatchOptions) -> None:
    """Refuse an unknown placeholder before anything is signed: --title, and each disclosure's asset.title."""
    if options.title is not None:
        check_template(options.title, "--title")
    for disclosure in dict.fromkeys(i.disclosure for i in items if i.title is None and options.title is None):
        document = read_document(disclosure)
        asset = document.get("asset") if isinstance(document, dict) else None
        title = asset.get("title") if isinstance(asset, dict) else None
        if isinstance(title, str):
            check_template(title, f"{disclosure}: asset.title")


# --------------------------------------------------------------------------- one file, in a worker or not

_STATE: dict[str, Any] = {}


def _init(spec: SignerSpec, options: BatchOptions, counter: Any) -> None:
    identity, trust, ledger, ocsp = spec.resolve()
    on_bytes = _add_bytes if counter is not None else None
    _STATE.update(
        identity=identity,
        trust=trust,
        ledger=ledger,
        ocsp=ocsp,
        options=options,
        counter=counter,
        on_bytes=on_bytes,
        busy=False,
    )


def _init_worker(spec: SignerSpec, options: BatchOptions, counter: Any) -> None:
    """A worker ignores Ctrl-C between files; during one, it stops that file (its staged output is removed)."""
    signal.signal(signal.SIGINT, _on_sigint)
    _init(spec, options, counter)


def _on_sigint(_signum: int, _frame: FrameType | None) -> None:
    if _STATE.get("busy"):
        raise KeyboardInterrupt


def _add_bytes(count: int) -> None:
    counter = _STATE["counter"]
    with counter.get_lock():
        counter.value += count


def _precheck(item: BatchItem, options: BatchOptions) -> ItemResult | None:
    """An item's result without signing: skipped (every sidecar exists), or half signed (an input error)."""
    frames = [p for _, p in item.sequence.frames] if item.sequence is not None else [item.input]
    existing = [p for p in frames if sidecar_of(p).exists() or sidecar_of(p).is_symlink()]
    if not existing or options.force:
        return None
    size = item_size(item)
    if len(existing) < len(frames):  # a sequence signed in part (a killed run): resuming would leave it so
        why = (
            f"{item.input}: {len(existing)} of {len(frames)} frames already have sidecars (an interrupted run?); "
            "sign it again with --force"
        )
        return ItemResult(item.input, None, ItemStatus.ERROR, why, item.source, size)
    why = "sidecar exists (--force replaces it)"
    return ItemResult(item.input, sidecar_of(frames[0]), ItemStatus.SKIPPED, why, item.source, size)


def _request(item: BatchItem, first: Path, output: Path | None) -> SignRequest:
    options: BatchOptions = _STATE["options"]
    return SignRequest(
        first,
        output,
        item.disclosure,
        _STATE["identity"],
        _STATE["trust"],
        force=options.force,
        ledger=_STATE["ledger"],
        record_broken_history=options.record_broken_history,
        sidecar=True,
        templated=True,
        title=item.title if item.title is not None else options.title,
        progress=_STATE["on_bytes"],
        thumbnail=options.thumbnail,
        ocsp=_STATE["ocsp"],
    )


def _failed(item: BatchItem, exc: Exception, size: int) -> ItemResult:
    """Every error becomes the item's result: an input error (exit 2) or a failure (exit 1), and why."""
    if isinstance(exc, ProvenanceError):
        status = ItemStatus.FAILED if exc.exit_code == 1 else ItemStatus.ERROR
        return ItemResult(item.input, None, status, str(exc), item.source, size)
    return ItemResult(item.input, None, ItemStatus.FAILED, f"{item.input}: {clip(str(exc))}", item.source, size)


def _signed(item: BatchItem, results: list[SignResult], size: int) -> ItemResult:
    statuses = ", ".join(sorted({str(r.report.status) for r in results}))
    warnings = tuple(dict.fromkeys(w for r in results for w in r.warnings))
    return ItemResult(item.input, results[0].output, ItemStatus.SIGNED, None, item.source, size, statuses, warnings)


def sign_item(item: BatchItem) -> ItemResult:
    """Sign one file's sidecar (or every frame of a sequence, in order); every error becomes this item's result
    (Ctrl-C excepted)."""
    options: BatchOptions = _STATE["options"]
    early = _precheck(item, options)
    if early is not None:
        return early
    size = item_size(item)
    first = item.sequence.frames[0][1] if item.sequence is not None else item.input
    request = _request(item, first, None if item.sequence is not None else sidecar_of(first))
    _STATE["busy"] = True
    try:
        if item.sequence is not None:  # the frames on disk, which must be contiguous (a gap: an input error)
            results = sign_sequence(request, item.sequence.pattern).frames
        else:
            results = [sign_asset(request)]
    except (ProvenanceError, OSError, ValueError, RuntimeError) as exc:  # fail closed: not signed, and why
        return _failed(item, exc, size)
    finally:
        _STATE["busy"] = False
    return _signed(item, results, size)


@dataclass(frozen=True)
class FrameJob:
    """One frame of a sequence, signed in a worker against the record the caller built from every frame."""

    item: BatchItem
    plan: SequencePlan
    index: int


def sign_frame_job(job: FrameJob) -> SignResult | Exception:
    """A frame's sidecar, or why it has none (the caller then removes the sequence's other sidecars)."""
    first = job.plan.frames[0][1]
    _STATE["busy"] = True
    try:
        return sign_frame(_request(job.item, first, None), job.plan, job.index)
    except (ProvenanceError, OSError, ValueError, RuntimeError) as exc:
        return exc if isinstance(exc, ProvenanceError) else RuntimeError(clip(str(exc)))
    finally:
        _STATE["busy"] = False


def item_size(item: BatchItem) -> int:
    """Bytes to hash for an item: a file's size, or all its sequence's frames."""
    if item.sequence is not None:
        return sum(file_size(p) for _, p in item.sequence.frames)
    return file_size(item.input)


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# --------------------------------------------------------------------------- the batch


@dataclass(frozen=True)
class Progress:
    """What the caller shows: files done of total, bytes hashed of total."""

    files: Callable[[int], None]
    bytes_done: Callable[[int], None]  # the running total of bytes hashed


def sign_batch(
    items: list[BatchItem],
    spec: SignerSpec,
    options: BatchOptions,
    workers: int = 1,
    progress: Progress | None = None,
) -> list[ItemResult]:
    """Sign every item (in order of `items` in the result), across `workers` processes.

    A sequence is one item but many jobs: its record is built here from every frame, then each frame is
    signed by whichever worker is free; if any frame fails, the sequence's other sidecars are removed.
    """
    if workers <= 1 or (len(items) < 2 and all(i.sequence is None for i in items)):
        return _in_process(items, spec, options, progress)
    from genai_provenance.gate.pool import pool_context, worker_pool

    context = pool_context()
    counter = context.Value(ctypes.c_longlong, 0)
    run = _Run(items, progress)
    try:
        with worker_pool(workers, _init_worker, (spec, options, counter), context) as pool:
            for index, item in enumerate(items):
                run.submit(pool, index, item, options)
            while run.pending:
                done, _ = wait(run.pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    run.collect(future)
                if progress:
                    progress.bytes_done(counter.value)
    except BaseException:
        run.remove_unfinished_sequences()
        raise
    return [run.results[i] for i in range(len(items))]


class _Run:
    """The jobs of one parallel batch: a job per file, a job per frame of each sequence."""

    def __init__(self, items: list[BatchItem], progress: Progress | None) -> None:
        self.items, self.progress = items, progress
        self.results: dict[int, ItemResult] = {}
        self.pending: dict[Future[Any], tuple[int, int | None]] = {}  # future -> (item, frame index or None)
        self.frames: dict[int, dict[int, SignResult | Exception]] = {}  # item -> frame index -> outcome
        self.plans: dict[int, SequencePlan] = {}

    def submit(self, pool: Any, index: int, item: BatchItem, options: BatchOptions) -> None:
        if item.sequence is None:
            self.pending[pool.submit(sign_item, item)] = (index, None)
            return
        early = _precheck(item, options)
        if early is None:
            try:
                plan = plan_sequence(item.sequence.pattern, None, options.force)
            except (ProvenanceError, OSError) as exc:
                early = _failed(item, exc, item_size(item))
        if early is not None:
            self._done(index, early)
            return
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
            outcome = RuntimeError(f"{item.input}: frame not signed ({exc.__class__.__name__})")
        self.frames[index][frame] = outcome
        if len(self.frames[index]) == len(self.plans[index].frames):
            self._done(index, self._sequence_result(index))

    def _sequence_result(self, index: int) -> ItemResult:
        item, outcomes = self.items[index], self.frames.pop(index)
        ordered = [outcomes[i] for i in sorted(outcomes)]
        failures = [o for o in ordered if isinstance(o, Exception)]
        signed = [o for o in ordered if not isinstance(o, Exception)]
        if not failures:
            return _signed(item, signed, item_size(item))
        self._remove(signed)  # all or nothing, as `sign 'name.%04d.exr'`
        return _failed(item, failures[0], item_size(item))

    def _done(self, index: int, result: ItemResult) -> None:
        self.results[index] = result
        if self.progress:
            self.progress.files(1)

    @staticmethod
    def _remove(results: list[SignResult]) -> None:
        for result in results:
            with contextlib.suppress(OSError):
                result.output.unlink()

    def remove_unfinished_sequences(self) -> None:
        """Ctrl-C or an error mid-run (the pool has finished its running jobs): a sequence is signed whole or
        not at all, so every sidecar of an unfinished one goes, collected or not."""
        for outcomes in self.frames.values():
            self._remove([o for o in outcomes.values() if not isinstance(o, Exception)])
        for future, (_, frame) in self.pending.items():
            if frame is not None and future.done() and not future.cancelled() and future.exception() is None:
                outcome = future.result()
                if isinstance(outcome, SignResult):
                    self._remove([outcome])


def _outcome(future: Future[ItemResult], item: BatchItem) -> ItemResult:
    try:
        return future.result()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a worker that died (out of memory, killed): this file is not signed
        why = f"{item.input}: not signed ({exc.__class__.__name__}: {clip(str(exc))})"
        return ItemResult(item.input, None, ItemStatus.FAILED, why, item.source, file_size(item.input))


def _in_process(
    items: list[BatchItem], spec: SignerSpec, options: BatchOptions, progress: Progress | None
) -> list[ItemResult]:
    _init(spec, options, None)
    done = 0

    def on_bytes(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress.bytes_done(done)

    _STATE["on_bytes"] = on_bytes
    results = []
    for item in items:
        results.append(sign_item(item))
        if progress:
            progress.files(1)
    return results


def require_items(items: list[BatchItem], where: str) -> None:
    if not items:
        raise InputError(f"{where}: nothing to sign")
