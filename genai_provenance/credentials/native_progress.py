"""Progress and Ctrl-C for c2pa's own signing (embedded, BMFF sidecars): its native progress callback.

c2pa-python 0.38.1 does not expose it, but its bundled libc2pa_c.so has
`c2pa_context_builder_set_progress_callback`: a context built with it calls back with (phase, step, total)
at c2pa's checkpoints, and returning 0 cancels at the next one. A Builder made from that context
(c2pa-python accepts any `ContextProvider`) reports through it. c2pa counts hash ranges, not bytes, so
the bytes come from the streams c2pa reads and writes through (one Python call per chunk already).

Ctrl-C: c2pa-python's stream callbacks swallow a KeyboardInterrupt raised inside them ("Exception
ignored") and signing carries on. While c2pa runs, SIGINT only marks the run cancelled; the next stream
call or checkpoint stops c2pa, and the signal is raised again once c2pa has returned.
"""

from __future__ import annotations

import ctypes
import functools
import io
import json
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from types import FrameType
from typing import Any, BinaryIO, Literal

import c2pa

from genai_provenance.credentials import native
from genai_provenance.credentials.native import library_path
from genai_provenance.errors import SigningError

# The symbols this module calls; tests pin that the bundled library has them.
SYMBOLS = (
    "c2pa_context_builder_new",
    "c2pa_context_builder_set_settings",
    "c2pa_context_builder_set_progress_callback",
    "c2pa_context_builder_build",
    "c2pa_free",
)
REPORT_EVERY = 1 << 20  # bytes between reports (c2pa moves 8 KiB a call)
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32, ctypes.c_uint32)


class SignPhase(StrEnum):
    """What c2pa is doing, from its progress phases (C2paProgressPhase in c2pa_c_ffi)."""

    PREPARING = "preparing"  # ingredients, thumbnail, anything c2pa adds later
    COPYING = "copying"  # the asset into c2pa's store (c2pa's "Writing": a full read of the input)
    HASHING = "hashing"  # c2pa's steps are hash ranges (an MP4's mdat is one)
    SIGNING = "signing"  # the claim signature, time-stamp and OCSP fetches
    WRITING = "writing"  # the signed output (bytes written; c2pa reports no phase while writing)
    EMBEDDING = "embedding"
    CHECKING = "checking"  # c2pa reads back what it wrote


_PHASES = {
    0: SignPhase.CHECKING,  # Reading
    1: SignPhase.CHECKING,  # VerifyingManifest
    2: SignPhase.CHECKING,  # VerifyingSignature
    3: SignPhase.CHECKING,  # VerifyingIngredient
    4: SignPhase.CHECKING,  # VerifyingAssetHash
    5: SignPhase.PREPARING,  # AddingIngredient
    6: SignPhase.PREPARING,  # Thumbnail
    7: SignPhase.HASHING,
    8: SignPhase.SIGNING,
    9: SignPhase.EMBEDDING,
    10: SignPhase.PREPARING,  # FetchingRemoteManifest
    11: SignPhase.COPYING,  # Writing (c2pa's name)
    12: SignPhase.SIGNING,  # FetchingOCSP
    13: SignPhase.SIGNING,  # FetchingTimestamp
}


@dataclass(frozen=True)
class SignStage:
    """One report: a phase and how far it is, in c2pa's steps (total 0: unknown) or in bytes written."""

    phase: SignPhase
    done: int
    total: int
    unit: Literal["steps", "bytes"] = "steps"


@functools.cache
def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(library_path()))
    missing = missing_symbols()
    if missing:
        raise SigningError(f"{library_path()}: lacks {', '.join(missing)} (c2pa-python changed?)")
    lib.c2pa_context_builder_new.argtypes = []
    lib.c2pa_context_builder_new.restype = ctypes.c_void_p
    lib.c2pa_context_builder_set_settings.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.c2pa_context_builder_set_settings.restype = ctypes.c_int
    lib.c2pa_context_builder_set_progress_callback.argtypes = [ctypes.c_void_p, ctypes.c_void_p, _CALLBACK]
    lib.c2pa_context_builder_set_progress_callback.restype = ctypes.c_int
    lib.c2pa_context_builder_build.argtypes = [ctypes.c_void_p]
    lib.c2pa_context_builder_build.restype = ctypes.c_void_p
    lib.c2pa_free.argtypes = [ctypes.c_void_p]
    lib.c2pa_free.restype = ctypes.c_int
    return lib


