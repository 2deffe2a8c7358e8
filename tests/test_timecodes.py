"""Time codes as post uses them: 23.976 to 59.94 fps, drop-frame and non-drop, a start time code, and
time ranges checked against the media's running time at sign."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import ERROR_PREFIX, CliResult, disclosure, needs_ffmpeg

from genai_provenance.credentials.timecodes import timecode_seconds
from genai_provenance.workspace import Workspace, init_workspace

Cli = Callable[..., CliResult]


@pytest.mark.parametrize(
    ("value", "rate", "start", "seconds"),
    [
        ("00:00:01:00", 24, None, 1.0),
        ("00:00:01:12", 23.976, None, 36 * 1001 / 24000),
        ("00:00:01:12", 25, None, 1.48),
        ("00:01:00;02", 29.97, None, 1800 * 1001 / 30000),  # drop-frame: ;00 and ;01 do not exist at minute 1
        ("00:01:00:00", 29.97, None, 1800 * 1001 / 30000),  # non-drop: every label exists
        ("00:10:00;00", 29.97, None, 17982 * 1001 / 30000),  # every tenth minute keeps its ;00
        ("00:00:10;00", 59.94, None, 600 * 1001 / 60000),
        ("00:00:00:49", 50, None, 0.98),
        ("01:00:02:00", 25, "01:00:00:00", 2.0),  # a programme starting at 01:00:00:00
        ("01:00:00;00", 29.97, "00:59:59;28", 2 * 1001 / 30000),
        ("2.5", 24, None, 2.5),
    ],
)
def test_time_codes_are_read_at_their_rate(value: str, rate: float, start: str | None, seconds: float) -> None:
    assert timecode_seconds(value, rate, start) == pytest.approx(seconds, abs=1e-9)


@pytest.mark.parametrize(
    ("value", "rate", "start", "message"),
    [
        ("00:01:00;00", 29.97, None, "not a valid drop-frame time code"),
        ("00:01:00;01", 59.94, None, "not a valid drop-frame time code"),
        ("00:00:01:25", 25, None, "not a valid non-drop time code at 25 fps"),
        ("00:00:01:24", 23.976, None, "not a valid non-drop time code"),
        ("00:61:00:00", 24, None, "not a valid non-drop time code"),
        ("00:00:01;00", 25, None, "drop-frame (;) time codes exist only at 29.97 and 59.94 fps"),
        ("00:59:59:00", 25, "01:00:00:00", "before the start time code 01:00:00:00"),
        ("00:00:01:00", 12, None, "frame rate 12 is not one of"),
    ],
)
def test_time_codes_that_do_not_exist_are_refused(value: str, rate: float, start: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        timecode_seconds(value, rate, start)


# --------------------------------------------------------------------------- at sign

pytestmark = needs_ffmpeg()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("tc") / "ws", "Timecode Test Post").workspace


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds at 29.97 fps."""
    out = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=30000/1001:duration=2",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)],
        check=True, timeout=120,
    )  # fmt: skip
    return out


def doc(rate: float, start: str, end: str, first: str | None = None) -> dict[str, Any]:
    d = disclosure("bg_replace.json")
    d["asset"]["frame_rate"] = rate
    if first:
        d["asset"]["start_timecode"] = first
    d["genai"][0]["time_range"] = {"start": start, "end": end}
    return d


def sign(cli: Cli, ws: Workspace, tmp_path: Path, clip: Path, document: dict[str, Any]) -> CliResult:
    spec = tmp_path / "disclosure.json"
    spec.write_text(json.dumps(document), encoding="utf-8")
    return cli("sign", clip, "-o", tmp_path / "out.mp4", "--disclosure", spec, "--format", "json", "--home", ws.home)


def npt(out: Path) -> tuple[str, str]:
    """The temporal region c2pa reads back from the signed file's actions."""
    with open(out, "rb") as stream, c2pa.Reader("video/mp4", stream) as reader:
        store = json.loads(reader.json())
    manifest = store["manifests"][store["active_manifest"]]
    for assertion in manifest["assertions"]:
        for action in assertion["data"].get("actions", []) if assertion["label"] == "c2pa.actions.v2" else []:
            for change in action.get("changes") or []:
                time = change["region"][0]["time"]
                return time["start"], time["end"]
    raise AssertionError(manifest["assertions"])


def test_drop_frame_range_on_a_29_97_clip(ws: Workspace, tmp_path: Path, clip: Path, cli: Cli) -> None:
    res = sign(cli, ws, tmp_path, clip, doc(29.97, "00:00:00;15", "00:00:01;29"))
    assert res.code == 0, res.stderr
    assert npt(tmp_path / "out.mp4") == ("0.500", "1.969")  # frames 15 and 59 at 30000/1001


def test_programme_start_time_code(ws: Workspace, tmp_path: Path, clip: Path, cli: Cli) -> None:
    res = sign(cli, ws, tmp_path, clip, doc(29.97, "01:00:00:15", "01:00:01:00", first="01:00:00:00"))
    assert res.code == 0, res.stderr
    assert npt(tmp_path / "out.mp4") == ("0.500", "1.001")


def test_range_beyond_the_media_is_refused_naming_the_field(
    ws: Workspace, tmp_path: Path, clip: Path, cli: Cli
) -> None:
    res = sign(cli, ws, tmp_path, clip, doc(29.97, "01:00:01:00", "01:00:03:00", first="01:00:00:00"))
    assert res.code == 2
    [line] = res.error_lines
    assert line.startswith(ERROR_PREFIX) and "genai[0].time_range.end" in line and "beyond the end of clip.mp4" in line
    assert not (tmp_path / "out.mp4").exists()


def test_invalid_drop_frame_label_is_refused_naming_the_field(
    ws: Workspace, tmp_path: Path, clip: Path, cli: Cli
) -> None:
    res = sign(cli, ws, tmp_path, clip, doc(29.97, "00:00:00;00", "00:01:00;00"))
    assert res.code == 2 and "genai[0].time_range" in res.stderr and "drop-frame" in res.stderr


def test_without_ffprobe_the_range_is_not_checked_and_a_warning_says_so(
    ws: Workspace, tmp_path: Path, clip: Path, cli: Cli
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg
    (bin_dir / "ffmpeg").symlink_to(ffmpeg)  # thumbnails still work; ffprobe is absent
    spec = _write(tmp_path, doc(29.97, "00:00:01:00", "00:00:09:00"))
    res = cli("sign", clip, "-o", tmp_path / "out.mp4", "--disclosure", spec, "--format", "json", "--home", ws.home,
              env={"PATH": str(bin_dir)})  # fmt: skip
    assert res.code == 0, res.stderr
    assert any("ffprobe is not installed" in w for w in res.json()["warnings"])


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    spec = tmp_path / "d.json"
    spec.write_text(json.dumps(document), encoding="utf-8")
    return spec
