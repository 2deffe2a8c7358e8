"""The studio rules as data: the default policy, a studio's own policy file, and how rules judge facts."""

from __future__ import annotations

import copy
import re
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ERROR_PREFIX, CliResult

from genai_provenance.errors import InputError, SchemaError
from genai_provenance.model.provenance import ClearanceCheck
from genai_provenance.policy.rules import (
    BLOCK,
    NOTIFY,
    WARN,
    AssetFacts,
    Rule,
    UseFacts,
    classify_use,
    default_policy,
    evaluate,
    load_policy,
    matches,
)
from genai_provenance.schemas import validate
from genai_provenance.workspace import Workspace

DATA = Path(__file__).resolve().parent / "data"
POLICIES = DATA / "policies"
DEFAULT_YAML = Path(__file__).resolve().parent.parent / "genai_provenance" / "policy" / "default.yaml"
Run = Callable[..., CliResult]

STABLE_IDS = {
    "GP-REVOCATION-001",
    "GP-REVOCATION-002",
    "GP-INTEGRITY-001",
    "GP-INTEGRITY-002",
    "GP-DISCLOSURE-001",
    "GP-TRUST-001",
    "GP-TRUST-002",
    "GP-SIGNER-001",
    "GP-FINAL-001",
    "GP-UNDECLARED-001",
    "GP-UNDECLARED-002",
    "GP-MAYBE-001",
    "GP-NOTIFY-001",
    "GP-BACKGROUND-001",
    "GP-CREATIVE-001",
    "GP-TALENT-001",
    "GP-TALENT-002",
    "GP-TALENT-003",
    "GP-INPUT-001",
    "GP-INPUT-002",
    "GP-DATA-001",
    "GP-DATA-002",
    "GP-NONFICTION-001",
    "GP-CLEARANCE-001",
    "GP-CLEARANCE-002",
}
PLACEHOLDERS = {"asset_id", "production", "category", "tool", "needs"}


def default_document() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))


