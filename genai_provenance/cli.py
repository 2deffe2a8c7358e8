"""Command line: parse, call the library, render, exit. No logic lives here."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from genai_provenance import __version__
from genai_provenance.demo import DemoStep, run_demo
from genai_provenance.errors import IdentityError, ProvenanceError
from genai_provenance.reports import json_report, text
from genai_provenance.sign import SignRequest, sign_asset
from genai_provenance.signing import load_identity, load_trust_anchors
from genai_provenance.verify import TrustSettings, verify_paths
from genai_provenance.workspace import init_workspace, open_workspace

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FileArg = click.Path(path_type=Path, dir_okay=False)
home_option = click.option(
    "--home",
    type=click.Path(path_type=Path, file_okay=False),
    help="Workspace folder (default: $GENAI_PROVENANCE_HOME, else ~/.local/share/genai-provenance).",
)
format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"genai-provenance: error: {message}", err=True)
    sys.exit(code)


def handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one-line messages and exit codes; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ProvenanceError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; nothing partial was left behind", 130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            fail(f"unexpected {exc.__class__.__name__}: {' '.join(str(exc).split())}")

    return wrapper


def trust_settings(trust: Path | None, home: Path | None, allow_remote: bool = False) -> TrustSettings:
    if trust:
        return TrustSettings(load_trust_anchors(trust), allow_remote)
    try:
        return TrustSettings(open_workspace(home).trust_anchors(), allow_remote)
    except ProvenanceError:
        return TrustSettings(None, allow_remote)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="genai-provenance")
def main() -> None:
    """Signed GenAI disclosures (C2PA Content Credentials) for film and TV production."""


@main.command()
@home_option
@click.option("--org", default="Development Studio", show_default=True, help="Organisation named in the certificates.")
@click.option("--force", is_flag=True, help="Replace an existing workspace.")
@handled
def init(home: Path | None, org: str, force: bool) -> None:
    """Create the workspace: development root CA, signing identity, trust anchors."""
    result = init_workspace(home, org, force=force)
    click.echo(f"{'Replaced' if result.replaced else 'Created'} workspace {result.workspace.home}")
    for label, path in result.files.items():
        click.echo(f"  {label}: {path}")
    click.echo("These are DEVELOPMENT credentials: fine for trying the tool, not for real deliverables.")
    click.echo("`sign` and `verify` now use them by default.")


@main.command()
@click.argument("input_path", metavar="INPUT", type=FileArg)
@click.option("-o", "--output", type=FileArg, required=True, help="Signed file to write (same format as INPUT).")
@click.option("--disclosure", type=FileArg, required=True, help="Disclosure file (YAML or JSON).")
@click.option("--parent", type=FileArg, help="The asset this one was made from; its history is carried forward.")
@click.option(
    "--ingredient", "ingredients", type=FileArg, multiple=True, help="A component (placed element); repeatable."
)
@click.option("--cert", type=FileArg, help="Signing certificate chain (PEM, leaf first).")
@click.option("--key", type=FileArg, help="Private key (PEM) for --cert.")
@click.option("--trust", type=FileArg, help="Trust anchors (PEM) used to check what was written.")
@click.option("--tsa-url", help="RFC 3161 time-stamp authority URL.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@home_option
@format_option
@handled
def sign(
    input_path: Path,
    output: Path,
    disclosure: Path,
    parent: Path | None,
    ingredients: tuple[Path, ...],
    cert: Path | None,
    key: Path | None,
    trust: Path | None,
    tsa_url: str | None,
    force: bool,
    home: Path | None,
    fmt: str,
) -> None:
    """Embed a signed GenAI disclosure in INPUT, writing OUTPUT."""
    if bool(cert) != bool(key):
        raise IdentityError("--cert and --key go together")
    identity = load_identity(cert, key, tsa_url) if cert and key else open_workspace(home).identity(tsa_url)
    result = sign_asset(
        SignRequest(
            input_path,
            output,
            disclosure,
            identity,
            trust_settings(trust, home),
            parent=parent,
            ingredients=list(ingredients),
            force=force,
        )
    )
    if fmt == "json":
        click.echo(json_report.dumps(json_report.sign_document(result)))
        return
    click.echo(f"Signed {result.output} ({result.report.status})")
    if result.parent:
        origin = "the input's own credentials" if result.parent_was_input else str(result.parent)
        click.echo(f"  history carried forward from {origin}")
    for warning in result.warnings:
        click.echo(f"  warning: {warning}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--trust", type=FileArg, help="Trust anchors (PEM); default: the workspace's.")
@click.option("--allow-remote", is_flag=True, help="Fetch remote manifests over the network.")
@home_option
@format_option
@handled
def verify(paths: tuple[Path, ...], trust: Path | None, allow_remote: bool, home: Path | None, fmt: str) -> None:
    """Check the Content Credentials of files and folders (recursive)."""
    settings = trust_settings(trust, home, allow_remote)
    reports = verify_paths(paths, settings)
    if fmt == "json":
        click.echo(json_report.dumps(json_report.verify_document(reports)))
    else:
        if settings.anchors_pem is None:
            click.echo("note: no trust anchors (no --trust and no workspace): no signer can be trusted\n")
        click.echo(text.verify_text(reports))
    sys.exit(EXIT_OK if all(r.passed for r in reports) else EXIT_FAILED)


def _print_step(step: DemoStep) -> None:
    mark = "ok " if step.ok else "FAIL"
    click.echo(f"[{mark}] {step.title}")
    for line in step.lines:
        click.echo(f"       {line}")
    for report in step.reports:
        for line in text.asset_text(report):
            click.echo(f"       {line}")
    click.echo("")


@main.command()
@handled
def demo() -> None:
    """Run the main job end to end on bundled fixtures in a temporary workspace."""
    click.echo("genai-provenance demo: a post house signs a plate and a GenAI sky replacement; QC verifies.\n")
    result = run_demo(on_step=_print_step)
    if result.ok:
        click.echo("Demo complete: both stages verified as trusted, and the tampered copy was caught.")
        click.echo("Remember: " + text.SIGNATURE_LIMITS)
    sys.exit(EXIT_OK if result.ok else EXIT_FAILED)
