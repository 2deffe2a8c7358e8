"""waivers: grant, revoke, list, show, export, import (signed policy waivers in the ledger)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from genai_provenance.clearances.ledger import LedgerError, export_bundle, revoke
from genai_provenance.clearances.records import parse_expiry
from genai_provenance.clearances.waivers import KIND, WaiverGrant, check_grant, grant_waiver, import_waivers
from genai_provenance.cli import EXIT_FAILED, FileArg, format_option, handled, home_option, main, policy_option
from genai_provenance.cli.clearances import _split, approver_key_options
from genai_provenance.documents import read_document
from genai_provenance.errors import InputError
from genai_provenance.files import write_text
from genai_provenance.policy.rules import load_policy
from genai_provenance.reports import json_report
from genai_provenance.reports.clearance_report import entries_document, entry_lines, ledger_line
from genai_provenance.settings import ApproverKeyOptions, resolve_approver, workspace_ledger


@click.group(
    name="waivers",
    short_help="Signed waivers of a policy rule for named assets.",
    help="Signed policy waivers in the workspace ledger: a rule lifted for named assets, for a reason, until a date.",
)
def waivers() -> None:
    pass


@waivers.command(name="grant", help="Sign and record a waiver of one policy rule.")
@click.option("--id", "record_id", required=True, metavar="ID", help="Waiver ID, e.g. WVR-2026-0003.")
@click.option("--rule", required=True, metavar="RULE", help="The policy rule ID to waive, e.g. GP-TRUST-001.")
@click.option("--production", required=True, metavar="ID", help="Production ID, e.g. PRJ-0042.")
@click.option(
    "--asset",
    "assets",
    multiple=True,
    metavar="ASSET",
    help="Asset IDs or patterns; for an asset without trusted credentials, matched against the file name only.",
)
@click.option(
    "--content-hash",
    "hashes",
    multiple=True,
    metavar="sha256:HEX",
    help="Exactly this file (its SHA-256): the strong form; repeatable.",
)
@click.option("--reason", required=True, help="Why the rule is waived (kept in the signed record).")
@click.option("--expires", required=True, metavar="DATE", help="Expiry date (YYYY-MM-DD) or ISO date-time.")
@policy_option
@approver_key_options
@home_option
@format_option
@handled
def grant_cmd(
    record_id: str,
    rule: str,
    production: str,
    assets: tuple[str, ...],
    hashes: tuple[str, ...],
    reason: str,
    expires: str,
    policy: Path | None,
    home: Path | None,
    fmt: str,
    approver: ApproverKeyOptions,
) -> None:
    request = WaiverGrant(
        record_id, rule, production, tuple(_split(assets)), tuple(_split(hashes)), reason, parse_expiry(expires)
    )
    rules = load_policy(policy)
    check_grant(request, rules)  # refused before any key is touched
    identity = resolve_approver(approver, home)
    with workspace_ledger(home) as ledger:
        grant_waiver(ledger, request, identity, rules)
        entry = ledger.get(record_id)
    if entry is None:  # pragma: no cover - grant_waiver() just stored it
        raise LedgerError(f"{record_id}: not found after granting")
    if fmt == "json":
        click.echo(json_report.dumps(entries_document([entry])))
    else:
        click.echo(f"Granted waiver {record_id} of {rule}, signed by {entry.record['issuer']['common_name']}")
        for line in entry_lines(entry, full=True):
            click.echo(f"  {line}")


@waivers.command(name="revoke", help="Sign and record the revocation of a waiver.")
@click.argument("record_id", metavar="ID")
@click.option("--reason", required=True, help="Why it is revoked (kept in the signed revocation).")
@approver_key_options
@home_option
@handled
def revoke_cmd(record_id: str, reason: str, home: Path | None, approver: ApproverKeyOptions) -> None:
    identity = resolve_approver(approver, home)
    with workspace_ledger(home) as ledger:
        revoke(ledger, record_id, KIND, reason, identity)
    click.echo(f"Revoked waiver {record_id}: {reason}")


@waivers.command(name="list", help="List waivers in the ledger.")
@home_option
@format_option
@handled
def list_cmd(home: Path | None, fmt: str) -> None:
    with workspace_ledger(home) as ledger:
        entries = ledger.entries(KIND)
    warning = ledger_line(ledger)
    if fmt == "json":
        click.echo(json_report.dumps(entries_document(entries, ledger)))
    else:
        if warning:
            click.echo(warning)
        if not entries:
            click.echo("no waivers in the ledger")
        for entry in entries:
            click.echo(entry_lines(entry)[0])
    if warning:
        sys.exit(EXIT_FAILED)


@waivers.command(name="show", help="Show one waiver.")
@click.argument("record_id", metavar="ID")
@home_option
@format_option
@handled
def show_cmd(record_id: str, home: Path | None, fmt: str) -> None:
    with workspace_ledger(home) as ledger:
        entry = ledger.get(record_id)
    if entry is None or entry.record["kind"] != KIND:
        raise LedgerError(f"{record_id}: no such waiver in the ledger")
    warning = ledger_line(ledger)
    if fmt == "json":
        click.echo(json_report.dumps(entries_document([entry], ledger)))
    else:
        click.echo("\n".join(([warning] if warning else []) + entry_lines(entry, full=True)))
    if warning:
        sys.exit(EXIT_FAILED)


@waivers.command(name="export", help="Write a waiver (and its revocation, if any) to a file.")
@click.argument("record_id", metavar="ID")
@click.option("-o", "--output", type=FileArg, required=True, help="File to write.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@home_option
@handled
def export_cmd(record_id: str, output: Path, force: bool, home: Path | None) -> None:
    if output.exists() and not force:
        raise InputError(f"{output}: already exists (use --force to replace it)")
    with workspace_ledger(home) as ledger:
        bundle = export_bundle(ledger, record_id, KIND)
    write_text(output, json.dumps(bundle, indent=2) + "\n")
    click.echo(f"Exported waiver {record_id} to {output}")


@waivers.command(name="import", help="Verify a waiver file's signatures and add it to the ledger.")
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
        added = import_waivers(ledger, document, str(path), identity)
    click.echo(f"Imported {', '.join(added)}" if added else "Already in the ledger; nothing to import")


main.add_command(waivers)
