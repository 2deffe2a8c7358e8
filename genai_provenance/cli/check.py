"""check (verify + clearances + policy) and preflight."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from genai_provenance.cli import (
    FileArg,
    cluster_options,
    emit,
    format_option,
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
    view_options,
    workers_option,
)
from genai_provenance.cli.progress import checking
from genai_provenance.credentials.disclosure import load as load_disclosure
from genai_provenance.errors import InputError
from genai_provenance.gate.discovery import discover_paths
from genai_provenance.gate.results import CheckResult
from genai_provenance.model.disclosure import Disclosure
from genai_provenance.policy.preflight import ANSWERS, PRINCIPLES, Answers, check_output, declare, write_declaration
from genai_provenance.policy.rules import load_policy
from genai_provenance.reports.renderers import check_renderer, declaration_renderer
from genai_provenance.schemas import terms
from genai_provenance.settings import check_config

if TYPE_CHECKING:
    from genai_provenance.gate.cluster import ClusterTarget
    from genai_provenance.reports.console import View
    from genai_provenance.trust.config import TrustFlags


@main.command(short_help="Verify assets and judge them against the policy.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@policy_option
@click.option(
    "--intended-use",
    type=click.Choice(terms("intended_use")),
    help="Judge every asset as this use instead of the one it declares.",
)
@signers_option
@trust_options()
@revocations_option
@ignores_option
@workers_option
@cluster_options
@home_option
@report_format_option()
@report_output_option
@view_options
@handled
def check(
    paths: tuple[Path, ...],
    policy: Path | None,
    intended_use: str | None,
    signers: Path | None,
    trust_flags: TrustFlags,
    revocations: Path | None,
    no_default_ignores: bool,
    workers: int,
    cluster: ClusterTarget | None,
    home: Path | None,
    fmt: str,
    output: Path | None,
    view: View,
) -> None:
    """Verify assets and judge them against the policy: findings, remedies, clearances."""
    config = check_config(None, None, home, policy, intended_use, trust_flags, signers, revocations)
    found = discover_paths(paths, default_ignores=not no_default_ignores)
    with checking(config, workers, cluster, found) as (executor, targets, bar):
        verdicts = executor.check([(t, None) for t in targets], bar.advance)
    result = CheckResult(verdicts, config.policy(), found)
    emit(check_renderer(fmt, view).render(result), output)
    sys.exit(result.exit_code)


class CommaChoices(click.ParamType):  # type: ignore[type-arg]  # click's ParamType is generic only in stubs
    """A comma-separated list of words from one vocabulary; a typo is refused, so the prompt asks again."""

    name = "list"

    def __init__(self, choices: list[str]) -> None:
        self.choices = choices

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        if isinstance(value, list):
            return value
        words = [w.strip() for w in str(value).split(",") if w.strip()]
        unknown = [w for w in words if w not in self.choices]
        if unknown:
            self.fail(f"{', '.join(map(repr, unknown))} is not one of: {', '.join(self.choices)}", param, ctx)
        if not words:
            self.fail("name at least one input kind", param, ctx)
        return list(dict.fromkeys(words))


def _choice(words: list[str] | tuple[str, ...]) -> click.Choice[str]:
    return click.Choice(list(words), case_sensitive=False)


def _ask_disclosure() -> tuple[Disclosure, Answers]:
    click.echo("Preflight: describe the intended GenAI use, then answer the five principle questions.")
    asset = {
        "title": click.prompt("Asset title"),
        "production": click.prompt("Production ID"),
        "asset_id": click.prompt("Asset or shot ID"),
        "intended_use": click.prompt("Intended use", type=_choice(terms("intended_use"))),
    }
    use = {
        "tool": {
            "name": click.prompt("GenAI tool name"),
            "vendor": click.prompt("Vendor (optional)", default="", show_default=False),
        },
        "action": click.prompt("What will it do", type=_choice(terms("action"))),
        "source_type": click.prompt(
            "Result",
            type=_choice(["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"]),
        ),
        "category": click.prompt("What is it for", type=_choice(terms("category"))),
        "description": click.prompt("Describe the use"),
        "inputs": [
            {"kind": k}
            for k in click.prompt(
                f"Input kinds, comma-separated ({', '.join(terms('input_kind'))})",
                default="text-prompt",
                type=CommaChoices(terms("input_kind")),
            )
        ],
    }
    answers = Answers({n: click.prompt(f"{n}. {q}", type=_choice(ANSWERS)) for n, q in PRINCIPLES.items()})
    return answers.declared(asset, use), answers


def _ask_or_explain() -> tuple[Disclosure, Answers]:
    """The questions; end of input or Ctrl-C becomes a one-line message, not click's bare "Aborted!"."""
    try:
        return _ask_disclosure()
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise InputError(
            "preflight: input ended before every question was answered; nothing was written "
            "(answer all questions, or pass --disclosure FILE)"
        ) from None


@main.command(short_help="Classify intended GenAI uses; print what clears them.")
@click.option("--disclosure", type=FileArg, help="The intended uses (YAML or JSON); without it, questions are asked.")
@click.option(
    "-o",
    "--output",
    type=FileArg,
    help="Write the declaration to this file (without -o nothing is written).",
)
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@policy_option
@format_option
@handled
def preflight(disclosure: Path | None, output: Path | None, force: bool, policy: Path | None, fmt: str) -> None:
    """Classify intended GenAI uses as notify, escalate or written-approval, and print the approval and
    consent requests that clear them."""
    rules = load_policy(policy)
    if output:  # before any question is asked
        check_output(output, force=force, source=disclosure)
    if disclosure:
        declared, answers = load_disclosure(disclosure), None
    else:
        declared, answers = _ask_or_explain()
    declaration = declare(declared, rules, answers)
    if output:
        write_declaration(declaration_renderer("json").render(declaration), output, force=force, source=disclosure)
    emit(declaration_renderer(fmt, output).render(declaration))
    sys.exit(declaration.exit_code)
