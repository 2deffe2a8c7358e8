"""verify: only what reading credentials needs is imported (the start-up of a one-file check counts)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from genai_provenance.cli import (
    allow_remote_option,
    cluster_options,
    emit,
    handled,
    home_option,
    ignores_option,
    main,
    report_format_option,
    report_output_option,
    trust_options,
    view_options,
    workers_option,
)
from genai_provenance.cli.progress import checking
from genai_provenance.gate.discovery import discover_paths
from genai_provenance.gate.results import VerifyResult
from genai_provenance.reports.renderers import verify_renderer
from genai_provenance.settings import verify_config

if TYPE_CHECKING:
    from genai_provenance.gate.cluster import ClusterTarget
    from genai_provenance.reports.console import View
    from genai_provenance.trust.config import TrustFlags


@main.command(short_help="Check the Content Credentials of files and folders.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@trust_options()
@allow_remote_option
@ignores_option
@workers_option
@cluster_options
@home_option
@report_format_option()
@report_output_option
@view_options
@handled
def verify(
    paths: tuple[Path, ...],
    trust_flags: TrustFlags,
    allow_remote: bool,
    no_default_ignores: bool,
    workers: int,
    cluster: ClusterTarget | None,
    home: Path | None,
    fmt: str,
    output: Path | None,
    view: View,
) -> None:
    """Check the Content Credentials of files and folders (recursive), and the clearances they cite."""
    config = verify_config(home, allow_remote, trust_flags)
    found = discover_paths(paths, default_ignores=not no_default_ignores)
    with checking(config, workers, cluster, found) as (executor, targets, bar):
        assets = executor.verify(targets, bar.advance)
    anchors = config.trust is not None and config.trust.anchors_pem is not None
    result = VerifyResult(assets, found, anchors_configured=anchors)
    emit(verify_renderer(fmt, view).render(result), output)
    sys.exit(result.exit_code)
