"""approvals and consents: grant, revoke, list, show, export, import."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from genai_provenance.clearances.ledger import Grant, export_bundle, grant, import_document, revoke
from genai_provenance.clearances.outcomes import (
    Exported,
    Granted,
    Imported,
    ListExported,
    ListImported,
    RecordKind,
    RecordListing,
    Revoked,
)
from genai_provenance.clearances.records import load_anchors, parse_expiry
from genai_provenance.clearances.revocations import (
    DEFAULT_VALID_DAYS,
    check_not_older,
    export_list,
    read_list,
    store_list,
)
from genai_provenance.cli import FileArg, emit, format_option, handled, home_option, main, workspace_option
from genai_provenance.credentials.hsm import DEFAULT_MODULE, ENV_PIN
from genai_provenance.documents import read_document
from genai_provenance.errors import InputError
from genai_provenance.files import refuse_existing, write_text
from genai_provenance.grammar import article
from genai_provenance.reports.renderers import (
    EXPORTED_TEXT,
    GRANTED_RENDERERS,
    IMPORTED_TEXT,
    LIST_EXPORTED_TEXT,
    LIST_IMPORTED_TEXT,
    LISTING_RENDERERS,
    REVOKED_TEXT,
)
from genai_provenance.settings import ApproverKeyOptions, resolve_approver, tsa_anchors, workspace_ledger
from genai_provenance.workspace import open_workspace


def approver_key_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--cert/--key or --cert + --pkcs11-token/--pkcs11-key: who signs, gathered into `approver`."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        cert: Path | None,
        key: Path | None,
        pkcs11_token: str | None,
        pkcs11_key: str | None,
        pkcs11_module: Path | None,
        tsa_url: str | None,
        **kwargs: Any,
    ) -> Any:
        kwargs["approver"] = ApproverKeyOptions(cert, key, pkcs11_token, pkcs11_key, pkcs11_module, tsa_url)
        return fn(*args, **kwargs)

    options = [
        click.option("--cert", type=FileArg, help="Approver certificate chain (PEM, leaf first); default: workspace."),
        click.option("--key", type=FileArg, help="Its private key (PEM), unless the key is in a token."),
        click.option(
            "--pkcs11-token", metavar="LABEL", help=f"PKCS#11 token holding the approver key (PIN: ${ENV_PIN})."
        ),
        click.option("--pkcs11-key", metavar="LABEL", help="Label of the approver key in --pkcs11-token."),
        click.option("--pkcs11-module", type=FileArg, help=f"PKCS#11 module (default {DEFAULT_MODULE})."),
        click.option("--tsa-url", help="RFC 3161 time-stamp authority; default: the workspace's, if any."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def add_record_commands(
    group: click.Group, kind: RecordKind, plural: str, importer: Callable[..., list[str]] = import_document
) -> None:
    """revoke, list, show, export and import for one kind of signed record (approvals, consents, waivers)."""
    a_kind = article(kind)

    @group.command(name="revoke", help=f"Sign and record the revocation of {a_kind}.")
    @click.argument("record_id", metavar="ID")
    @click.option("--reason", required=True, help="Why it is revoked (kept in the signed revocation).")
    @approver_key_options
    @home_option
    @handled
    def revoke_cmd(record_id: str, reason: str, home: Path | None, approver: ApproverKeyOptions) -> None:
        identity = resolve_approver(approver, home)
        with workspace_ledger(home) as ledger:
            revoke(ledger, record_id, kind, reason, identity)
        revoked = Revoked(kind, record_id, reason)
        emit(REVOKED_TEXT.render(revoked))
        sys.exit(revoked.exit_code)

    @group.command(name="list", help=f"List {plural} in the ledger.")
    @home_option
    @format_option
    @handled
    def list_cmd(home: Path | None, fmt: str) -> None:
        with workspace_ledger(home) as ledger:
            listing = RecordListing.listing(ledger, kind, plural)
        emit(LISTING_RENDERERS[fmt].render(listing))
        sys.exit(listing.exit_code)

    @group.command(name="show", help=f"Show one {kind}.")
    @click.argument("record_id", metavar="ID")
    @home_option
    @format_option
    @handled
    def show_cmd(record_id: str, home: Path | None, fmt: str) -> None:
        with workspace_ledger(home) as ledger:
            shown = RecordListing.shown(ledger, record_id, kind, plural)
        emit(LISTING_RENDERERS[fmt].render(shown))
        sys.exit(shown.exit_code)

    @group.command(name="export", help=f"Write {a_kind} (and its revocation, if any) to a file.")
    @click.argument("record_id", metavar="ID")
    @click.option("-o", "--output", type=FileArg, required=True, help="File to write.")
    @click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
    @home_option
    @handled
    def export_cmd(record_id: str, output: Path, force: bool, home: Path | None) -> None:
        refuse_existing(output, force)
        with workspace_ledger(home) as ledger:
            bundle = export_bundle(ledger, record_id, kind)
        write_text(output, json.dumps(bundle, indent=2) + "\n")
        exported = Exported(kind, record_id, output)
        emit(EXPORTED_TEXT.render(exported))
        sys.exit(exported.exit_code)

    @group.command(name="import", help=f"Verify {a_kind} file's signatures and add it to the ledger.")
    @click.argument("path", type=FileArg, metavar="FILE")
    @approver_key_options
    @home_option
    @handled
    def import_cmd(path: Path, home: Path | None, approver: ApproverKeyOptions) -> None:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        document = read_document(path)
        identity = resolve_approver(approver, home)  # signs the ledger's new head
        with workspace_ledger(home) as ledger:
            added = importer(ledger, document, str(path), identity)
        imported = Imported(tuple(added))
        emit(IMPORTED_TEXT.render(imported))
        sys.exit(imported.exit_code)


def _group(kind: RecordKind, plural: str) -> click.Group:
    @click.group(name=plural, help=f"Signed {kind} records in the workspace ledger.")
    def group() -> None:
        pass

    example = "APR-2026-0042" if kind == "approval" else "CNS-2026-0007"
    covers = (
        "Categories covered, plus final-deliverable for use in a final deliverable; comma-separated or repeated."
        if kind == "approval"
        else "Categories covered (e.g. digital-replica, voice); comma-separated or repeated."
    )
    common = [
        click.option("--id", "record_id", required=True, metavar="ID", help=f"{kind.capitalize()} ID, e.g. {example}."),
        click.option("--production", required=True, metavar="ID", help="Production ID, e.g. PRJ-0042."),
        click.option(
            "--asset",
            "assets",
            multiple=True,
            required=True,
            metavar="ASSET",
            help="Asset IDs or patterns (EP101_SH0*); comma-separated or repeated.",
        ),
        click.option(
            "--covers",
            multiple=True,
            required=True,
            metavar="CATEGORY",
            help=covers,
        ),
        click.option("--expires", metavar="DATE", help="Expiry date (YYYY-MM-DD) or ISO date-time."),
        click.option("--note", help="Free text kept in the signed record."),
        click.option("--condition", "conditions", multiple=True, help="A condition of the clearance; repeatable."),
        click.option(
            "--content-hash",
            "hashes",
            multiple=True,
            metavar="sha256:HEX",
            help="Limit to this exact delivered file (its SHA-256); repeatable.",
        ),
    ]
    if kind == "consent":
        common += [
            click.option("--talent", required=True, metavar="NAME", help="The performer's name."),
            click.option("--talent-id", required=True, metavar="ID", help="A stable ID for the performer."),
            click.option("--guild-ref", metavar="REF", help="Guild agreement reference."),
        ]

    def grant_cmd(
        record_id: str,
        production: str,
        assets: tuple[str, ...],
        covers: tuple[str, ...],
        expires: str | None,
        note: str | None,
        conditions: tuple[str, ...],
        hashes: tuple[str, ...],
        home: Path | None,
        fmt: str,
        approver: ApproverKeyOptions,
        talent: str | None = None,
        talent_id: str | None = None,
        guild_ref: str | None = None,
    ) -> None:
        identity = resolve_approver(approver, home)
        request = Grant(
            kind,
            record_id,
            production,
            _split(assets),
            _split(covers),
            parse_expiry(expires) if expires else None,
            note,
            conditions,
            hashes,
            talent,
            talent_id,
            guild_ref,
        )
        with workspace_ledger(home) as ledger:
            grant(ledger, request, identity)
            granted = Granted.stored(ledger, record_id, kind)
        emit(GRANTED_RENDERERS[fmt].render(granted))
        sys.exit(granted.exit_code)

    command = grant_cmd
    for option in reversed(common):
        command = option(command)
    group.command(name="grant", help=f"Sign and record a new {kind}.")(
        approver_key_options(handled(home_option(format_option(command))))
    )

    add_record_commands(group, kind, plural)
    return group


main.add_command(_group("approval", "approvals"))
main.add_command(_group("consent", "consents"))


@click.group(
    name="revocations",
    short_help="Signed revocation lists for QC away from the ledger.",
    help="Signed revocation lists: check revocation where the studio ledger is not.",
)
def revocations() -> None:
    pass


@revocations.command(name="export", help="Write every revocation in the ledger as one signed list.")
@click.option("-o", "--output", type=FileArg, required=True)
@click.option(
    "--valid-for",
    "valid_for",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_VALID_DAYS,
    show_default=True,
    help="Days until the list's next update; after that it is refused.",
)
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@approver_key_options
@home_option
@handled
def revocations_export(
    output: Path, valid_for: float, force: bool, home: Path | None, approver: ApproverKeyOptions
) -> None:
    refuse_existing(output, force)
    identity = resolve_approver(approver, home)
    with workspace_ledger(home) as ledger:
        document = export_list(ledger, identity, dt.timedelta(days=valid_for))
    write_text(output, json.dumps(document, indent=2) + "\n")
    exported = ListExported.of(document, output)
    emit(LIST_EXPORTED_TEXT.render(exported))
    sys.exit(exported.exit_code)


@revocations.command(name="import", help="Verify a revocation list and keep it in the workspace for checks.")
@click.argument("path", type=FileArg)
@workspace_option
@handled
def revocations_import(path: Path, home: Path | None) -> None:
    ws = open_workspace(home)
    listed = read_list(path, load_anchors(ws.approver_anchors()), tsa_anchors=tsa_anchors(home))  # as checks will
    check_not_older(ws.home, listed)
    stored = store_list(ws.home, path)
    imported = ListImported(listed, stored)
    emit(LIST_IMPORTED_TEXT.render(imported))
    sys.exit(imported.exit_code)


main.add_command(revocations)
