"""explain: how a file was made, in words (text or JSON), and optionally as one HTML page;
verify-report: check a report signed with `explain --format json --sign`.

explain exit codes: 0 the file verified as trusted and the policy (the built-in one unless
--policy FILE or --no-policy) blocks nothing; 1 the file failed verification (invalid, no
credentials, untrusted signer, unreadable, broken history) or the policy blocks it -- the
explanation is still printed; 2 usage or input error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from genai_provenance.cli import (
    FileArg,
    allow_remote_option,
    emit,
    format_option,
    handled,
    home_option,
    main,
    policy_option,
    revocations_option,
    trust_options,
    workspace_option,
)
from genai_provenance.credentials.thumbnails import collect_thumbnails
from genai_provenance.documents import read_document
from genai_provenance.explain.narrative import explain_file
from genai_provenance.explain.signed_report import verify_signed_report
from genai_provenance.policy.rules import load_policy
from genai_provenance.reports.html import explain_html, write_html
from genai_provenance.reports.renderers import explain_renderer, report_check_renderer
from genai_provenance.settings import packager_anchors, packager_identity, resolve_clearances, resolve_trust
from genai_provenance.trust.config import TrustFlags


@main.command(name="explain", short_help="Tell in plain words how a file (or an image sequence) was made.")
@click.argument("file", metavar="FILE|PATTERN", type=click.Path(path_type=Path))
@click.option("--html", "html_out", type=FileArg, help="Also write a self-contained HTML report to this file.")
@policy_option
@click.option("--no-policy", is_flag=True, help="Explain the credentials only; apply no policy.")
@click.option(
    "--sign",
    "sign_report_",
    is_flag=True,
    help="With --format json: sign the report with the packager identity (check it later with verify-report).",
)
@trust_options()
@revocations_option
@allow_remote_option
@home_option
@format_option
@handled
def explain_command(
    file: Path,
    html_out: Path | None,
    policy: Path | None,
    no_policy: bool,
    sign_report_: bool,
    trust_flags: TrustFlags,
    revocations: Path | None,
    allow_remote: bool,
    home: Path | None,
    fmt: str,
) -> None:
    """Explain how FILE was made: who signed each stage, when, what was done, and what is not proven.

    An image sequence pattern (name.%04d.exr, name.####.exr), or one frame of a signed sequence, is explained
    as the whole sequence: its signed record against the frames on disk, each frame problem named.
    """
    if no_policy and policy:
        raise click.UsageError("--policy and --no-policy exclude each other")
    if sign_report_ and fmt != "json":
        raise click.UsageError("--sign signs the JSON report: add --format json")
    rules = None if no_policy else load_policy(policy)
    settings = resolve_trust(None, home, allow_remote, trust_flags, rules)
    packager = packager_identity(home)[0] if sign_report_ else None  # fail before any work when there is none
    clearances = resolve_clearances(trust_flags.approver, home, revocations)
    result = explain_file(file, settings, clearances, rules)
    if html_out:
        pictures = collect_thumbnails(result.media or file, settings)
        write_html(html_out, explain_html(result.explanation, pictures), [file, *result.files])
    emit(explain_renderer(fmt, html_out, packager).render(result))
    sys.exit(result.exit_code)


@main.command(name="verify-report")
@click.argument("report", type=FileArg)
@click.option(
    "--packager-trust", type=FileArg, help="Packager roots (PEM) that may sign reports; default: the workspace's."
)
@workspace_option
@format_option
@handled
def verify_report(report: Path, packager_trust: Path | None, home: Path | None, fmt: str) -> None:
    """Check a report made by explain --sign.

    It must be intact and signed by a trusted packager (a report made with `explain --format json --sign`).
    """
    check = verify_signed_report(read_document(report), packager_anchors(packager_trust, home))
    emit(report_check_renderer(fmt, report).render(check))
    sys.exit(check.exit_code)
