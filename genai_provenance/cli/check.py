"""check (verify + clearances + policy) and preflight."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from genai_provenance.check import CheckSettings, check_paths
from genai_provenance.cli import (
    EXIT_FAILED,
    EXIT_OK,
    FileArg,
    approver_trust_option,
    format_option,
    handled,
    home_option,
    ignores_option,
    main,
    policy_option,
    trust_option,
)
from genai_provenance.disclosure import check as check_disclosure
from genai_provenance.disclosure import load as load_disclosure
from genai_provenance.discovery import discover_paths
from genai_provenance.files import write_text
from genai_provenance.policy import load_policy
from genai_provenance.preflight import ANSWERS, PRINCIPLES, Answers, declare
from genai_provenance.reports import json_report
from genai_provenance.reports.check_report import check_document, check_text, declaration_text
from genai_provenance.schemas import terms
from genai_provenance.settings import resolve_clearances, resolve_trust


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@policy_option
@click.option(
    "--intended-use",
    type=click.Choice(terms("intended_use")),
    help="Judge every asset as this use instead of the one it declares.",
)
@trust_option
@approver_trust_option
@ignores_option
@home_option
@format_option
@handled
def check(
    paths: tuple[Path, ...],
    policy: Path | None,
    intended_use: str | None,
    trust: Path | None,
    approver_trust: Path | None,
    no_default_ignores: bool,
    home: Path | None,
    fmt: str,
) -> None:
    """Verify assets and judge them against the policy: findings, remedies, clearances."""
    rules = load_policy(policy)
    settings = CheckSettings(resolve_trust(trust, home), rules, resolve_clearances(approver_trust, home), intended_use)
    found = discover_paths(paths, default_ignores=not no_default_ignores)
    verdicts = check_paths(found, settings)
    if fmt == "json":
        click.echo(json_report.dumps(check_document(verdicts, rules, found)))
    else:
        click.echo(check_text(verdicts, rules, found))
    sys.exit(EXIT_FAILED if any(v.blocked for v in verdicts) else EXIT_OK)


def _ask_disclosure() -> tuple[dict, Answers]:
    click.echo("Preflight: describe the intended GenAI use, then answer the five principle questions.")
    asset = {
        "title": click.prompt("Asset title"),
        "production": click.prompt("Production ID"),
        "asset_id": click.prompt("Asset or shot ID"),
        "intended_use": click.prompt("Intended use", type=click.Choice(terms("intended_use"))),
    }
    use = {
        "tool": {"name": click.prompt("GenAI tool name"), "vendor": click.prompt("Vendor", default="")},
        "action": click.prompt("What will it do", type=click.Choice(terms("action"))),
        "source_type": click.prompt(
            "Result",
            type=click.Choice(
                ["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"]
            ),
        ),
        "category": click.prompt("What is it for", type=click.Choice(terms("category"))),
        "description": click.prompt("Describe the use"),
        "inputs": [
            {"kind": k}
            for k in click.prompt(
                f"Input kinds, comma-separated ({', '.join(terms('input_kind'))})", default="text-prompt"
            ).split(",")
            if k.strip()
        ],
    }
    answers = Answers({n: click.prompt(f"{n}. {q}", type=click.Choice(ANSWERS)) for n, q in PRINCIPLES.items()})
    return check_disclosure(answers.disclosure(asset, use), "answers"), answers


@main.command()
@click.option("--disclosure", type=FileArg, help="The intended uses (YAML or JSON); without it, questions are asked.")
@click.option(
    "-o",
    "--output",
    type=FileArg,
    help="Declaration to write (default: <asset_id>.declaration.json in the current folder).",
)
@policy_option
@format_option
@handled
def preflight(disclosure: Path | None, output: Path | None, policy: Path | None, fmt: str) -> None:
    """Classify intended GenAI uses as notify, escalate or written-approval; write a declaration."""
    rules = load_policy(policy)
    if disclosure:
        document, answers = load_disclosure(disclosure), None
    else:
        document, answers = _ask_disclosure()
    declaration = declare(document, rules, answers)
    target = output or Path(f"{document['asset']['asset_id']}.declaration.json")
    write_text(target, json.dumps(declaration, indent=2, ensure_ascii=False) + "\n")
    if fmt == "json":
        click.echo(json_report.dumps(declaration))
    else:
        click.echo(declaration_text(declaration, str(target)))
