"""Progress bars on standard error (rich), only when it is a terminal; silent otherwise.

rich is imported only when standard error could be a terminal, so a run under a pipe starts without it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from genai_provenance.reports.console import may_be_terminal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from genai_provenance.credentials.native_progress import SignStage
    from genai_provenance.gate.check import CheckConfig
    from genai_provenance.gate.cluster import ClusterTarget
    from genai_provenance.gate.discovery import Discovery, Target
    from genai_provenance.gate.executor import AssetExecutor


class Bar:
    """One line per phase: a count when one is known, a spinner otherwise."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress, self._task = progress, task

    def phase(self, name: str) -> None:
        """A new line for the next phase (the finished one stays, with its count)."""
        if self._progress is not None:
            self._task = self._progress.add_task(name, total=None)

    def total(self, count: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=count)

    def advance(self, count: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, count)


def _stderr_console() -> Console | None:
    """rich's console on stderr when it is a terminal (as rich decides), else None; rich is not even
    imported when stderr is no tty and neither TTY_COMPATIBLE nor FORCE_COLOR is set."""
    if not may_be_terminal(sys.stderr):
        return None
    from rich.console import Console

    console = Console(stderr=True, force_terminal=None, no_color=None)
    return console if console.is_terminal else None


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Bar]:
    """A transient bar on stderr when it is a terminal (NO_COLOR respected); a silent Bar otherwise."""
    console = _stderr_console()
    if console is None:
        yield Bar(None, None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield Bar(progress, progress.add_task(label, total=None))


class TransferBar:
    """Two lines: files done of the total, and bytes read of the total."""

    def __init__(
        self, progress: Progress | None, files: TaskID | None, data: TaskID | None, count: int = 0, size: int = 0
    ) -> None:
        self._progress, self._files, self._bytes, self._count, self._size = progress, files, data, count, size
        self._files_done = 0

    def file_done(self, count: int = 1) -> None:
        if self._progress is not None and self._files is not None:
            self._files_done += count
            detail = f"{self._files_done} of {self._count} files"
            self._progress.update(self._files, advance=count, detail=detail)

    def bytes_done(self, total: int) -> None:
        """The running total of bytes read so far."""
        if self._progress is not None and self._bytes is not None:
            from rich import filesize

            detail = f"{filesize.decimal(total)} of {filesize.decimal(self._size)}"
            self._progress.update(self._bytes, completed=total, detail=detail)


def _detailed_progress(console: Console) -> Progress:
    """A transient two-task display: spinner, label, bar, a free-text detail, elapsed time."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    return Progress(*columns, console=console, transient=True)


@contextlib.contextmanager
def transfer_bar(label: str, files: int, size: int) -> Iterator[TransferBar]:
    """Files and bytes on stderr when it is a terminal; a silent TransferBar otherwise."""
    console = _stderr_console()
    if console is None:
        yield TransferBar(None, None, None)
        return
    from rich import filesize

    with _detailed_progress(console) as progress:
        file_task = progress.add_task(label, total=files, detail=f"0 of {files} files")
        byte_task = progress.add_task("read", total=size or None, detail=filesize.decimal(size))
        yield TransferBar(progress, file_task, byte_task, files, size)


class StageBar:
    """c2pa's own signing (embedded, BMFF sidecars): what it is doing, and the input bytes it has read."""

    def __init__(self, progress: Progress | None, stage: TaskID | None, data: TaskID | None, size: int = 0) -> None:
        from genai_provenance.credentials.digest import running_total

        self._progress, self._stage, self._bytes, self._size = progress, stage, data, size
        self.bytes_read = running_total(self._show_read)  # `count` more bytes of the input read

    def _show_read(self, done: int) -> None:
        if self._progress is not None and self._bytes is not None:
            from rich import filesize

            detail = f"{filesize.decimal(done)} of {filesize.decimal(self._size)}"
            self._progress.update(self._bytes, completed=done, detail=detail)

    def stage(self, stage: SignStage) -> None:
        if self._progress is None or self._stage is None:
            return
        from rich import filesize

        if stage.unit == "bytes":
            detail = f"{stage.phase} {filesize.decimal(stage.done)}"
        elif stage.total > 1 and stage.phase != "copying":  # c2pa's steps (hash ranges, not bytes), as they are
            detail = f"{stage.phase} (step {stage.done} of {stage.total})"
        else:
            detail = str(stage.phase)
        self._progress.update(self._stage, detail=detail)


@contextlib.contextmanager
def stage_bar(label: str, size: int) -> Iterator[StageBar]:
    """c2pa's phase and the bytes it read, on stderr when it is a terminal; a silent StageBar otherwise."""
    console = _stderr_console()
    if console is None:
        yield StageBar(None, None, None)
        return
    from rich import filesize

    with _detailed_progress(console) as progress:
        stage_task = progress.add_task(label, total=None, detail="preparing")
        byte_task = progress.add_task("read", total=size or None, detail=f"0 B of {filesize.decimal(size)}")
        yield StageBar(progress, stage_task, byte_task, size)


@contextlib.contextmanager
def checking(
    config: CheckConfig, workers: int, cluster: ClusterTarget | None, found: Discovery
) -> Iterator[tuple[AssetExecutor, list[Target], Bar]]:
    """Where verify and check run (local workers or a cluster), the assets they judge, and their bar;
    says on stderr when memory lowered the worker count."""
    from genai_provenance.gate.executor import open_executor

    with open_executor(config, workers, cluster, found.files()) as executor, progress_bar("checking") as bar:
        if executor.note:
            click.echo(f"note: {executor.note}", err=True)
        targets = found.targets()
        bar.total(len(targets))
        yield executor, targets, bar
