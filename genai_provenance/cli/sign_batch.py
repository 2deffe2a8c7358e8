"""`sign FOLDER` and `sign --batch SHOTLIST.csv`: gather the files, sign them, report, exit."""

from __future__ import annotations

import sys
from pathlib import Path

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
    sign_batch,
)
from genai_provenance.credentials.formats import is_media
from genai_provenance.credentials.shotlist import BatchItem, read_shotlist
from genai_provenance.gate.discovery import SIDECAR_SUFFIX
from genai_provenance.reports import json_report
from genai_provenance.reports.batch_report import batch_document, batch_text


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
    spec.resolve()  # a missing workspace or a bad key is one error now, not one per file
    with transfer_bar("signing", len(items), _total(items)) as bar:
        signed = sign_batch(items, spec, options, workers, Progress(bar.file_done, bar.bytes_done))
    result = BatchResult(signed + skipped)
    text = (
        json_report.dumps(batch_document(result.items, result.exit_code)) if fmt == "json" else batch_text(result.items)
    )
    emit(text, report)
    sys.exit(result.exit_code)


def _total(items: list[BatchItem]) -> int:
    return sum(item_size(item) for item in items)
