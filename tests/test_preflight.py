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

from genai_provenance.model.disclosure import Disclosure
from genai_provenance.policy.preflight import DECLARATION_FORMAT, PRINCIPLES, Answers, declare
from genai_provenance.policy.rules import default_policy
from genai_provenance.reports.declaration import declaration_document
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


def printed_requests(stdout: str) -> list[list[str]]:
    """The grant commands preflight printed for legal, split the way a shell would."""
    lines = [line.strip().removeprefix("request: ") for line in stdout.splitlines() if line.startswith("  request: ")]
    return [shlex.split(line) for line in lines]


def run_as_printed(cli: Run, argv: list[str], home: Path) -> CliResult:
    assert argv[0] == "genai-provenance", argv
    return cli(*argv[1:], env={"GENAI_PROVENANCE_HOME": str(home)})


def sign_and_check(cli: Run, disclosure: Path, home: Path, out: Path) -> CliResult:
    env = {"GENAI_PROVENANCE_HOME": str(home)}
    signed = cli("sign", MEDIA / "plate.jpg", "-o", out, "--disclosure", disclosure, env=env)
    assert signed.code == 0, signed.stderr
    return cli("check", out, "--intended-use", "final", "--format", "json", env=env)


@pytest.mark.parametrize("disclosure", ["comp_bg_approved.json", "replica_with_consent.yaml"])
def test_the_printed_requests_run_as_printed_clear_the_asset(cli: Run, tmp_path: Path, disclosure: str) -> None:
    """Legal runs exactly what preflight printed; the asset signed with the same disclosure then passes."""
    ws = init_workspace(tmp_path / "ws", "Preflight Studio").workspace
    text = cli("preflight", "--disclosure", DATA / disclosure)
    assert text.code == 0, text.stderr
    requests = printed_requests(text.stdout)
    assert requests
    for argv in requests:
        assert run_as_printed(cli, argv, ws.home).code == 0, argv
    checked = sign_and_check(cli, DATA / disclosure, ws.home, tmp_path / "signed.jpg")
    assert checked.code == 0, checked.stdout
    [verdict] = checked.json()["assets"]
    assert verdict["findings"] == [] or all(f["severity"] != "block" for f in verdict["findings"])
    assert verdict["cleared"]


def shared_and_uncited() -> dict[str, Any]:
    """Two uses citing one approval (different categories) and a replica use citing nothing."""

    def use(category: str, **extra: Any) -> dict[str, Any]:
        return {
            "tool": {"name": "Gen", "version": "1"},
            "action": "edited",
            "source_type": "compositeWithTrainedAlgorithmicMedia",
            "category": category,
            "data_handling": {"trains_on_inputs": False, "retains_inputs": False, "enterprise_environment": True},
            **extra,
        }

    return {
        "asset": {"title": "EP102 SH030", "production": "PRJ-0042", "asset_id": "EP102_SH030", "intended_use": "final"},
        "source_type": "digitalCapture",
        "genai": [
            use("background-element", approvals=["APR-2026-0100"]),
            use("setting", approvals=["APR-2026-0100"]),
            use("digital-replica", inputs=[{"kind": "talent-likeness"}]),
        ],
    }


