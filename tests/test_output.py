"""Output for many files: the table, --only-failures, --quiet, colour rules, JUnit, -o FILE, --workers."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import MEDIA, IdentityFiles

from genai_provenance.demo import flip_payload_byte
from genai_provenance.reports.console import Row, View, table
from genai_provenance.workspace import Workspace

TERMINAL = {"FORCE_COLOR": "1", "COLUMNS": "400"}  # rich treats stdout as a terminal this wide
ESC_NAME = "evil\x1b[31mred.jpg"


@pytest.fixture(scope="module")
def folder(sign_media: Any, outsider: IdentityFiles, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Seven assets: every status, two more trusted copies (one named with an ESC)."""
    root = tmp_path_factory.mktemp("many")
    sub = root / "reel1"
    sub.mkdir()
    expected = {}
    trusted = sign_media("plate.jpg", "bg_replace.json", out=root / "trusted.jpg").output
    expected[str(trusted)] = "trusted"
    for name in ("copy.jpg", ESC_NAME):
        shutil.copy(trusted, root / name)
        expected[str(root / name)] = "trusted"
    untrusted = sign_media("plate.png", "plate.json", out=sub / "untrusted.png", identity=outsider.identity).output
    expected[str(untrusted)] = "valid-untrusted"
    flip_payload_byte(sign_media("plate.mp4", "plate.json").output, sub / "tampered.mp4")
    expected[str(sub / "tampered.mp4")] = "invalid"
    shutil.copy(MEDIA / "dialogue.wav", root / "unsigned.wav")
    expected[str(root / "unsigned.wav")] = "no-credentials"
    (sub / "truncated.mov").write_bytes((MEDIA / "plate_h264.mov").read_bytes()[:3000])
    expected[str(sub / "truncated.mov")] = "unreadable"
    return root, expected


def _failing(expected: dict[str, str]) -> list[str]:
    return [p for p, s in expected.items() if s != "trusted"]


def _shown(path: str) -> str:
    return path.replace("\x1b", "\\x1b")  # how the escaping shows an ESC


def test_table_on_a_terminal_one_line_per_asset(cli: Any, workspace: Workspace, folder: tuple) -> None:
    root, expected = folder
    res = cli("verify", root, "--home", workspace.home, "--workers", "1", env=TERMINAL)
    assert res.code == 1, res.stderr
    out = res.stdout
    assert "\x1b[" in out, "colour on a terminal"
    header = next(line for line in out.splitlines() if "findings" in line)
    for column in ("path", "status", "GenAI", "signer", "findings"):
        assert column in header
    assert "  status: " not in out, "the detailed view is not used"
    for path, status in expected.items():
        [line] = [line for line in out.splitlines() if _shown(path) in line or path in line]
        assert status in line
    assert "7 assets: 3 trusted, 4 not passing" in out
    assert "by status: 3 trusted, 1 valid-untrusted, 1 invalid, 1 no-credentials, 1 unreadable" in out


def test_no_color_table_has_no_escape_and_the_file_name_is_escaped(
    cli: Any, workspace: Workspace, folder: tuple
) -> None:
    root, _expected = folder
    res = cli("verify", root, "--home", workspace.home, env={**TERMINAL, "NO_COLOR": "1"})
    assert "\x1b" not in res.stdout, "NO_COLOR: no ANSI escape, and the ESC in a file name is shown escaped"
    assert _shown(str(root / ESC_NAME)) in res.stdout
    assert "findings" in res.stdout and "  status: " not in res.stdout


def test_not_a_terminal_gets_the_detailed_text_without_escapes(cli: Any, workspace: Workspace, folder: tuple) -> None:
    root, expected = folder
    res = cli("verify", root, "--home", workspace.home)
    assert "\x1b" not in res.stdout
    assert res.stdout.count("  status: ") == len(expected)


def test_verbose_gives_the_detail_on_a_terminal(cli: Any, workspace: Workspace, folder: tuple) -> None:
    root, expected = folder
    res = cli("verify", root, "--home", workspace.home, "--verbose", env=TERMINAL)
    assert res.stdout.count("  status: ") == len(expected)


