"""Batch signing at export: a folder or a shot list, a sidecar per file, in worker processes.

One failing file does not stop the others; each result says what happened. Every sidecar is
written as a single sign writes it (staged, verified, renamed), so a killed batch leaves none half-made.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
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
from genai_provenance.credentials.sign_sequence import SequencePlan, sign_frame, sign_sequence
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


Resolved = tuple[SigningIdentity, TrustSettings, Ledger | None, OcspProfile]  # what SignerSpec.resolve gives


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

    def resolve(self) -> Resolved:
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
    templated: bool = True  # fill {stem}, {name}, {parent} in a disclosure's asset.title (`sign PATTERN`: no)
    parent: Path | None = None  # `sign PATTERN --parent`: the asset every frame was made from
    ingredients: tuple[Path, ...] = ()  # `sign PATTERN --ingredient`


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


def init_state(spec: SignerSpec, options: BatchOptions, counter: Any, resolved: Resolved | None = None) -> None:
    """`resolved`: what the caller got from spec.resolve() already (in-process), so the key is not loaded twice."""
    identity, trust, ledger, ocsp = resolved or spec.resolve()
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


def init_worker(spec: SignerSpec, options: BatchOptions, counter: Any, pids: Any = None) -> None:
    """A worker ignores Ctrl-C between files; during one, it stops that file (its staged output is removed).
    SIGTERM ends an idle worker at once, a busy one when its file is done (never mid-write: no staged output
    is left); the caller counts its jobs as not signed and removes every sidecar of an unfinished sequence."""
    signal.signal(signal.SIGINT, _on_sigint)
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.unraisablehook = _unraisable
    if pids is not None:  # where the caller looks for workers still running before it sweeps their staged files
        with pids.get_lock():
            slot = next((i for i, pid in enumerate(pids) if pid == 0), None)
            if slot is not None:
                pids[slot] = os.getpid()
    init_state(spec, options, counter)


def _on_sigint(_signum: int, _frame: FrameType | None) -> None:
    if _STATE.get("busy"):
        raise KeyboardInterrupt


def _unraisable(info: Any) -> None:
    """Ctrl-C that landed in a destructor or a c2pa callback (where Python prints and drops it) is sent again,
    quietly, once this hook has returned (from another thread), so the file still stops."""
    if isinstance(info.exc_value, KeyboardInterrupt):
        if _STATE.get("busy"):
            threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT), daemon=True).start()
        return
    sys.__unraisablehook__(info)


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    if _STATE.get("busy"):  # not interrupted at an arbitrary point (c2pa calls back into Python): see _idle
        _STATE["stopping"] = 128 + signum
        return
    os._exit(128 + signum)


def _idle() -> None:
    """A job is over (its staged output renamed or removed): a worker told to stop by SIGTERM now ends."""
    _STATE["busy"] = False
    if _STATE.get("stopping"):
        os._exit(_STATE["stopping"])


def report_bytes(callback: Callable[[int], None] | None) -> None:
    """In this process (no workers): where each file's hashed bytes go."""
    _STATE["on_bytes"] = callback


def _add_bytes(count: int) -> None:
    counter = _STATE["counter"]
    with counter.get_lock():
        counter.value += count


def precheck(item: BatchItem, options: BatchOptions) -> ItemResult | None:
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


def frame_request(item: BatchItem, first: Path, output: Path | None) -> SignRequest:
    options: BatchOptions = _STATE["options"]
    return SignRequest(
        first,
        output,
        item.disclosure,
        _STATE["identity"],
        _STATE["trust"],
        parent=options.parent,
        ingredients=list(options.ingredients),
        force=options.force,
        ledger=_STATE["ledger"],
        record_broken_history=options.record_broken_history,
        sidecar=True,
        templated=options.templated,
        title=item.title if item.title is not None else options.title,
        progress=_STATE["on_bytes"],
        thumbnail=options.thumbnail,
        ocsp=_STATE["ocsp"],
    )


def failed_result(item: BatchItem, exc: Exception, size: int) -> ItemResult:
    """Every error becomes the item's result: an input error (exit 2) or a failure (exit 1), and why."""
    if isinstance(exc, ProvenanceError):
        status = ItemStatus.FAILED if exc.exit_code == 1 else ItemStatus.ERROR
        return ItemResult(item.input, None, status, str(exc), item.source, size)
    return ItemResult(item.input, None, ItemStatus.FAILED, f"{item.input}: {clip(str(exc))}", item.source, size)


def signed_result(item: BatchItem, results: list[SignResult], size: int) -> ItemResult:
    statuses = ", ".join(sorted({str(r.report.status) for r in results}))
    warnings = tuple(dict.fromkeys(w for r in results for w in r.warnings))
    return ItemResult(item.input, results[0].output, ItemStatus.SIGNED, None, item.source, size, statuses, warnings)


def sign_item(item: BatchItem) -> ItemResult:
    """Sign one file's sidecar (or every frame of a sequence, in order); every error becomes this item's result
    (Ctrl-C excepted)."""
    options: BatchOptions = _STATE["options"]
    early = precheck(item, options)
    if early is not None:
        return early
    size = item_size(item)
    first = item.sequence.frames[0][1] if item.sequence is not None else item.input
    request = frame_request(item, first, None if item.sequence is not None else sidecar_of(first))
    _STATE["busy"] = True
    try:
        if item.sequence is not None:  # the frames on disk, which must be contiguous (a gap: an input error)
            results = sign_sequence(request, item.sequence.pattern).frames
        else:
            results = [sign_asset(request)]
    except (ProvenanceError, OSError, ValueError, RuntimeError) as exc:  # fail closed: not signed, and why
        return failed_result(item, exc, size)
    finally:
        _idle()
    return signed_result(item, results, size)


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
        return sign_frame(frame_request(job.item, first, None), job.plan, job.index)
    except (ProvenanceError, OSError, ValueError, RuntimeError) as exc:  # sent back whole: no live handles
        return (
            exc
            if isinstance(exc, ProvenanceError)
            else RuntimeError(f"{job.plan.frames[job.index][1]}: {clip(str(exc))}")
        )
    finally:
        _idle()


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


# --------------------------------------------------------------------------- what the caller sees


@dataclass(frozen=True)
class Progress:
    """What the caller shows: files done of total, bytes hashed of total (and, for `sign PATTERN`, frames)."""

    files: Callable[[int], None]
    bytes_done: Callable[[int], None]  # the running total of bytes hashed
    frames: Callable[[int], None] | None = None  # frames signed, as each is done


def require_items(items: list[BatchItem], where: str) -> None:
    if not items:
        raise InputError(f"{where}: nothing to sign")
