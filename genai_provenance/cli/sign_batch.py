"""`sign FOLDER`, `sign --batch SHOTLIST.csv` and `sign PATTERN`: gather the files, sign them in workers, report."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import click

from genai_provenance.cli import emit
from genai_provenance.cli.progress import transfer_bar
from genai_provenance.credentials.batch import (
    BatchOptions,
    BatchResult,
    ItemResult,
    Progress,
    SignerSpec,
    check_titles,
    folder_items,
    item_size,
)
from genai_provenance.credentials.batch_run import sign_batch, sign_pattern
from genai_provenance.credentials.formats import is_media
from genai_provenance.credentials.sequence_pattern import FramePattern
from genai_provenance.credentials.shotlist import BatchItem, read_shotlist
from genai_provenance.credentials.sign_sequence import plan_sequence
from genai_provenance.errors import InputError
from genai_provenance.gate.discovery import SIDECAR_SUFFIX
from genai_provenance.reports import json_report
from genai_provenance.reports.batch_report import batch_document, batch_text
from genai_provenance.reports.renderers import SIGN_SEQUENCE_RENDERERS


def run_batch(
    folder: Path | None,
    shotlist: Path | None,
    disclosure: Path | None,
    spec: SignerSpec,
    options: BatchOptions,
    workers: int,
    fmt: str,
    report: Path | None,
) -> None:
    if report is not None and (is_media(report) or report.name.endswith(SIDECAR_SUFFIX)):
        raise click.UsageError(
            f"{report}: for a folder or --batch, -o/--output is the report (a media or .c2pa name is refused: "
            "each file's sidecar goes beside it)"
        )
    if shotlist is not None:
        if folder is not None:
            raise click.UsageError("give a FOLDER or --batch SHOTLIST.csv, not both")
        if disclosure is not None:
            raise click.UsageError("--disclosure does not go with --batch: the shot list names each file's disclosure")
        items, skipped = read_shotlist(shotlist), list[ItemResult]()
    else:
        assert folder is not None
        if disclosure is None:
            raise click.UsageError("signing a folder needs --disclosure FILE (or use --batch SHOTLIST.csv)")
        items, skipped = folder_items(folder, disclosure)
    check_titles(items, options)
    resolved = spec.resolve()  # a missing workspace or a bad key is one error now, not one per file
    with _sigterm_as_interrupt(), transfer_bar("signing", len(items), _total(items)) as bar:
        signed = sign_batch(items, spec, options, workers, Progress(bar.file_done, bar.bytes_done), resolved)
    result = BatchResult(signed + skipped)
    text = (
        json_report.dumps(batch_document(result.items, result.exit_code)) if fmt == "json" else batch_text(result.items)
    )
    emit(text, report)
    sys.exit(result.exit_code)


def _total(items: list[BatchItem]) -> int:
    return sum(item_size(item) for item in items)


def run_pattern(
    pattern: FramePattern,
    frames: str | None,
    disclosure: Path,
    spec: SignerSpec,
    options: BatchOptions,
    workers: int,
    fmt: str,
    output: Path | None,
) -> None:
    """`sign PATTERN`: the sequence's frames across workers, one report for the sequence."""
    if output is not None:
        raise InputError(f"{pattern.folder / pattern.printf}: -o/--output does not apply to a sequence (sidecars)")
    resolved = spec.resolve()  # a missing workspace or a bad key is one error now, not one per frame
    plan = plan_sequence(pattern, frames, options.force)  # every frame checked and hashed: nothing written yet
    with _sigterm_as_interrupt(), transfer_bar("signing", len(plan.frames), plan.size) as bar:
        result = sign_pattern(
            plan, disclosure, spec, options, workers, Progress(_no_count, bar.bytes_done, bar.file_done), resolved
        )
    emit(SIGN_SEQUENCE_RENDERERS[fmt].render(result))


def _no_count(_count: int) -> None:
    """The sequence as one item: the bar counts its frames instead."""


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM as a Ctrl-C: raised as SIGINT, so that while c2pa runs it cancels c2pa (deferred_interrupt)
    instead of raising inside c2pa-python's callbacks, which drop the exception and carry on signing."""
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, None):  # e.g. a background job
        raise KeyboardInterrupt
    signal.raise_signal(signal.SIGINT)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops signing as Ctrl-C does: no sequence is left signed in part."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