def test_only_failures(cli: Any, workspace: Workspace, folder: tuple) -> None:
    root, expected = folder
    res = cli("verify", root, "--home", workspace.home, "--only-failures")
    assert res.code == 1
    assert res.stdout.count("  status: ") == len(_failing(expected))
    assert str(root / "copy.jpg") not in res.stdout
    for path in _failing(expected):
        assert path in res.stdout
    assert "7 assets: 3 trusted, 4 not passing" in res.stdout, "the summary still counts every asset"


def test_quiet_is_the_summary_and_one_line_per_failure(cli: Any, workspace: Workspace, folder: tuple) -> None:
    root, expected = folder
    res = cli("verify", root, "--home", workspace.home, "--quiet")
    lines = res.stdout.splitlines()
    for path in _failing(expected):
        [line] = [line for line in lines if line.startswith(path + ":")]
        assert expected[path] in line
    assert "  status: " not in res.stdout and str(root / "copy.jpg") not in res.stdout
    assert any(line.startswith("7 assets:") for line in lines)


def test_check_table_has_a_policy_column(cli: Any, workspace: Workspace, folder: tuple) -> None:
    root, _ = folder
    res = cli("check", root, "--home", workspace.home, env={**TERMINAL, "NO_COLOR": "1"})
    header = next(line for line in res.stdout.splitlines() if "findings" in line)
    assert "policy" in header and "\x1b" not in res.stdout
    assert "BLOCKED" in res.stdout and "by status:" in res.stdout


def test_table_escapes_cells_and_uses_no_markup() -> None:
    row = Row("[bold]x[/bold]\x1b]0;title\x07.jpg", "trusted", True, "Eve\nInjected", 0, True)
    [*lines] = table([row], View(terminal=True, width=200))
    text = "\n".join(lines)
    assert "[bold]x[/bold]" in text and "\x1b" not in text and "\x07" not in text
    assert "Eve\\nInjected" in text


def _junit(xml: str) -> ET.Element:
    suite = ET.fromstring(xml.encode())
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases)
    assert int(suite.get("failures", "-1")) == sum(c.find("failure") is not None for c in cases)
    return suite


def test_verify_junit(cli: Any, workspace: Workspace, folder: tuple) -> None:
    root, expected = folder
    res = cli("verify", root, "--home", workspace.home, "--format", "junit")
    assert res.code == 1
    suite = _junit(res.stdout)
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {_shown(p) for p in expected}  # XML 1.0 cannot hold ESC: shown escaped
    for path, status in expected.items():
        failure = cases[_shown(path)].find("failure")
        if status == "trusted":
            assert failure is None
        else:
            assert failure is not None and failure.get("type") == status and failure.get("message")


def test_check_junit(cli: Any, workspace: Workspace, folder: tuple) -> None:
    root, expected = folder
    doc = cli("check", root, "--home", workspace.home, "--format", "json").json()
    res = cli("check", root, "--home", workspace.home, "--format", "junit")
    assert res.code == 1
    suite = _junit(res.stdout)
    blocked = {_shown(a["path"]) for a in doc["assets"] if a["blocked"]}
    failed = {c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None}
    assert failed == blocked and len(suite.findall("testcase")) == len(expected)
    for case in suite.findall("testcase"):
        failure = case.find("failure")
        if failure is not None:
            assert failure.get("type", "").startswith(("GP-", "PKG-")) and failure.get("message")


@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_output_file_and_nothing_on_stdout(
    cli: Any, workspace: Workspace, folder: tuple, tmp_path: Path, fmt: str
) -> None:
    root, _ = folder
    for command in ("verify", "check"):
        target = tmp_path / f"{command}.{fmt}"
        res = cli(command, root, "--home", workspace.home, "--format", fmt, "-o", target, env=TERMINAL)
        assert res.code == 1 and res.stdout == "", res.stderr
        written = target.read_text(encoding="utf-8")
        assert "\x1b" not in written, "never colour in a file"
        if fmt == "json":
            assert len(json.loads(written)["assets"]) == 7
        elif fmt == "junit":
            assert len(_junit(written).findall("testcase")) == 7
        else:
            assert written.count("  status: ") == 7, "a file gets the detailed text, not the table"