def _why() -> str:
    """c2pa's own message for the call that just failed."""
    return " ".join(native._last_error(native._lib()).split())


def missing_symbols() -> list[str]:
    """The SYMBOLS the bundled library lacks (empty for the pinned c2pa-python)."""
    return native.missing_symbols(SYMBOLS)


class Tracker:
    """One c2pa run: forwards its reports, counts the input bytes it reads, and holds its cancellation."""

    def __init__(
        self, size: int, on_bytes: Callable[[int], None] | None, on_stage: Callable[[SignStage], None] | None
    ) -> None:
        self.size, self._on_bytes, self._on_stage = size, on_bytes, on_stage
        self.cancelled = threading.Event()  # c2pa stops at its next stream call or checkpoint
        self.interrupted = False  # Ctrl-C while c2pa ran
        self.error: BaseException | None = None  # raised by a sink: re-raised once c2pa has returned
        self._read = 0  # input bytes read since c2pa's full read began (or since the start)
        self._reported = 0  # input bytes reported to on_bytes (never more than size)
        self._written = 0  # output bytes c2pa wrote
        self._written_reported = 0

    def stage(self, phase: int, step: int, total: int) -> bool:
        """c2pa's checkpoint; False cancels."""
        mapped = _PHASES.get(phase, SignPhase.PREPARING)
        if mapped is SignPhase.COPYING and step == 1:
            self._read = 0  # the full read starts here: the bytes bar counts from it (sniffing read some)
        self._flush_written()
        self._report(SignStage(mapped, step, total))
        return not self.cancelled.is_set()

    def read(self, count: int) -> None:
        """Input bytes c2pa read; reported (every REPORT_EVERY bytes, and the last) as a running count that
        never goes back nor passes the size."""
        self.check()
        self._read += count
        step = min(self._read, self.size) - self._reported
        if self._on_bytes is not None and (step >= REPORT_EVERY or (step > 0 and self._read >= self.size)):
            self._reported += step
            on_bytes = self._on_bytes
            self._call(lambda: on_bytes(step))

    def written(self, count: int) -> None:
        self.check()
        self._written += count
        if self._written - self._written_reported >= REPORT_EVERY:
            self._flush_written()

    def _flush_written(self) -> None:
        if self._written > self._written_reported:
            self._written_reported = self._written
            self._report(SignStage(SignPhase.WRITING, self._written, 0, "bytes"))

    def check(self) -> None:
        """Inside c2pa's stream calls: an exception there makes c2pa stop with an I/O error."""
        if self.cancelled.is_set():
            raise InterruptedError("signing cancelled")

    def _report(self, stage: SignStage) -> None:
        sink = self._on_stage
        if sink is not None:
            self._call(lambda: sink(stage))

    def _call(self, fn: Callable[[], None]) -> None:
        if self.error is not None:
            return
        try:
            fn()
        except BaseException as exc:  # never into c2pa: stop it, and raise this once it has returned
            self.error = exc
            self.cancelled.set()

    def finish(self) -> None:
        """After c2pa returned (or raised): a sink's exception wins over c2pa's error."""
        if self.error is not None:
            raise self.error


