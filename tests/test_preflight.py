"""`preflight`: classify intended GenAI uses before the work starts and write a declaration for legal."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI_COMMAND, DISCLOSURES, ERROR_PREFIX, MEDIA, CliResult

from genai_provenance.policy import default_policy
from genai_provenance.preflight import DECLARATION_FORMAT, PRINCIPLES, Answers, declare
from genai_provenance.schemas import validator
from genai_provenance.workspace import init_workspace

DATA = Path(__file__).resolve().parent / "data"
Run = Callable[..., CliResult]


def preflight(cli: Run, disclosure: Path, out: Path, *extra: Any) -> dict[str, Any]:
    """`preflight --format json`: the printed declaration equals the file written, and validates."""
    res = cli("preflight", "--disclosure", disclosure, "-o", out, "--format", "json", *extra)
    assert res.code == 0, res.stderr
    printed = res.json()
    assert json.loads(out.read_text(encoding="utf-8")) == printed
    validator("declaration").validate(printed)
    return printed


def rule_ids(use: dict[str, Any]) -> list[str]:
    return [r["id"] for r in use["rules"]]


def test_background_replacement_needs_written_approval(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "decl.json"
    doc = preflight(cli, DISCLOSURES / "bg_replace.json", out)
    assert doc["format"] == DECLARATION_FORMAT and doc["principles"] is None
    assert doc["policy"] == default_policy().name
    assert (
        doc["asset"]["asset_id"] == "EP101_SH010" and doc["disclosure"]["genai"][0]["category"] == "background-element"
    )
    assert doc["overall"] == "written-approval"
    [use] = doc["uses"]
    assert use["classification"] == "written-approval" and rule_ids(use) == ["GP-FINAL-001"]
    assert use["needs"] == ["an approval covering final-deliverable, background-element"]
    [request] = use["requests"]
    argv = shlex.split(request)
    assert argv[:3] == ["genai-provenance", "approvals", "grant"]
    assert argv[argv.index("--covers") + 1].split(",") == ["final-deliverable", "background-element"]
    assert argv[argv.index("--production") + 1] == "PRJ-0042" and argv[argv.index("--asset") + 1] == "EP101_SH010"
    assert any("GP-BACKGROUND-001" in r for r in use["reasons"])  # the lesser rule is still named

    text = cli("preflight", "--disclosure", DISCLOSURES / "bg_replace.json", "-o", tmp_path / "again.json")
    assert text.code == 0
    assert (
        "overall: WRITTEN-APPROVAL" in text.stdout
        and f"declaration written to {tmp_path / 'again.json'}" in text.stdout
    )
    assert "request: genai-provenance approvals grant" in text.stdout


def test_the_requested_approval_is_what_the_gate_needs(cli: Run, tmp_path: Path) -> None:
    """Legal runs the request preflight wrote (with a real ID); the signed comp then passes check."""
    ws = init_workspace(tmp_path / "ws", "Preflight Studio").workspace
    doc = preflight(cli, DATA / "comp_bg_approved.json", tmp_path / "decl.json")
    argv = shlex.split(doc["uses"][0]["requests"][0])[1:]
    argv[argv.index("--id") + 1] = "APR-2026-0042"  # the ID the disclosure cites
    assert cli(*argv, "--home", ws.home).code == 0
    signed = tmp_path / "comp.jpg"
    assert (
        cli(
            "sign", MEDIA / "plate.jpg", "-o", signed, "--disclosure", DATA / "comp_bg_approved.json", "--home", ws.home
        ).code
        == 0
    )
    assert cli("check", signed, "--home", ws.home).code == 0


def test_moodboard_is_notify_only(cli: Run, tmp_path: Path) -> None:
    doc = preflight(cli, DISCLOSURES / "moodboard.yaml", tmp_path / "decl.json")
    assert doc["overall"] == "notify"
    [use] = doc["uses"]
    assert (use["classification"], rule_ids(use)) == ("notify", ["GP-NOTIFY-001"])
    assert use["needs"] == [] and use["requests"] == []


def test_a_tool_that_trains_on_inputs_is_escalated(cli: Run, tmp_path: Path) -> None:
    [use] = preflight(cli, DATA / "trains_on_inputs.yaml", tmp_path / "temp.json")["uses"]
    assert (use["classification"], rule_ids(use)) == ("escalate", ["GP-DATA-001"])
    assert use["needs"] == ["an approval covering previs-temp"]
    # In a final deliverable it needs written approval, and the training problem is still named.
    [use] = preflight(cli, DATA / "trains_on_inputs_final.yaml", tmp_path / "final.json")["uses"]
    assert use["classification"] == "written-approval"
    assert any(r.startswith("also GP-DATA-001 (escalate)") for r in use["reasons"]), use["reasons"]


def test_digital_replica_asks_for_consent_and_approval(cli: Run, tmp_path: Path) -> None:
    [use] = preflight(cli, DATA / "replica_no_consent.yaml", tmp_path / "d.json")["uses"]
    assert use["classification"] == "written-approval"
    assert {"GP-TALENT-001", "GP-TALENT-002", "GP-TALENT-003"} <= set(rule_ids(use))
    assert use["needs"] == [
        "an approval covering final-deliverable, digital-replica",
        "a consent covering digital-replica",
    ]
    consent = next(r for r in use["requests"] if " consents grant " in r)
    assert "--talent NAME --talent-id TID" in consent and "--covers digital-replica" in consent


def test_overall_is_the_strictest_use_and_non_generative_uses_notify() -> None:
    disclosure = {
        "asset": {"title": "t", "production": "P", "asset_id": "A1", "intended_use": "temporary"},
        "genai": [
            {
                "tool": {"name": "Denoiser"},
                "action": "edited",
                "source_type": "algorithmicMedia",
                "category": "cleanup-restoration",
            },
            {
                "tool": {"name": "Gen"},
                "action": "created",
                "source_type": "trainedAlgorithmicMedia",
                "category": "ideation",
                "data_handling": {"enterprise_environment": False},
            },
            {
                "tool": {"name": "Gen"},
                "action": "created",
                "source_type": "trainedAlgorithmicMedia",
                "category": "ideation",
            },
        ],
    }
    doc = declare(disclosure, default_policy())
    validator("declaration").validate(doc)
    assert [u["classification"] for u in doc["uses"]] == ["notify", "escalate", "notify"]
    assert doc["uses"][0]["reasons"] == ["the declared source type is not generative"]
    assert rule_ids(doc["uses"][1]) == ["GP-DATA-002"]
    assert doc["overall"] == "escalate"


def test_bad_disclosure_writes_nothing(cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((DISCLOSURES / "moodboard.yaml").read_text().replace("category: ideation", "category: vibes"))
    out = tmp_path / "decl.json"
    res = cli("preflight", "--disclosure", bad, "-o", out)
    assert res.code == 2 and res.error_lines[0].startswith(f"{ERROR_PREFIX}{bad}: genai[0].category")
    assert len(res.error_lines) == 1 and not out.exists()


# --------------------------------------------------------------------------- interactive


def answers_for(*principles: str, intended_use: str = "temporary", category: str = "ideation") -> str:
    """Keyboard input for the interactive preflight: the use, then the five principle answers."""
    fields = [
        "EP101 mood frame 05",  # asset title
        "PRJ-0042",  # production
        "EP101_MB05",  # asset ID
        intended_use,
        "Firefly Image",  # tool
        "Adobe",  # vendor
        "created",  # action
        "trainedAlgorithmicMedia",  # result
        category,
        "mood frame for the night market",
        "",  # input kinds: the default (text-prompt)
        *principles,
    ]
    return "\n".join(fields) + "\n"


@pytest.mark.parametrize(
    ("principles", "classification", "reason"),
    [
        (["yes"] * 5, "notify", None),
        (["yes", "unsure", "yes", "yes", "yes"], "escalate", "principle 2 answered unsure: escalate"),
        (["yes", "yes", "yes", "yes", "unsure"], "escalate", "principle 5 answered unsure: escalate"),
        (["yes", "maybe", "no", "yes", "yes", "yes"], "escalate", "principle 2 answered no: escalate"),
    ],
    ids=["all-yes", "unsure-data", "unsure-talent", "retyped-no"],
)
def test_interactive_preflight_asks_the_five_questions(
    principles: list[str], classification: str, reason: str | None, tmp_path: Path
) -> None:
    done = subprocess.run(
        [*CLI_COMMAND, "preflight", "--format", "json"],
        input=answers_for(*principles),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for n, question in PRINCIPLES.items():
        assert f"{n}. {question}" in done.stdout
    written = tmp_path / "EP101_MB05.declaration.json"  # the default name, in the current folder
    doc = json.loads(written.read_text(encoding="utf-8"))
    validator("declaration").validate(doc)
    assert done.stdout.rstrip().endswith(json.dumps(doc, indent=2, ensure_ascii=False))
    given = [p for p in principles if p != "maybe"]  # an answer outside yes/no/unsure is asked again
    assert doc["principles"] == {str(n): a for n, a in enumerate(given, start=1)}
    assert doc["asset"] == {
        "title": "EP101 mood frame 05",
        "production": "PRJ-0042",
        "asset_id": "EP101_MB05",
        "intended_use": "temporary",
    }
    [use] = doc["uses"]
    assert use["classification"] == classification == doc["overall"]
    assert doc["disclosure"]["genai"][0]["inputs"] == [{"kind": "text-prompt"}]
    if reason:
        assert reason in use["reasons"]
        assert use["reasons"][0].startswith("principle ")
        if "unsure" in reason:
            # No rule can see an "unsure": the answer decided, so no notify-only rule is named as the cause.
            assert use["rules"] == []
    else:
        assert rule_ids(use) == ["GP-NOTIFY-001"]
    if principles[1] == "maybe":  # "no" to principle 2 records a tool that trains on and retains inputs
        assert doc["disclosure"]["genai"][0]["data_handling"]["trains_on_inputs"] is True
        assert "GP-DATA-001" in rule_ids(use)


def test_answers_map_to_data_handling() -> None:
    answers = Answers({1: "yes", 2: "yes", 3: "no", 4: "yes", 5: "yes"})
    use = {"tool": {"name": "Gen", "vendor": ""}, "inputs": "text-prompt, own-footage"}
    doc = answers.disclosure({"asset_id": "A"}, use)
    [made] = doc["genai"]
    assert made["tool"] == {"name": "Gen"}  # empty answers are left out
    assert made["inputs"] == [{"kind": "text-prompt"}, {"kind": "own-footage"}]
    assert made["data_handling"] == {
        "trains_on_inputs": False,
        "retains_inputs": False,
        "enterprise_environment": False,
    }
    assert answers.escalating() == [3]
    assert (
        "data_handling" not in Answers({2: "unsure", 3: "unsure"}).disclosure({}, {"tool": {"name": "G"}})["genai"][0]
    )
