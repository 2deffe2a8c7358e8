"""package (the final-deliverable gate) and verify-package."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from genai_provenance.cli import (
    FileArg,
    handled,
    home_option,
    ignores_option,
    main,
    policy_option,
    revocations_option,
    signers_option,
    trust_options,
)
from genai_provenance.files import write_text
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
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Parallel checks.")
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
@click.option("--report", type=FileArg, help="Write the report to FILE instead of standard output.")
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
    )
    show_bar = (sys.stderr.isatty() and fmt == "text") or (sys.stderr.isatty() and report is not None)
    if show_bar:
        with click.progressbar(length=0, label="checking", file=sys.stderr) as bar:
            request.on_total = lambda n: setattr(bar, "length", n)
            request.progress = bar.update
            result = run_package(request)
    else:
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
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Parallel checks.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
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
    home: Path | None,
) -> None:
    """Re-check a package: full bag checksums, the signed report (packager roots only), every asset and clearance."""
    check = verify_package(
        path, check_config(None, None, home, policy, "final", trust_flags, signers, revocations), workers
    )
    click.echo(VERIFY_PACKAGE_RENDERERS[fmt].render(check))
    sys.exit(check.exit_code)
