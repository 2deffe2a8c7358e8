"""`explain` on an image sequence: a pattern, or one frame of a signed sequence, is explained as ONE asset
(its signed record held against the frames on disk, as verify checks it), and the verdict fails closed when
any frame fails, naming the frame.

Real EXR frames made by ffmpeg, signed across real worker processes; real c2pa reading.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import DISCLOSURES, ERROR_PREFIX, CliResult, needs_ffmpeg
from test_sequences import NAME, make_frames

from genai_provenance.schemas import validate
from genai_provenance.workspace import Workspace, init_workspace

Cli = Callable[..., CliResult]
PLATE = DISCLOSURES / "plate.json"
DISPLAY = f"{NAME}.[1001-1006].exr"

pytestmark = needs_ffmpeg()


@dataclass
class Signed:
    ws: Workspace
    folder: Path
    record: str

    def copy(self, dest: Path) -> Path:
        shutil.copytree(self.folder, dest)
        return dest


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, cli: Cli) -> Signed:
    base = tmp_path_factory.mktemp("explain-seq")
    ws = init_workspace(base / "ws", "Explain Sequence Post").workspace
    folder = make_frames(base / "signed", "exr")
    res = cli("sign", folder / f"{NAME}.%04d.exr", "--disclosure", PLATE, "--workers", 2, "--format", "json",
              "--home", ws.home)  # fmt: skip
    assert res.code == 0, res.stderr
    return Signed(ws, folder, res.json()["sequence"]["record"])


def frame(folder: Path, number: int) -> Path:
    return folder / f"{NAME}.{number}.exr"


def explain_json(cli: Cli, ws: Workspace, target: Path, *flags: Any) -> tuple[int, dict[str, Any]]:
    res = cli("explain", target, *flags, "--format", "json", "--home", ws.home)
    assert res.code in (0, 1), res.stderr
    doc = res.json()
    validate("explain-report", doc, "explain --format json")
    return res.code, doc["explanation"]


@pytest.mark.parametrize("token", ["%04d", "####"])
def test_a_pattern_is_explained_as_one_asset(token: str, signed: Signed, cli: Cli) -> None:
    code, e = explain_json(cli, signed.ws, signed.folder / f"{NAME}.{token}.exr", "--no-policy")
    assert code == 0 and e["verdict"] == "no-problem-found" and e["status"] == "trusted"
    assert e["file"] == str(signed.folder / DISPLAY) and e["file_name"] == DISPLAY
    seq = e["sequence"]
    assert (seq["name"], seq["pattern"], seq["first"], seq["last"]) == (DISPLAY, f"{NAME}.%04d.exr", 1001, 1006)
    assert (seq["count"], seq["present"], seq["missing"], seq["extra"], seq["gaps"]) == (6, 6, [], [], [])
    assert seq["record"] == signed.record and seq["frame_given"] is None and seq["problems"] == []
    # The uses and clearances come from the frames' (identical) disclosures: the plate's declaration.
    [stage] = e["stages"]
    assert stage["signer"]["trust"] == "trusted" and any("captured" in a["summary"] for a in stage["activities"])
    assert e["evidence"]["file_sha256"] is None, "no single file stands for the sequence"
    text = cli("explain", signed.folder / f"{NAME}.{token}.exr", "--no-policy", "--home", signed.ws.home)
    assert text.code == 0
    assert f"Image sequence: {DISPLAY}" in text.stdout
    assert "Frames 1001-1006, 6 in the signed record, 6 on disk." in text.stdout
    assert f"Sequence record: {signed.record}" in " ".join(text.stdout.split())


def test_one_frame_is_explained_as_its_sequence_naming_the_frame(signed: Signed, cli: Cli) -> None:
    given = frame(signed.folder, 1003)
    code, e = explain_json(cli, signed.ws, given, "--no-policy")
    assert code == 0 and e["verdict"] == "no-problem-found"
    assert e["sequence"]["name"] == DISPLAY and e["sequence"]["frame_given"] == str(given)
    assert e["sequence"]["record"] == signed.record
    assert e["evidence"]["file_sha256"] is not None, "the frame given is hashed as evidence"
    text = " ".join(cli("explain", given, "--no-policy", "--home", signed.ws.home).stdout.split())
    assert f"The frame given, {given.name}, is explained as part of it." in text


def _flip(folder: Path) -> None:
    """One bit of one pixel of frame 1004."""
    victim = frame(folder, 1004)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))


def _delete(folder: Path) -> None:
    frame(folder, 1004).unlink()
    frame(folder, 1004).with_name(f"{NAME}.1004.exr.c2pa").unlink()


def _swap(folder: Path) -> None:
    """Frames 1003 and 1004 trade places, sidecars and all: each still verifies on its own."""
    for suffix in ("", ".c2pa"):
        a, b = (folder / f"{NAME}.{n}.exr{suffix}" for n in (1003, 1004))
        a.rename(folder / "tmp")
        b.rename(a)
        (folder / "tmp").rename(b)


@pytest.mark.parametrize(
    ("attack", "expected"),
    [
        (_flip, "frame 1004 (EP101_SH010_comp_v003.1004.exr): bytes differ from the signed record"),
        (_delete, "frame 1004 (EP101_SH010_comp_v003.1004.exr): missing"),
        (_swap, "frame 1004 (EP101_SH010_comp_v003.1004.exr): carries the credentials of frame 1003"),
    ],
    ids=["one-byte-changed", "deleted", "swapped"],
)
@pytest.mark.parametrize("given", ["pattern", "other-frame"])
def test_an_attacked_frame_fails_the_explanation_and_is_named(
    attack: Callable[[Path], None], expected: str, given: str, signed: Signed, tmp_path: Path, cli: Cli
) -> None:
    folder = signed.copy(tmp_path / "shots")
    attack(folder)
    target = folder / f"{NAME}.####.exr" if given == "pattern" else frame(folder, 1001)
    for flags in ((), ("--no-policy",)):
        code, e = explain_json(cli, signed.ws, target, *flags)
        assert code == 1, "an explanation of a sequence with a bad frame is not a pass"
        assert e["verdict"] in ("problems", "blocked") and e["status"] != "trusted"
        problems = [p["sentence"] for p in e["problems"] if p["kind"] == "sequence"]
        assert any(expected.lower() in p.lower() for p in problems), problems
        assert any(expected in p for p in e["sequence"]["problems"])
    text = cli("explain", target, "--no-policy", "--home", signed.ws.home)
    assert text.code == 1
    verdict = text.stdout.split("\n\n")[0]
    assert "VERDICT:" in verdict and f"{NAME}.1004.exr" in verdict, verdict


def test_html_never_overwrites_a_frame_or_its_sidecar(signed: Signed, tmp_path: Path, cli: Cli) -> None:
    folder = signed.copy(tmp_path / "shots")
    pattern = folder / f"{NAME}.%04d.exr"
    for victim in (frame(folder, 1004), folder / f"{NAME}.1002.exr.c2pa"):
        before = victim.read_bytes()
        res = cli("explain", pattern, "--html", victim, "--no-policy", "--home", signed.ws.home)
        assert res.code == 2 and "is the file being explained" in res.stderr, res.stderr
        assert victim.read_bytes() == before
    page = tmp_path / "report.html"
    res = cli("explain", pattern, "--html", page, "--no-policy", "--home", signed.ws.home)
    assert res.code == 0, res.stderr
    assert f"Image sequence: {DISPLAY}" in page.read_text(encoding="utf-8")


def test_a_pattern_without_frames_is_an_input_error(signed: Signed, tmp_path: Path, cli: Cli) -> None:
    res = cli("explain", tmp_path / f"{NAME}.%04d.exr", "--home", signed.ws.home)
    assert res.code == 2 and res.error_lines == [
        f"{ERROR_PREFIX}{tmp_path / NAME}.%04d.exr: no frames match the pattern"
    ]


def test_an_unsigned_sequence_is_explained_without_a_problem_per_frame(
    signed: Signed, tmp_path: Path, cli: Cli
) -> None:
    folder = make_frames(tmp_path / "raw", "exr")
    code, e = explain_json(cli, signed.ws, folder / f"{NAME}.%04d.exr", "--no-policy")
    assert code == 1 and e["status"] == "no-credentials"
    assert e["sequence"]["problems"] == [] and e["sequence"]["record"] is None
    assert [p["kind"] for p in e["problems"]] == ["no-credentials"]


def test_a_signed_sequence_explanation_verifies_and_an_edited_one_does_not(
    signed: Signed, tmp_path: Path, cli: Cli
) -> None:
    folder = signed.copy(tmp_path / "shots")
    _delete(folder)
    res = cli("explain", folder / f"{NAME}.%04d.exr", "--format", "json", "--sign", "--home", signed.ws.home)
    assert res.code == 1, res.stderr
    validate("signed-report", res.json(), "explain --format json --sign")
    assert res.json()["report"]["explanation"]["sequence"]["missing"] == [1004]
    report = tmp_path / "report.json"
    report.write_text(res.stdout)
    ok = cli("verify-report", report, "--home", signed.ws.home)
    assert ok.code == 0, ok.stdout
    edited = tmp_path / "edited.json"
    edited.write_text(res.stdout.replace("1004", "1005"))  # another frame said to be the missing one
    assert edited.read_text() != res.stdout
    failed = cli("verify-report", edited, "--home", signed.ws.home)
    assert failed.code == 1 and "signature does not match" in failed.stdout