def test_output_refuses_a_folder(cli: Any, workspace: Workspace, folder: tuple, tmp_path: Path) -> None:
    root, _ = folder
    res = cli("verify", root, "--home", workspace.home, "-o", tmp_path)
    assert res.code == 2 and res.stdout == ""


@pytest.mark.parametrize("command", ["verify", "check"])
def test_two_workers_give_the_same_results_in_the_same_order(
    cli: Any, workspace: Workspace, folder: tuple, command: str
) -> None:
    root, _ = folder
    one = cli(command, root, "--home", workspace.home, "--format", "json", "--workers", "1")
    two = cli(command, root, "--home", workspace.home, "--format", "json", "--workers", "2")
    assert one.code == two.code == 1
    assert one.json() == two.json()


def test_json_reports_are_the_standard_librarys_text_whichever_encoder_writes_them() -> None:
    """orjson writes large reports; its text must be exactly json.dumps(indent=2, ensure_ascii=False)'s,
    and what it refuses (lone surrogates of undecodable file names, huge integers) takes the old path."""
    import json

    from genai_provenance.reports.json_report import dumps

    doc = {
        "assets": [{"path": "shots/É\u001b[31m\u2028x.jpg", "size": 12, "ok": True, "gap": None, "ratio": 1.5}],
        "summary": {"by_status": {"trusted": 1}, "nested": [[], {}]},
    }
    assert dumps(doc) == json.dumps(doc, indent=2, ensure_ascii=False)
    assert dumps({"serial": 1 << 80}) == '{\n  "serial": 1208925819614629174706176\n}'
    assert json.loads(dumps({"path": "bad-\udcff.jpg"})) == {"path": "bad-\\xff.jpg"}


@pytest.mark.parametrize("command", ["verify", "check"])
def test_real_reports_are_written_by_orjson_not_the_slow_fallback(
    cli: Any, workspace: Workspace, folder: tuple, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A real report (its summary counts keyed by status) must not fall back to the pure-Python encoder,
    which took 0.7 s of serial time for 1,000 assets: the fallback is made to fail here."""
    from types import SimpleNamespace

    from genai_provenance.reports import json_report

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("the standard library's encoder was used")

    monkeypatch.setattr(json_report, "json", SimpleNamespace(dumps=refuse))
    root, expected = folder
    res = cli(command, root, "--home", workspace.home, "--format", "json", "--workers", "1")
    assert res.code == 1, res.stderr
    doc = json.loads(res.stdout)
    assert {a["path"] for a in doc["assets"]} == set(expected)
    assert doc["summary"]["assets"] == len(expected)


@pytest.mark.parametrize("command", ["verify", "check"])
def test_asset_dicts_made_by_orjson_give_the_same_report_as_the_field_by_field_walk(
    cli: Any, workspace: Workspace, folder: tuple, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """AssetReport.to_dict goes through orjson (0.26 s -> 0.05 s of serial time for 1,000 assets); the
    report must be the same text as with the walk it replaced, for every status in the folder, and the same
    text run after run (c2pa hands action parameters over in a hash map's order, different at each read)."""
    from genai_provenance.model import provenance
    from genai_provenance.model.dicts import as_dict
    from genai_provenance.reports import check_report

    root, _ = folder
    args = (command, root, "--home", workspace.home, "--format", "json", "--workers", "1")
    fast = cli(*args)
    assert cli(*args).stdout == fast.stdout, "the same files must give the same report"
    monkeypatch.setattr(provenance, "json_dict", as_dict)
    monkeypatch.setattr(check_report, "json_dict", as_dict)
    slow = cli(*args)
    assert fast.code == slow.code == 1
    assert fast.stdout == slow.stdout
    assert '"status": "invalid"' in fast.stdout