class ProgressContext(c2pa.ContextProvider):  # type: ignore[misc]  # c2pa-python is untyped
    """A native c2pa context with our settings and a progress callback bound to a Tracker.

    A Builder made from it holds the native context: close this only after the Builder is closed (the
    callback object lives here)."""

    def __init__(self, settings: dict[str, Any], tracker: Tracker) -> None:
        self._tracker, self._ptr = tracker, 0
        self._callback = _CALLBACK(self._on_progress)  # kept alive for as long as the context
        context_type = getattr(getattr(c2pa, "c2pa", None), "C2paContext", None)
        if context_type is None:
            raise SigningError("c2pa-python has no C2paContext type (its internals changed): progress unavailable")
        self._pointer_type = ctypes.POINTER(context_type)
        lib = _lib()
        builder = lib.c2pa_context_builder_new()
        if not builder:
            raise SigningError(f"c2pa context could not be created ({_why()})")
        with c2pa.Settings.from_json(json.dumps(settings)) as native_settings:
            handle = native._handle(native_settings, "settings")
            failed = lib.c2pa_context_builder_set_settings(builder, handle) != 0
        failed = failed or lib.c2pa_context_builder_set_progress_callback(builder, None, self._callback) != 0
        if failed:
            lib.c2pa_free(builder)
            raise SigningError(f"c2pa context refused its settings or progress callback ({_why()})")
        self._ptr = lib.c2pa_context_builder_build(builder) or 0  # consumes the builder
        if not self._ptr:
            raise SigningError(f"c2pa context could not be built ({_why()})")

    def _on_progress(self, _user: int | None, phase: int, step: int, total: int) -> int:
        try:
            return 1 if self._tracker.stage(phase, step, total) else 0
        except BaseException as exc:  # never into c2pa
            self._tracker.error = self._tracker.error or exc
            self._tracker.cancelled.set()
            return 0

    @property
    def is_valid(self) -> bool:
        return bool(self._ptr)

    @property
    def execution_context(self) -> Any:
        if not self._ptr:
            raise SigningError("c2pa progress context is closed")
        return ctypes.cast(self._ptr, self._pointer_type)

    def close(self) -> None:
        """Free our reference (a Builder made from it holds its own until it is freed)."""
        if self._ptr:
            _lib().c2pa_free(self._ptr)
            self._ptr = 0

    def __enter__(self) -> ProgressContext:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class CountingReader(io.RawIOBase):
    """The input as c2pa reads it: each chunk counted; a cancelled run fails the next read."""

    def __init__(self, raw: BinaryIO, tracker: Tracker) -> None:
        super().__init__()
        self._raw, self._tracker = raw, tracker

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._tracker.check()
        count = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self._tracker.read(count or 0)
        return int(count or 0)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._tracker.check()
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


class CountingWriter(io.RawIOBase):
    """The output as c2pa writes (and re-reads) it: bytes written reported; a cancelled run fails the next call."""

    def __init__(self, raw: BinaryIO, tracker: Tracker) -> None:
        super().__init__()
        self._raw, self._tracker = raw, tracker

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._tracker.check()
        return int(self._raw.readinto(buffer) or 0)  # type: ignore[attr-defined]

    def write(self, data: Any) -> int:
        count = self._raw.write(data)
        self._tracker.written(count)
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._tracker.check()
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def flush(self) -> None:
        self._raw.flush()


@contextmanager
def deferred_interrupt(tracker: Tracker) -> Iterator[None]:
    """While c2pa runs (main thread only), Ctrl-C cancels the run instead of raising inside c2pa's callbacks;
    once c2pa has returned, the signal is raised again for the handler that was there before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, None):  # ignored, or a handler not set from Python: leave it alone
        yield
        return

    def on_sigint(_signum: int, _frame: FrameType | None) -> None:
        tracker.interrupted = True
        tracker.cancelled.set()

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if tracker.interrupted:
            signal.raise_signal(signal.SIGINT)  # the previous handler runs now (KeyboardInterrupt by default)


def sign_tracked(
    builder: c2pa.Builder, signer: c2pa.Signer, mime: str, src: BinaryIO, dst: BinaryIO, tracker: Tracker
) -> bytes:
    """`builder.sign` (a builder made from the tracker's ProgressContext) with bytes counted and Ctrl-C honoured;
    returns the manifest store. A sink's exception, or Ctrl-C, replaces c2pa's "cancelled" error."""
    with deferred_interrupt(tracker):
        try:
            store = builder.sign(signer, mime, CountingReader(src, tracker), CountingWriter(dst, tracker))
        except c2pa.C2paError:
            tracker.finish()
            raise
        tracker.finish()
    return bytes(store)


@contextmanager
def builder_context(
    settings: dict[str, Any], tracker: Tracker | None, plain: c2pa.Context
) -> Iterator[c2pa.ContextProvider]:
    """The context a Builder is made from: one reporting to `tracker`, or `plain` when there is none."""
    if tracker is None:
        yield plain
        return
    with ProgressContext(settings, tracker) as context:
        yield context


def interrupt_after_c2pa() -> AbstractContextManager[None]:
    """Around c2pa calls that cannot be cancelled (a Reader): a Ctrl-C is raised once they have returned,
    instead of being swallowed by c2pa-python's stream callbacks."""
    return deferred_interrupt(Tracker(0, None, None))