def write_policy(folder: Path, document: dict[str, Any], name: str = "policy.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the default policy


def test_default_policy_encodes_the_guidance() -> None:
    policy = default_policy()
    validate("policy", default_document(), str(DEFAULT_YAML))
    ids = [r.id for r in policy.rules]
    assert len(ids) == len(set(ids)) and set(ids) == STABLE_IDS  # IDs are stable: reports and CI refer to them
    assert policy.assume_intended_use == "final"
    for rule in policy.rules:
        assert rule.severity in (BLOCK, WARN, NOTIFY) and rule.remedy and rule.title
        assert rule.principle is None or 1 <= rule.principle <= 5
        used = {name for _, name, _, _ in string.Formatter().parse(rule.remedy) if name}
        assert used <= PLACEHOLDERS, (rule.id, used)
    by_id = {r.id: r for r in policy.rules}
    assert by_id["GP-FINAL-001"].require == {"approval": ["final-deliverable", "{category}"]}
    assert by_id["GP-TALENT-001"].require == {"consent": ["{category}"]}
    assert by_id["GP-NOTIFY-001"].severity == NOTIFY and by_id["GP-NOTIFY-001"].classification == "notify"
    assert {by_id[i].principle for i in ("GP-DATA-001", "GP-DATA-002", "GP-TALENT-001")} == {2, 3, 5}


def facts(
    *uses: UseFacts, intended_use: str = "final", status: str | None = "trusted", non_fiction: bool = False
) -> AssetFacts:
    asset = AssetFacts("shot.mp4", status, intended_use, non_fiction, "EP101_SH010", "PRJ-0042")
    asset.uses.extend(uses)
    return asset


def use(category: str | None = "background-element", **kw: Any) -> UseFacts:
    fields: dict[str, Any] = {
        "manifest": "urn:c2pa:stage",
        "stage": "comp.mp4",
        "signer": "Vendor",
        "evidence": "genai[0]",
        "certainty": "generative",
        "declared": True,
        "tool": "Runway Gen-4 4.0",
        "description": "sky replaced",
        "category": category,
        "source_type": "compositeWithTrainedAlgorithmicMedia",
    }
    fields.update(kw)
    return UseFacts(**fields)


def cleared_by(*covers: str, kind: str = "approval", status: str = "valid", ref: str = "APR-1") -> ClearanceCheck:
    return ClearanceCheck(ref, kind, status, "", covers=list(covers), revocation_checked=True)


def rule_ids(items: list[Any]) -> set[str]:
    return {i.rule_id for i in items}


def test_a_valid_clearance_covering_everything_clears() -> None:
    result = evaluate(default_policy(), facts(use(clearances=[cleared_by("background-element", "final-deliverable")])))
    assert result.findings == [] and not result.blocked
    assert rule_ids(result.cleared) == {"GP-FINAL-001", "GP-BACKGROUND-001"}
    assert all(c.clearances == ["APR-1"] for c in result.cleared)


def test_partial_or_invalid_clearances_leave_findings_with_needs() -> None:
    partial = evaluate(default_policy(), facts(use(clearances=[cleared_by("background-element")])))
    [final] = [f for f in partial.findings if f.rule_id == "GP-FINAL-001"]
    assert final.needs == ["an approval covering final-deliverable, background-element"]
    assert "an approval covering final-deliverable, background-element" in final.remedy
    assert "EP101_SH010" in final.remedy and "PRJ-0042" in final.remedy and "{" not in final.remedy
    assert rule_ids(partial.cleared) == {"GP-BACKGROUND-001"}  # the same approval still clears what it covers

    expired = cleared_by("background-element", "final-deliverable", status="expired")
    stale = evaluate(default_policy(), facts(use(clearances=[expired])))
    assert {"GP-FINAL-001", "GP-BACKGROUND-001", "GP-CLEARANCE-002"} <= rule_ids(stale.findings)
    assert stale.cleared == [] and stale.blocked
    # A consent cannot stand in for an approval.
    consent = cleared_by("background-element", "final-deliverable", kind="consent")
    assert "GP-FINAL-001" in rule_ids(evaluate(default_policy(), facts(use(clearances=[consent]))).findings)


def test_a_use_without_category_can_never_be_cleared() -> None:
    result = evaluate(default_policy(), facts(use(category=None, clearances=[cleared_by("final-deliverable")])))
    [final] = [f for f in result.findings if f.rule_id == "GP-FINAL-001"]
    assert final.needs == ["an approval covering final-deliverable, (the use's category: none declared)"]


@pytest.mark.parametrize(
    ("asset", "expected"),
    [
        (facts(status="invalid"), {"GP-INTEGRITY-001": BLOCK}),
        (facts(status="no-credentials"), {"GP-TRUST-001": BLOCK}),
        (facts(status="valid-untrusted", intended_use="temporary"), {"GP-TRUST-002": WARN}),
        (facts(use(category="ideation"), intended_use="temporary"), {"GP-NOTIFY-001": NOTIFY}),
        (facts(use(certainty="maybe", declared=False, category=None)), {"GP-MAYBE-001": WARN}),
        (facts(use(declared=False, category=None)), {"GP-UNDECLARED-001": BLOCK}),
        (facts(use(declared=False, category=None), intended_use="temporary"), {"GP-UNDECLARED-002": WARN}),
        (
            facts(use(category="ideation", data_handling={"retains_inputs": True}), intended_use="temporary"),
            {"GP-NOTIFY-001": NOTIFY, "GP-DATA-001": BLOCK},
        ),
        (
            facts(use(category="ideation", data_handling={"enterprise_environment": False}), intended_use="temporary"),
            {"GP-NOTIFY-001": NOTIFY, "GP-DATA-002": BLOCK},
        ),
        (
            facts(use(category="ideation", input_kinds=["personal-data"]), intended_use="temporary"),
            {"GP-NOTIFY-001": NOTIFY, "GP-INPUT-001": BLOCK},
        ),
        (
            facts(use(category="ideation", input_kinds=["estate-controlled"]), intended_use="temporary"),
            {"GP-NOTIFY-001": NOTIFY, "GP-INPUT-002": BLOCK},
        ),
        (
            facts(use(category="cleanup-restoration"), intended_use="temporary", non_fiction=True),
            {"GP-NONFICTION-001": BLOCK},
        ),
        (
            facts(use(category="cleanup-restoration", clearances=[cleared_by("key-visual", status="forged")])),
            {"GP-FINAL-001": BLOCK, "GP-CLEARANCE-001": BLOCK},
        ),
    ],
    ids=lambda v: None if isinstance(v, AssetFacts) else "+".join(v),
)
def test_rules_match_facts(asset: AssetFacts, expected: dict[str, str]) -> None:
    result = evaluate(default_policy(), asset)
    assert {f.rule_id: f.severity for f in result.findings} == expected
    assert result.blocked is (BLOCK in expected.values())


def test_data_handling_flags_are_ignored_when_harmless() -> None:
    safe = {"trains_on_inputs": False, "retains_inputs": False, "enterprise_environment": True}
    result = evaluate(default_policy(), facts(use(category="ideation", data_handling=safe), intended_use="temporary"))
    assert rule_ids(result.findings) == {"GP-NOTIFY-001"}


def test_classify_use_takes_the_strictest_classification() -> None:
    policy = default_policy()
    level, deciding, matched = classify_use(policy, facts(intended_use="temporary"), use(category="ideation"))
    assert (level, [r.id for r in deciding]) == ("notify", ["GP-NOTIFY-001"])
    level, deciding, _ = classify_use(
        policy, facts(intended_use="temporary"), use(category="ideation", data_handling={"trains_on_inputs": True})
    )
    assert (level, [r.id for r in deciding]) == ("escalate", ["GP-DATA-001"])
    level, deciding, matched = classify_use(policy, facts(), use(category="digital-replica"))
    assert level == "written-approval"
    assert {r.id for r in deciding} == {"GP-FINAL-001", "GP-TALENT-001", "GP-TALENT-002"}
    level, deciding, matched = classify_use(
        policy, facts(intended_use="temporary"), use(category="cleanup-restoration")
    )
    assert (level, deciding, matched) == ("notify", [], [])


# --------------------------------------------------------------------------- a studio's own policy file


@pytest.mark.parametrize(
    ("name", "field", "problem"),
    [
        ("bad_severity.yaml", "rules[3].severity", "'fatal' is not allowed (expected one of: block, warn, notify)"),
        ("unknown_when_key.yaml", "rules[1].when", "unknown field 'catgory'"),
        ("duplicate_id.yaml", "rules[2].id", "duplicate rule id X-BG-001"),
    ],
)
@pytest.mark.parametrize("command", ["check", "preflight"])
def test_a_bad_policy_file_is_refused_naming_the_field(
    command: str, name: str, field: str, problem: str, cli: Run, workspace: Workspace
) -> None:
    path = POLICIES / name
    before = path.read_bytes()
    if command == "check":
        args = ["check", Path(__file__), "--home", workspace.home]  # the policy is read before any asset
    else:
        args = ["preflight", "--disclosure", DATA / "bg_temporary.yaml", "-o", "/nonexistent/never-written.json"]
    res = cli(*args, "--policy", path)
    assert res.code == 2, res.stdout
    assert res.error_lines == [f"{ERROR_PREFIX}{path}: {field}: {problem}"]
    assert res.stdout == "" and path.read_bytes() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), "version: 1 was expected"),
        (lambda d: d["rules"][0].pop("remedy"), "rules[0]: 'remedy' is a required property"),
        (lambda d: d["rules"][5].update(principle=7), "rules[5].principle: 7 is greater than the maximum of 5"),
        (lambda d: d["rules"][3].update(scope="shot"), "rules[3].scope: 'shot' is not allowed"),
        (lambda d: d["rules"][3]["when"].update(category=["sky"]), "rules[3].when.category[0]: 'sky' is not allowed"),
        (lambda d: d["rules"][3].update(require={"approval": ["everything"]}), "rules[3].require.approval[0]"),
        (lambda d: d["rules"][3].update(id="gp-lower-1"), "rules[3].id: 'gp-lower-1' does not match"),
        (lambda d: d["rules"].clear(), "rules: [] should be non-empty"),
        (lambda d: d.update(assume_intended_use="forever"), "assume_intended_use: 'forever' is not allowed"),
        # Well-formed, but a rule that could never fire: asset-scope rules see no GenAI use.
        (
            lambda d: d["rules"][0]["when"].update(category=["key-visual"]),
            "rules[0].when.category: describes a GenAI use; needs scope: use",
        ),
        (
            lambda d: d["rules"][1].update(require={"approval": ["final-deliverable"]}),
            "rules[1].require: only a rule with scope: use can require clearances",
        ),
    ],
)
def test_policy_errors_name_the_field(change: Callable[[dict[str, Any]], Any], message: str, tmp_path: Path) -> None:
    document = default_document()
    change(document)
    path = write_policy(tmp_path, document)
    with pytest.raises(SchemaError) as info:
        load_policy(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_unreadable_policy_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n  - id: X\n oops")
    with pytest.raises(InputError, match=re.escape(f"{broken}: not valid YAML (line")):
        load_policy(broken)
    with pytest.raises(InputError, match="no such file"):
        load_policy(tmp_path / "absent.yaml")
    as_json = tmp_path / "policy.json"
    as_json.write_text('{"version": 1, "name": "x", "rules": [}')
    with pytest.raises(InputError, match="not valid JSON"):
        load_policy(as_json)


def background_notify_only(folder: Path) -> Path:
    """The default policy with background elements made notify-only (a studio's own call)."""
    document = copy.deepcopy(default_document())
    document["name"] = "Studio policy: background elements are notify-only"
    [rule] = [r for r in document["rules"] if r["id"] == "GP-BACKGROUND-001"]
    rule.update(severity="notify", classification="notify", remedy="Tell the studio contact about {asset_id}.")
    del rule["require"]
    return write_policy(folder, document, "background-notify.yaml")


@pytest.fixture(scope="module")
def temp_background(sign_media: Any) -> Path:
    """A signed temporary comp with a GenAI background element and no approval."""
    return sign_media("plate.jpg", DATA / "bg_temporary.yaml").output


def test_a_valid_custom_policy_changes_the_outcome(
    temp_background: Path, cli: Run, workspace: Workspace, tmp_path: Path
) -> None:
    custom = background_notify_only(tmp_path)
    home = ["--home", workspace.home, "--format", "json"]

    default = cli("check", temp_background, *home)
    assert default.code == 1
    [verdict] = default.json()["assets"]
    assert {(f["rule_id"], f["severity"]) for f in verdict["findings"]} == {("GP-BACKGROUND-001", "block")}

    studio = cli("check", temp_background, "--policy", custom, *home)
    assert studio.code == 0, studio.stdout
    doc = studio.json()
    assert doc["policy"] == {"name": "Studio policy: background elements are notify-only", "source": str(custom)}
    [verdict] = doc["assets"]
    assert {(f["rule_id"], f["severity"]) for f in verdict["findings"]} == {("GP-BACKGROUND-001", "notify")}
    assert doc["summary"]["notices"] == 1 and doc["summary"]["blocked"] == 0

    # Preflight follows the same file.
    before = cli("preflight", "--disclosure", DATA / "bg_temporary.yaml", "-o", tmp_path / "a.json", *home[2:])
    after = cli(
        "preflight",
        "--disclosure",
        DATA / "bg_temporary.yaml",
        "-o",
        tmp_path / "b.json",
        "--policy",
        custom,
        *home[2:],
    )
    assert before.json()["uses"][0]["classification"] == "escalate"
    assert after.json()["uses"][0]["classification"] == "notify"
    assert after.json()["policy"] == "Studio policy: background elements are notify-only"


def test_source_types_in_a_policy_match_in_any_spelling() -> None:
    """A studio policy may write IPTC URIs (http or https) where the default writes bare terms."""
    uri = "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    rule = Rule("STUDIO-NF-001", "Generated footage", "use", "block", 1, {"source_type": [uri]}, "Remove it.")
    spelled = [
        "trainedAlgorithmicMedia",
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        uri,
    ]
    for source_type in spelled:
        assert matches(rule, facts(), use(source_type=source_type)), source_type
    assert not matches(rule, facts(), use(source_type="digitalCapture"))
