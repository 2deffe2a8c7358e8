"""init, sign, demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from genai_provenance.cli import (
    EXIT_FAILED,
    EXIT_OK,
    FileArg,
    FileOrFolderArg,
    _cores,
    emit,
    format_option,
    handled,
    home_option,
    main,
    workspace_option,
)
from genai_provenance.cli.progress import transfer_bar
from genai_provenance.credentials.digest import running_total
from genai_provenance.credentials.hsm import DEFAULT_MODULE, token_key
from genai_provenance.credentials.sign_asset import SignRequest, data_hashed, plan_output, sign_asset
from genai_provenance.reports.renderers import SIGN_RENDERERS
from genai_provenance.settings import (
    current_config_flag,
    current_ledger_flag,
    ocsp_profile,
    open_ledger,
    resolve_signer,
    resolve_trust,
)

if TYPE_CHECKING:
    from genai_provenance.demo import DemoStep


@main.command(short_help="Create the workspace and its development credentials.")
@workspace_option
@click.option("--org", default="Development Studio", show_default=True, help="Organisation named in the certificates.")
@click.option("--force", is_flag=True, help="Replace an existing workspace.")
@handled
def init(home: Path | None, org: str, force: bool) -> None:
    """Create the workspace: development root CA, signing identity, trust anchors."""
    from genai_provenance.workspace import init_workspace

    result = init_workspace(home, org, force=force)
    click.echo(f"{'Replaced' if result.replaced else 'Created'} workspace {result.workspace.home}")
    for label, path in result.files.items():
        click.echo(f"  {label}: {path}")
    click.echo("These are DEVELOPMENT credentials: fine for trying the tool, not for real deliverables.")
    click.echo("`sign` and `verify` now use them by default.")


@main.command(short_help="Sign a GenAI disclosure into a file or its .c2pa sidecar.")
@click.argument("input_path", metavar="INPUT", type=FileOrFolderArg, required=False)
@click.option(
    "-o",
    "--output",
    type=FileArg,
    help="Signed file to write (same format as INPUT); for a sidecar, the .c2pa file (default: INPUT.c2pa); "
    "for a folder or --batch, the report.",
)
@click.option(
    "--sidecar",
    is_flag=True,
    help="Leave INPUT untouched and write its manifest to INPUT.c2pa (always so for EXR, DPX, MXF, other formats).",
)
@click.option("--disclosure", type=FileArg, help="Disclosure file (YAML or JSON).")
@click.option(
    "--batch",
    "shotlist",
    type=FileArg,
    metavar="SHOTLIST.csv",
    help="Sign every file of a shot list (columns: file, disclosure, title; paths relative to it), as sidecars.",
)
@click.option(
    "--title",
    metavar="TEMPLATE",
    help="The disclosure's asset title, from the file name: {stem}, {name}, {parent} (e.g. '{stem}').",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=_cores,
    show_default="the machine's cores",
    help="Files (and frames of a sequence) signed in parallel: a folder, --batch or a sequence PATTERN.",
)
@click.option("--parent", type=FileArg, help="The asset this one was made from; its history is carried forward.")
@click.option(
    "--ingredient", "ingredients", type=FileArg, multiple=True, help="A component (placed element); repeatable."
)
@click.option("--cert", type=FileArg, help="Signing certificate chain (PEM, leaf first).")
@click.option("--key", type=FileArg, help="Private key (PEM) for --cert.")
@click.option(
    "--pkcs11-token",
    metavar="LABEL",
    help="Sign with a key in this PKCS#11 token (HSM) instead of --key; PIN from $GENAI_PROVENANCE_PKCS11_PIN.",
)
@click.option("--pkcs11-key", metavar="LABEL", help="Label of the signing key in --pkcs11-token.")
@click.option("--pkcs11-key-id", metavar="HEX", help="ID (hex) of the signing key in --pkcs11-token.")
@click.option(
    "--pkcs11-module",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"PKCS#11 module (default: {DEFAULT_MODULE}).",
)
@click.option("--trust", type=FileArg, help="Trust anchors (PEM) used to check what was written.")
@click.option("--tsa-url", metavar="URL", help="RFC 3161 time-stamp authority to time-stamp the signature.")
@click.option(
    "--record-broken-history",
    is_flag=True,
    help="Sign even when a parent or ingredient has tampered or unreadable credentials, recording that in the "
    "manifest (check and package will block the result).",
)
@click.option(
    "--no-thumbnail",
    "no_thumbnail",
    is_flag=True,
    help="Embed no thumbnail (for EXR, DPX and video ffmpeg decodes each file: the slowest part of a sequence).",
)
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists (a batch: replace existing sidecars).")
@click.option(
    "--frames",
    metavar="RANGE",
    help="With a sequence pattern INPUT (name.%04d.exr, name.####.exr, name.@.exr): the frames to sign, e.g. "
    "1001-1100 or 1001-1010,1020 (default: the frames on disk, which must be contiguous).",
)
@home_option
@format_option
@handled
def sign(
    input_path: Path | None,
    output: Path | None,
    sidecar: bool,
    disclosure: Path | None,
    shotlist: Path | None,
    title: str | None,
    workers: int,
    parent: Path | None,
    ingredients: tuple[Path, ...],
    cert: Path | None,
    key: Path | None,
    pkcs11_token: str | None,
    pkcs11_key: str | None,
    pkcs11_key_id: str | None,
    pkcs11_module: Path | None,
    trust: Path | None,
    tsa_url: str | None,
    record_broken_history: bool,
    no_thumbnail: bool,
    force: bool,
    frames: str | None,
    home: Path | None,
    fmt: str,
) -> None:
    """Embed a signed GenAI disclosure in INPUT, writing OUTPUT (or INPUT.c2pa beside INPUT: a sidecar).

    Approvals and consents the disclosure references are embedded when the ledger has them. An INPUT
    pattern (name.%04d.exr) signs every frame of an image sequence, each with its sidecar. A FOLDER (every
    media file under it) or a shot list (--batch FILE.csv) signs many files, each into its sidecar.
    """
    token = token_key(pkcs11_token, pkcs11_key, pkcs11_key_id, pkcs11_module)
    if shotlist is not None or (input_path is not None and input_path.is_dir()):
        if parent is not None or ingredients or frames is not None:
            raise click.UsageError(
                "--parent and --ingredient sign one file, --frames one sequence: not a folder or --batch"
            )
        from genai_provenance.cli.sign_batch import run_batch
        from genai_provenance.credentials.batch import BatchOptions, SignerSpec

        spec = SignerSpec(home, cert, key, tsa_url, token, trust, current_ledger_flag(), current_config_flag())
        options = BatchOptions(force, record_broken_history, title, thumbnail=not no_thumbnail)
        run_batch(input_path, shotlist, disclosure, spec, options, workers, fmt, output)
        return
    if input_path is None:
        raise click.UsageError("give INPUT (a file, a sequence pattern or a folder) or --batch SHOTLIST.csv")
    if disclosure is None:
        raise click.UsageError("missing option --disclosure FILE")
    from genai_provenance.credentials.sign_sequence import sequence_input

    pattern = sequence_input(input_path, frames)
    if pattern is not None:
        from genai_provenance.cli.sign_batch import run_pattern
        from genai_provenance.credentials.batch import BatchOptions, SignerSpec

        spec = SignerSpec(home, cert, key, tsa_url, token, trust, current_ledger_flag(), current_config_flag())
        options = BatchOptions(
            force,
            record_broken_history,
            title,
            thumbnail=not no_thumbnail,
            templated=False,
            parent=parent,
            ingredients=ingredients,
        )
        run_pattern(pattern, frames, disclosure, spec, options, workers, fmt, output)
        return
    plan = plan_output(input_path, output, sidecar)  # before the workspace opens
    identity = resolve_signer(cert, key, home, tsa_url, token)
    ledger = open_ledger(home)
    request = SignRequest(
        input_path,
        output,
        disclosure,
        identity,
        resolve_trust(trust, home),
        parent=parent,
        ingredients=list(ingredients),
        force=force,
        ledger=ledger,
        record_broken_history=record_broken_history,
        sidecar=sidecar,
        ocsp=ocsp_profile(home),
        title=title,
        thumbnail=not no_thumbnail,
    )
    if plan is not None and data_hashed(plan):
        with transfer_bar("signing", 1, input_path.stat().st_size) as bar:
            request.progress = running_total(bar.bytes_done)
            result = sign_asset(request)
            bar.file_done()
    else:  # c2pa reads and writes the file itself: its phases, and the input bytes it read
        from genai_provenance.cli.progress import stage_bar

        size = input_path.stat().st_size if input_path.is_file() else 0  # sign_asset names a missing input
        with stage_bar("signing", size) as stages:
            request.progress, request.on_stage = stages.bytes_read, stages.stage
            result = sign_asset(request)
    emit(SIGN_RENDERERS[fmt].render(result))


def _print_step(step: DemoStep) -> None:
    from genai_provenance.reports import text

    mark = "ok " if step.ok else "FAIL"
    click.echo(f"[{mark}] {step.title}")
    for line in step.lines:
        click.echo(f"       {line}")
    for report in step.reports:
        for line in text.asset_text(report):
            click.echo(f"       {line}")
    click.echo("")


@main.command(short_help="Run the main job end to end on bundled fixtures.")
@handled
def demo() -> None:
    """Run the main job end to end on bundled fixtures in a temporary workspace."""
    from genai_provenance.demo import run_demo
    from genai_provenance.reports import text

    click.echo("genai-provenance demo: a post house signs a plate and a GenAI sky replacement; QC verifies.\n")
    result = run_demo(on_step=_print_step)
    if result.ok:
        click.echo(
            "Demo complete: both stages verified as trusted, the tampered copy was caught, and the delivery was"
            " packaged only once its GenAI use was approved."
        )
        click.echo("Remember: " + text.SIGNATURE_LIMITS)
    sys.exit(EXIT_OK if result.ok else EXIT_FAILED)
