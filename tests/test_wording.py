"""User-facing wording: counted nouns, articles, help texts that show the right examples."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DISCLOSURES, MEDIA, CliResult

from genai_provenance.grammar import article, plural
from genai_provenance.workspace import init_workspace

Run = Callable[..., CliResult]

COMMANDS = [
    [],
    ["init"],
    ["sign"],
    ["verify"],
    ["check"],
    ["preflight"],
    ["package"],
    ["verify-package"],
    ["explain"],
    ["verify-report"],
    ["revocations", "export"],
    ["revocations", "import"],
    ["demo"],
    *(
        [group, sub]
        for group in ("approvals", "consents", "waivers")
        for sub in ("", "grant", "revoke", "list", "show", "export", "import")
    ),
]


def test_plural_and_article() -> None:
    assert [plural(n, "warning") for n in (0, 1, 2)] == ["0 warnings", "1 warning", "2 warnings"]
    assert plural(1, "asset") == "1 asset" and plural(3, "stray file") == "3 stray files"
    assert plural(2, "match") == "2 matches" and plural(2, "child", "children") == "2 children"
    assert [article(k) for k in ("approval", "consent", "revocation")] == ["an approval", "a consent", "a revocation"]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a) or "main")
def test_every_help_reads_cleanly(cli: Run, argv: list[str]) -> None:
    res = cli(*[a for a in argv if a], "--help")
    assert res.code == 0, res.stderr
    text = " ".join(res.stdout.split())
    assert "(default) (default)" not in text
    assert not re.search(r"\b([a-z]+) \1\b", text), text  # doubled word
    assert not re.search(r"\ba [aeiou]", text), text  # "a approval"
    assert "(s)" not in text
    summaries = [line for line in res.stdout.splitlines() if not line.startswith("Usage:")]
    assert not [line for line in summaries if line.rstrip().endswith("...")]  # no truncated command summary
    lines = res.stdout.splitlines()
    for line, after in zip(lines, [*lines[1:], ""], strict=True):  # every option says what it does
        wrapped = after.startswith(" " * 8)  # click puts the help of a long option on the next line
        if line.startswith("  -") and "  " not in line.strip() and not wrapped:
            pytest.fail(f"option without help: {line.strip()}")


def test_consents_help_shows_a_consent_id(cli: Run) -> None:
    consent = " ".join(cli("consents", "grant", "--help").stdout.split())
    approval = " ".join(cli("approvals", "grant", "--help").stdout.split())
    assert "Consent ID, e.g. CNS-" in consent and "APR-" not in consent
    assert "Approval ID, e.g. APR-2026-0042" in approval
    assert "final-deliverable" in approval and "final-deliverable" not in consent


def test_package_exclude_metavar_is_glob(cli: Run) -> None:
    assert "--exclude GLOB" in cli("package", "--help").stdout


def test_check_report_names_the_default_policy_once_and_counts_in_english(cli: Run, tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", "Wording Studio").workspace
    signed = tmp_path / "bg.jpg"
    env = {"GENAI_PROVENANCE_HOME": str(ws.home)}
    assert (
        cli("sign", MEDIA / "plate.jpg", "-o", signed, "--disclosure", DISCLOSURES / "bg_replace.json", env=env).code
        == 0
    )
    res = cli("check", signed, env=env)
    assert res.code == 1
    assert res.stdout.startswith("policy: Studio GenAI guidance (default)\n")
    assert "(default) (default)" not in res.stdout
    assert "1 asset: 0 pass, 1 blocked; findings: 2 blocking, 1 warning, 0 notices; 0 rules cleared" in res.stdout
    assert "(s)" not in res.stdout
    assert "not found: not embedded, not in the ledger" in res.stdout  # no nested parentheses


def test_wrong_kind_wording(cli: Run, tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", "Wording Studio").workspace
    env = {"GENAI_PROVENANCE_HOME": str(ws.home)}
    granted = cli(
        "approvals", "grant", "--id", "APR-1", "--production", "P", "--asset", "A", "--covers", "ideation", env=env
    )
    assert granted.code == 0, granted.stderr
    res = cli("consents", "revoke", "APR-1", "--reason", "test", env=env)
    assert res.code == 2
    assert res.stderr.strip().endswith("APR-1: is among the approvals, not the consents")
