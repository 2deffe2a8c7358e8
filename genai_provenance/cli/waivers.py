"""waivers: grant, revoke, list, show, export, import (signed policy waivers in the ledger)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from genai_provenance.clearances.outcomes import Granted
from genai_provenance.clearances.records import parse_expiry
from genai_provenance.clearances.waivers import KIND, WaiverGrant, check_grant, grant_waiver, import_waivers
from genai_provenance.cli import emit, format_option, handled, home_option, main, policy_option
from genai_provenance.cli.clearances import _split, add_record_commands, approver_key_options
from genai_provenance.policy.rules import load_policy
from genai_provenance.reports.renderers import GRANTED_RENDERERS
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
        granted = Granted.stored(ledger, record_id, KIND)
    emit(GRANTED_RENDERERS[fmt].render(granted))
    sys.exit(granted.exit_code)


add_record_commands(waivers, KIND, "waivers", import_waivers)
main.add_command(waivers)
