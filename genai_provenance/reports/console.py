"""Text reports for many files: a one-line-per-asset table (rich), failures only, or quiet.

Whether the table is drawn and whether it is coloured is decided once, from the terminal
(`terminal_view`); files and pipes never get colour. Every cell is escaped (safe_text.one_line)
and handed to rich as plain Text, never as markup, so a file name cannot style or inject output.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from genai_provenance.model.provenance import INVALID, NO_CREDENTIALS, STATUSES, TRUSTED, UNREADABLE, VALID_UNTRUSTED
from genai_provenance.safe_text import one_line

TABLE_AFTER = 5  # more assets than this on a terminal: the table, unless --verbose
STATUS_STYLE: dict[str, str] = {
    TRUSTED: "green",
    VALID_UNTRUSTED: "yellow",
    INVALID: "bold red",
    NO_CREDENTIALS: "yellow",
    UNREADABLE: "red",
}


@dataclass(frozen=True)
class View:
    """How a text report is laid out: --verbose, --only-failures, --quiet, and what the terminal allows."""

    verbose: bool = False
    only_failures: bool = False
    quiet: bool = False
    terminal: bool = False  # stdout is a terminal (and no -o FILE): the table may be used
    colour: bool = False  # ...and colour is allowed (not NO_COLOR)
    width: int = 100

    def table(self, count: int) -> bool:
        return self.terminal and not self.verbose and count > TABLE_AFTER


@dataclass(frozen=True)
class Row:
    """One asset in one line."""

    path: str
    status: str
    genai: bool
    signer: str
    findings: int
    passed: bool
    policy: str | None = None  # check: "pass" or "BLOCKED"


def terminal_view(*, verbose: bool, only_failures: bool, quiet: bool, to_file: bool) -> View:
    """The view for standard output: rich reads the terminal, NO_COLOR, FORCE_COLOR and COLUMNS.

    rich is imported only when stdout could be a terminal (it is not unless it is a tty or the
    environment says so), so a report to a pipe or file starts without it."""
    if to_file or not may_be_terminal(sys.stdout):
        return View(verbose, only_failures, quiet)
    from rich.console import Console

    probe = Console(force_terminal=None, no_color=None)
    terminal = probe.is_terminal and not to_file
    colour = terminal and not probe.no_color and probe.color_system is not None
    return View(verbose, only_failures, quiet, terminal, colour, probe.width)


def may_be_terminal(stream: TextIO | None) -> bool:
    """False only where rich's Console.is_terminal is False too (no tty, no TTY_COMPATIBLE or FORCE_COLOR),
    so callers can skip importing rich."""
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return True
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # a closed stream
        return False


def table(rows: Iterable[Row], view: View) -> list[str]:
    """The one-line-per-asset table, as lines (with ANSI styles only when the view is coloured)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(
        file=io.StringIO(),
        force_terminal=view.colour,
        color_system="standard" if view.colour else None,
        no_color=not view.colour,
        width=max(40, view.width),
        highlight=False,
        emoji=False,
        markup=False,
    )
    rows = list(rows)
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    grid.add_column("path", overflow="fold", ratio=3)
    grid.add_column("status", no_wrap=True)
    if any(r.policy is not None for r in rows):
        grid.add_column("policy", no_wrap=True)
    grid.add_column("GenAI", no_wrap=True)
    grid.add_column("signer", overflow="fold", ratio=2)
    grid.add_column("findings", justify="right", no_wrap=True)
    for row in rows:
        cells = [Text(one_line(row.path)), Text(row.status, style=STATUS_STYLE.get(row.status, ""))]
        if row.policy is not None:
            cells.append(Text(row.policy, style="green" if row.passed else "bold red"))
        cells += [Text("yes" if row.genai else "-"), Text(one_line(row.signer)), Text(str(row.findings))]
        grid.add_row(*cells)
    console.print(grid)
    output = console.file.getvalue()  # type: ignore[attr-defined]  # our StringIO
    return [line.rstrip() for line in output.rstrip("\n").split("\n")]


def one_liner(row: Row) -> str:
    policy = f", {row.policy}" if row.policy is not None else ""
    return f"{row.path}: {row.status}{policy} ({row.findings} findings)"


def by_status(statuses: Iterable[str]) -> str:
    """`by status: 3 trusted, 1 invalid` (statuses in their usual order, zero counts left out)."""
    seen = list(statuses)
    counts = [f"{seen.count(s)} {s}" for s in STATUSES if seen.count(s)]
    return "by status: " + (", ".join(counts) if counts else "none")
