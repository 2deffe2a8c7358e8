"""Progress bars on standard error (rich), only when it is a terminal; silent otherwise."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


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


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Bar]:
    """A transient bar on stderr when it is a terminal (NO_COLOR respected); a silent Bar otherwise."""
    console = Console(stderr=True, force_terminal=None, no_color=None)
    if not console.is_terminal:
        yield Bar(None, None)
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield Bar(progress, progress.add_task(label, total=None))
