"""explain: how a file was made, in words (text or JSON), and optionally as one HTML page.

Exit codes: 0 the file verified as trusted (and, with --policy, nothing blocks it); 1 the file
failed verification (invalid, no credentials, untrusted signer, unreadable) or the policy blocks
it -- the explanation is still printed; 2 usage or input error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from genai_provenance.cli import (
    EXIT_FAILED,
    EXIT_OK,
    FileArg,
    allow_remote_option,
    approver_trust_option,
    format_option,
    handled,
    home_option,
    main,
    revocations_option,
    trust_option,
)
from genai_provenance.explain import explain_file
from genai_provenance.policy import load_policy
from genai_provenance.reports import json_report
from genai_provenance.reports.explain_text import explain_text
from genai_provenance.reports.html import explain_html, write_html
from genai_provenance.settings import resolve_clearances, resolve_trust
from genai_provenance.thumbnails import collect_thumbnails


@main.command(name="explain")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--html", "html_out", type=FileArg, help="Also write a self-contained HTML report to this file.")
@click.option("--policy", type=FileArg, help="A studio policy file (YAML or JSON): say what it finds.")
@trust_option
@approver_trust_option
@revocations_option
@allow_remote_option
@home_option
@format_option
@handled
def explain_command(
    file: Path,
    html_out: Path | None,
    policy: Path | None,
    trust: Path | None,
    approver_trust: Path | None,
    revocations: Path | None,
    allow_remote: bool,
    home: Path | None,
    fmt: str,
) -> None:
    """Explain how FILE was made: who signed each stage, when, what was done, and what is not proven."""
    settings = resolve_trust(trust, home, allow_remote)
    rules = load_policy(policy) if policy else None
    result = explain_file(file, settings, resolve_clearances(approver_trust, home, revocations), rules)
    if html_out:
        write_html(html_out, explain_html(result.explanation, collect_thumbnails(file, settings)), file)
    if fmt == "json":
        click.echo(json_report.dumps(result.to_document(html_out)))
    else:
        if settings.anchors_pem is None:
            click.echo("note: no trust anchors (no --trust and no workspace): no signer can be trusted\n")
        click.echo(explain_text(result.explanation), nl=False)
        if html_out:
            click.echo(f"\nHTML report written to {html_out}")
    sys.exit(EXIT_OK if result.passed else EXIT_FAILED)