def test_a_shared_id_is_one_request_and_uncited_uses_get_ids_to_list(cli: Run, tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", "Preflight Studio").workspace
    source = tmp_path / "disclosure.json"
    source.write_text(json.dumps(shared_and_uncited()))
    doc = preflight(cli, source, tmp_path / "decl.json")
    shared = (
        "genai-provenance approvals grant --id APR-2026-0100 --production PRJ-0042 --asset EP102_SH030 "
        "--covers final-deliverable,background-element,setting"
    )
    assert doc["uses"][0]["requests"] == doc["uses"][1]["requests"] == [shared]
    assert doc["uses"][0]["to_cite"] == {"approvals": [], "consents": []}
    replica = doc["uses"][2]
    assert replica["to_cite"] == {"approvals": ["APR-EP102-SH030-3"], "consents": ["CNS-EP102-SH030-3"]}
    assert doc["requests"] == [shared, *replica["requests"]]  # each ID requested once

    # Signed without listing the new IDs, the replica stays blocked even after every grant ran.
    for line in doc["requests"]:
        assert run_as_printed(cli, shlex.split(line), ws.home).code == 0, line
    assert sign_and_check(cli, source, ws.home, tmp_path / "uncited.jpg").code == 1
    # Listing them where to_cite says clears the asset.
    cited = shared_and_uncited()
    for use in doc["uses"]:
        for field, ids in use["to_cite"].items():
            cited["genai"][use["index"]].setdefault(field, []).extend(ids)
    source.write_text(json.dumps(cited))
    checked = sign_and_check(cli, source, ws.home, tmp_path / "cited.jpg")
    assert checked.code == 0, checked.stdout

    text = cli("preflight", "--disclosure", source).stdout
    assert "cites no" not in text  # nothing left to list
    again = cli("preflight", "--disclosure", DATA / "replica_no_consent.yaml").stdout
    assert "cites no consent: list CNS-EP101-SH020-1 under genai[0].consents in the disclosure" in again


def test_requests_reuse_the_cited_ids(cli: Run, tmp_path: Path) -> None:
    [use] = preflight(cli, DISCLOSURES / "bg_replace.json", tmp_path / "a.json")["uses"]
    assert [shlex.split(r)[4] for r in use["requests"]] == ["APR-2026-0042"]
    [use] = preflight(cli, DATA / "replica_with_consent.yaml", tmp_path / "b.json")["uses"]
    ids = {shlex.split(r)[1]: shlex.split(r)[4] for r in use["requests"]}
    assert ids == {"approvals": "APR-REPLICA-0001", "consents": "CNS-REPLICA-0001"}
    assert use["to_cite"] == {"approvals": [], "consents": []}
    assert not any("NEW" in r for r in use["requests"])


def test_a_hostile_production_id_cannot_inject_a_shell_command(cli: Run, tmp_path: Path) -> None:
    hostile = shared_and_uncited()
    hostile["asset"]["production"] = "PRJ-0042; touch pwned"
    hostile["asset"]["asset_id"] = "SH $(id)"
    source = tmp_path / "d.json"
    source.write_text(json.dumps(hostile))
    doc = preflight(cli, source, tmp_path / "decl.json")
    for line in doc["requests"]:
        argv = shlex.split(line)
        assert argv[argv.index("--production") + 1] == "PRJ-0042; touch pwned"
        assert argv[argv.index("--asset") + 1] == "SH $(id)"
        assert argv[argv.index("--id") + 1].startswith(("APR-2026-0100", "APR-SH-id-", "CNS-SH-id-"))


def test_without_o_nothing_is_written(cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for fmt in ("text", "json"):
        res = cli("preflight", "--disclosure", DISCLOSURES / "bg_replace.json", "--format", fmt)
        assert res.code == 0, res.stderr
    validator("declaration").validate(res.json())
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_is_kept_unless_force(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "decl.json"
    out.write_text("legal's notes\n")
    res = cli("preflight", "--disclosure", DISCLOSURES / "bg_replace.json", "-o", out)
    assert res.code == 2 and res.error_lines == [f"{ERROR_PREFIX}{out}: already exists (use --force to replace it)"]
    assert out.read_text() == "legal's notes\n" and res.stdout == ""
    assert [p.name for p in tmp_path.iterdir()] == ["decl.json"]  # no temporary file left either
    doc = preflight(cli, DISCLOSURES / "bg_replace.json", out, "--force")
    assert doc["asset"]["asset_id"] == "EP101_SH010"
    # The disclosure being read is never the output, even with --force.
    source = tmp_path / "bg.json"
    source.write_bytes((DISCLOSURES / "bg_replace.json").read_bytes())
    res = cli("preflight", "--disclosure", source, "-o", source, "--force")
    assert res.code == 2 and "is the disclosure being read" in res.stderr
    assert source.read_bytes() == (DISCLOSURES / "bg_replace.json").read_bytes()


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
    doc = declaration_document(declare(Disclosure.parse(disclosure), default_policy()))
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
        [*CLI_COMMAND, "preflight", "--format", "json", "-o", "decl.json"],
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
    written = tmp_path / "decl.json"
    assert list(tmp_path.iterdir()) == [written]
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


def run_interactive(tmp_path: Path, keyboard: str, *extra: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*CLI_COMMAND, "preflight", "--format", "json", *extra],
        input=keyboard,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert "Traceback" not in done.stderr
    return done


def printed_json(stdout: str) -> dict[str, Any]:
    """The declaration printed after the prompts (piped input echoes no newline after a prompt)."""
    return json.loads(stdout[stdout.index('{\n  "format"') :])


def test_every_prompt_asks_again_after_a_typo(tmp_path: Path) -> None:
    """Typos in every constrained answer are refused and asked again; nothing aborts, nothing is lost."""
    keyboard = "\n".join(
        [
            "",  # an empty title is asked again
            "EP101 mood frame 05",
            "PRJ-0042",
            "EP101_MB05",
            "temprary",  # typo
            "Temporary",  # case does not matter
            "Firefly Image",
            "",  # vendor is optional
            "create",  # typo
            "created",
            "trainedAlgorithmicMedia",
            "ideaton",  # typo
            "ideation",
            "mood frame",
            "text-promt, own-footage",  # typo in one of the kinds
            "text-prompt, own-footage",
            "yes",
            "yse",  # typo
            "YES",
            "yes",
            "yes",
            "yes",
        ]
    )
    done = run_interactive(tmp_path, keyboard + "\n")
    assert done.returncode == 0, done.stderr
    for typo in ("temprary", "create", "ideaton", "yse"):
        assert f"'{typo}' is not one of" in done.stdout + done.stderr, typo
    assert "'text-promt' is not one of" in done.stdout + done.stderr
    assert done.stdout.count("Asset title:") == 2
    doc = printed_json(done.stdout)
    validator("declaration").validate(doc)
    assert doc["asset"]["intended_use"] == "temporary" and doc["principles"] == {str(n): "yes" for n in range(1, 6)}
    [use] = doc["disclosure"]["genai"]
    assert use["tool"] == {"name": "Firefly Image"} and use["category"] == "ideation"
    assert use["inputs"] == [{"kind": "text-prompt"}, {"kind": "own-footage"}]
    assert list(tmp_path.iterdir()) == []  # without -o, no file


@pytest.mark.parametrize("answered", [0, 3, 11, 15])
def test_end_of_input_is_one_line_and_exit_2(tmp_path: Path, answered: int) -> None:
    lines = answers_for("yes", "yes", "yes", "yes", "yes").splitlines()[:answered]
    done = run_interactive(tmp_path, "".join(f"{line}\n" for line in lines), "-o", "decl.json")
    assert done.returncode == 2, done.stdout
    assert done.stderr.splitlines() == [
        f"{ERROR_PREFIX}preflight: input ended before every question was answered; nothing was written "
        "(answer all questions, or pass --disclosure FILE)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_is_refused_before_any_question(tmp_path: Path) -> None:
    out = tmp_path / "decl.json"
    out.write_text("keep\n")
    done = run_interactive(tmp_path, answers_for("yes", "yes", "yes", "yes", "yes"), "-o", "decl.json")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{ERROR_PREFIX}decl.json: already exists (use --force to replace it)"]
    assert "Asset title" not in done.stdout and out.read_text() == "keep\n"


def test_an_unwritable_output_is_one_line(cli: Run, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    out = blocker / "decl.json"
    res = cli("preflight", "--disclosure", DISCLOSURES / "bg_replace.json", "-o", out)
    assert res.code == 2 and len(res.error_lines) == 1
    assert res.error_lines[0].startswith(f"{ERROR_PREFIX}{blocker}") and "cannot" in res.error_lines[0]
