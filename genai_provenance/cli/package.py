"""package (the final-deliverable gate) and verify-package."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from genai_provenance.cli import (
    FileArg,
    cluster_options,
    emit,
    handled,
    home_option,
    ignores_option,
    main,
    policy_option,
    report_format_option,
    report_output_option,
    revocations_option,
    signers_option,
    trust_options,
    workers_option,
)
from genai_provenance.cli.progress import progress_bar
from genai_provenance.files import write_text
from genai_provenance.gate.cluster import ClusterTarget
from genai_provenance.gate.package import PackageRequest, check_report_path, run_package
from genai_provenance.gate.verify_package import verify_package
from genai_provenance.reports.renderers import PACKAGE_RENDERERS, VERIFY_PACKAGE_RENDERERS
from genai_provenance.settings import check_config, packager_identity
from genai_provenance.trust.config import TrustFlags

DirArg = click.Path(path_type=Path, file_okay=False)


def _emit(text: str, report: Path | None, summary: str) -> None:
    if report is None:
        click.echo(text.rstrip("\n"))
        return
    write_text(report, text if text.endswith("\n") else text + "\n")
    click.echo(summary)


@main.command(short_help="The final-deliverable gate: package only cleared assets.")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", "target", type=DirArg, required=True, help="Package folder to create.")
@policy_option
@signers_option
@trust_options(packager=True)
@revocations_option
@workers_option
@cluster_options
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="GLOB",
    help="Leave out files matching GLOB (listed in the report); repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--report", type=FileArg, help="Write the report to FILE (whole or not at all) instead of standard output."
)
@click.option("--force", is_flag=True, help="Replace an existing package at OUTPUT.")
@ignores_option
@home_option
@handled
def package(
    source: Path,
    target: Path,
    policy: Path | None,
    signers: Path | None,
    trust_flags: TrustFlags,
    revocations: Path | None,
    workers: int,
    cluster: ClusterTarget | None,
    excludes: tuple[str, ...],
    fmt: str,
    report: Path | None,
    force: bool,
    no_default_ignores: bool,
    home: Path | None,
) -> None:
    """Package SOURCE as a final deliverable only when every asset is cleared (else write nothing)."""
    if report is not None:
        check_report_path(report, source, target)
    identity, organisation = packager_identity(home)
    request = PackageRequest(
        source,
        target,
        check_config(None, None, home, policy, "final", trust_flags, signers, revocations),
        identity,
        organisation,
        workers,
        excludes,
        force,
        default_ignores=not no_default_ignores,
        cluster=cluster,
    )
    with progress_bar("checking") as bar:
        request.on_total, request.progress, request.on_phase = bar.total, bar.advance, bar.phase
        result = run_package(request)
    outcome = f"packaged {result.target}" if result.written else "blocked: nothing was written"
    _emit(PACKAGE_RENDERERS[fmt].render(result), report, f"{outcome}; report written to {report}")
    sys.exit(result.exit_code)


@main.command(name="verify-package", short_help="Re-check a package: checksums, signed report, assets.")
@click.argument("path", type=click.Path(path_type=Path))
@policy_option
@signers_option
@trust_options(packager=True)
@revocations_option
@workers_option
@report_format_option(junit=False)
@report_output_option
@home_option
@handled
def verify_package_cmd(
    path: Path,
    policy: Path | None,
    signers: Path | None,
    trust_flags: TrustFlags,
    revocations: Path | None,
    workers: int,
    fmt: str,
    output: Path | None,
    home: Path | None,
) -> None:
    """Re-check a package: full bag checksums, the signed report (packager roots only), every asset and clearance."""
    config = check_config(None, None, home, policy, "final", trust_flags, signers, revocations)
    with progress_bar("checking") as bar:
        check = verify_package(path, config, workers, progress=bar)
    emit(VERIFY_PACKAGE_RENDERERS[fmt].render(check), output)
    sys.exit(check.exit_code)
