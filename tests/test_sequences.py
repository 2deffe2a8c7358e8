"""Image sequences as one asset: `sign name.%04d.exr` signs every frame (a sidecar each, carrying the signed
record of the whole sequence); verify, check and package report one asset per sequence and name the frame
behind any problem.

Real EXR and DPX sequences made by ffmpeg, real signing through c2pa-python, a standard c2pa Reader for
each frame on its own, the real SQLite approval ledger and BagIt packages.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import DISCLOSURES, ERROR_PREFIX, MEDIA, CliResult, needs_ffmpeg
from payload import flipped_copy

from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.credentials.sequence_pattern import (
    FramePattern,
    group_frames,
    parse_frames,
    parse_pattern,
)
from genai_provenance.credentials.sequence_record import FrameClaim
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.credentials.sign_sequence import sequence_input
from genai_provenance.errors import InputError
from genai_provenance.schemas import validate
from genai_provenance.workspace import Workspace, init_workspace

Cli = Callable[..., CliResult]
PLATE = DISCLOSURES / "plate.json"
NAME = "EP101_SH010_comp_v003"
PRODUCTION = "PRJ-0042"
APPROVAL = "APR-2026-0301"
FIRST, COUNT = 1001, 6

pytestmark = needs_ffmpeg()


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=120)


def make_frames(folder: Path, ext: str, source: str = "testsrc", name: str = NAME) -> Path:
    """COUNT frames numbered from FIRST (ffmpeg's image2 muxer, as a DCC tool would name them)."""
    folder.mkdir(parents=True, exist_ok=True)
    pix = ["-pix_fmt", "gbrpf32le", "-compression", "0"] if ext == "exr" else ["-pix_fmt", "rgb48le"]
    ffmpeg("-f", "lavfi", "-i", f"{source}=size=64x36:rate=24", "-frames:v", str(COUNT), *pix,
           "-start_number", str(FIRST), str(folder / f"{name}.%04d.{ext}"))  # fmt: skip
    return folder


def frame(folder: Path, number: int, ext: str = "exr") -> Path:
    return folder / f"{NAME}.{number:04d}.{ext}"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Kit:
    ws: Workspace
    signed: Path  # a signed EXR sequence (plate disclosure), copied by each test
    other: Path  # another signed sequence with the same file names (other pictures)
    base: Path

    def copy(self, dest: Path, src: Path | None = None) -> Path:
        shutil.copytree(src or self.signed, dest)
        return dest


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory, cli: Cli) -> Kit:
    base = tmp_path_factory.mktemp("sequences")
    ws = init_workspace(base / "ws", "Sequence Test Post").workspace
    signed, other = make_frames(base / "signed", "exr"), make_frames(base / "other", "exr", "testsrc2")
    for folder in (signed, other):
        res = cli("sign", folder / f"{NAME}.%04d.exr", "--disclosure", PLATE, "--home", ws.home)
        assert res.code == 0, res.stderr
    return Kit(ws, signed, other, base)


def verify_json(cli: Cli, kit: Kit, *paths: Path, command: str = "verify") -> tuple[int, list[dict[str, Any]]]:
    res = cli(command, *paths, "--format", "json", "--home", kit.ws.home)
    assert res.code in (0, 1), res.stderr
    doc = res.json()
    validate(f"{command}-report", doc, f"{command} --format json")
    return res.code, doc["assets"]


def failures_of(asset: dict[str, Any]) -> list[str]:
    return [f"{f['code']}: {f['explanation']}" for f in asset["failures"]]


# --------------------------------------------------------------------------- patterns


def test_patterns_as_dcc_tools_write_them(tmp_path: Path) -> None:
    for text, width in (("a.%04d.exr", 4), ("a.####.exr", 4), ("a.@@@.exr", 3), ("a.@.exr", 1), ("a_%d.dpx", 1)):
        pattern = parse_pattern(tmp_path / text)
        assert pattern.width == width, text
        assert pattern.number(pattern.name(1001)) == 1001
    assert parse_pattern(tmp_path / "a.####.exr").printf == "a.%04d.exr"
    real = tmp_path / "poster@2x.exr"
    real.write_bytes(b"v/1\x01")
    assert sequence_input(real, None) is None, "an existing file is signed as itself"
    assert sequence_input(tmp_path / "a.@@.exr", None) == FramePattern(tmp_path, "a.", 2, ".exr")
    assert parse_frames("1001-1003,1010") == (1001, 1002, 1003, 1010)
    for bad in ("1003-1001", "x", "1001-", ""):
        with pytest.raises(InputError):
            parse_frames(bad)
    with pytest.raises(InputError):
        parse_pattern(tmp_path / "a.%04d.%04d.exr")
    pattern = FramePattern(tmp_path, "a.", 4, ".exr")
    assert pattern.number("a.01001.exr") is None, "over-padded: another pattern's frame"
    names = [tmp_path / n for n in ("s.0999.exr", "s.1000.exr", "s.1001.exr", "v1.jpg", "lone.0001.exr")]
    [sequence], rest = group_frames(names)
    assert sequence.display == "s.[999-1001].exr" and sequence.pattern.printf == "s.%04d.exr"
    assert sorted(p.name for p in rest) == ["lone.0001.exr", "v1.jpg"]


# --------------------------------------------------------------------------- signing


@pytest.mark.parametrize(("ext", "token"), [("exr", "%04d"), ("dpx", "####"), ("exr", "@@@@")])
def test_sequence_signs_every_frame_and_verifies_as_one_trusted_asset(
    ext: str, token: str, kit: Kit, tmp_path: Path, cli: Cli
) -> None:
    folder = make_frames(tmp_path / "shots", ext)
    before = {p.name: sha(p) for p in folder.iterdir()}
    res = cli("sign", folder / f"{NAME}.{token}.{ext}", "--disclosure", PLATE, "--format", "json",
              "--home", kit.ws.home)  # fmt: skip
    assert res.code == 0, res.stderr
    doc = res.json()
    validate("sign-sequence-report", doc, "sign PATTERN --format json")
    assert doc["sequence"]["pattern"] == f"{NAME}.%04d.{ext}"
    assert (doc["sequence"]["first"], doc["sequence"]["last"], doc["sequence"]["count"]) == (1001, 1006, 6)
    assert [f["frame"] for f in doc["frames"]] == list(range(1001, 1007))
    assert {p.name: sha(p) for p in folder.iterdir() if p.suffix != ".c2pa"} == before, "frames never modified"
    # Each frame stays verifiable on its own by a standard C2PA reader, with its sidecar.
    context = TrustSettings(kit.ws.trust_anchors()).context()
    mime = "image/x-exr" if ext == "exr" else "image/x-dpx"
    for number in range(1001, 1007):
        path = frame(folder, number, ext)
        with open(path, "rb") as stream:
            reader = c2pa.Reader(mime, stream, path.with_name(path.name + ".c2pa").read_bytes(), context=context)
            with reader:
                assert reader.get_validation_state() == "Trusted"
                store = json.loads(reader.json())
        active = store["manifests"][store["active_manifest"]]
        [record] = [a["data"] for a in active["assertions"] if a["label"] == "com.genai-provenance.sequence"]
        assert record["frame"] == number and record["count"] == 6
        assert record["frames"][number - 1001] == {"frame": number, "sha256": before[path.name]}
    code, [asset] = verify_json(cli, kit, folder)
    assert code == 0, failures_of(asset)
    assert asset["path"] == str(folder / f"{NAME}.[1001-1006].{ext}")
    assert asset["status"] == "trusted"
    seq = asset["sequence"]
    assert (seq["first"], seq["last"], seq["count"], seq["present"]) == (1001, 1006, 6, 6)
    assert seq["missing"] == seq["extra"] == seq["gaps"] == []
    assert seq["record"] == doc["sequence"]["record"]
    code, [verdict] = verify_json(cli, kit, folder, command="check")
    assert code == 0 and verdict["path"] == asset["path"]
    text = cli("verify", folder, "--home", kit.ws.home).stdout
    assert f"{NAME}.[1001-1006].{ext}" in text and "frames 1001-1006, 6 in the signed record, 6 on disk" in text


def test_gaps_need_frames_option_and_frames_must_exist(kit: Kit, tmp_path: Path, cli: Cli) -> None:
    folder = make_frames(tmp_path / "shots", "exr")
    frame(folder, 1004).unlink()
    pattern = folder / f"{NAME}.%04d.exr"
    res = cli("sign", pattern, "--disclosure", PLATE, "--home", kit.ws.home)
    assert res.code == 2 and res.error_lines[0].startswith(ERROR_PREFIX), res.stderr
    assert "frames 1004 are missing" in res.stderr and "--frames" in res.stderr
    res = cli("sign", pattern, "--frames", "1001-1010", "--disclosure", PLATE, "--home", kit.ws.home)
    assert res.code == 2 and "1004, 1007, 1008, 1009, 1010" in res.stderr
    assert not list(folder.glob("*.c2pa")), "nothing written"
    res = cli("sign", pattern, "--frames", "1001-1003,1005-1006", "--disclosure", PLATE, "--home", kit.ws.home)
    assert res.code == 0, res.stderr
    code, [asset] = verify_json(cli, kit, folder)
    assert code == 0, failures_of(asset)
    assert asset["sequence"]["gaps"] == [1004] and asset["sequence"]["missing"] == []
    res = cli("sign", frame(folder, 1001), "--frames", "1001", "--disclosure", PLATE, "--home", kit.ws.home)
    assert res.code == 2 and "--frames needs a sequence pattern" in res.stderr


def test_an_existing_sidecar_stops_the_sequence_before_anything_is_written(kit: Kit, tmp_path: Path, cli: Cli) -> None:
    folder = make_frames(tmp_path / "shots", "exr")
    blocker = folder / f"{NAME}.1005.exr.c2pa"
    blocker.write_bytes(b"not mine")
    res = cli("sign", folder / f"{NAME}.%04d.exr", "--disclosure", PLATE, "--home", kit.ws.home)
    assert res.code == 2 and str(blocker) in res.stderr
    assert [p.name for p in folder.glob("*.c2pa")] == [blocker.name]


# --------------------------------------------------------------------------- attacks


def _flip_byte(folder: Path, kit: Kit) -> None:
    path = frame(folder, 1003)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _delete(folder: Path, kit: Kit) -> None:
    for path in folder.glob(f"{NAME}.1004.exr*"):
        path.unlink()


def _add_unsigned(folder: Path, kit: Kit) -> None:
    shutil.copy2(frame(folder, 1006), frame(folder, 1007))


def _add_signed(folder: Path, kit: Kit) -> None:
    shutil.copy2(frame(kit.other, 1006), frame(folder, 1007))
    shutil.copy2(kit.other / f"{NAME}.1006.exr.c2pa", folder / f"{NAME}.1007.exr.c2pa")


def _swap(folder: Path, kit: Kit, sidecars: bool = True) -> None:
    for suffix in (".exr", ".exr.c2pa") if sidecars else (".exr",):
        a, b = folder / f"{NAME}.1002{suffix}", folder / f"{NAME}.1005{suffix}"
        tmp = folder / "swap.tmp"
        a.rename(tmp)
        b.rename(a)
        tmp.rename(b)


def _swap_bytes_only(folder: Path, kit: Kit) -> None:
    _swap(folder, kit, sidecars=False)


def _drop_in_other(folder: Path, kit: Kit) -> None:
    for suffix in (".exr", ".exr.c2pa"):
        shutil.copy2(kit.other / f"{NAME}.1003{suffix}", folder / f"{NAME}.1003{suffix}")


def _strip_sidecar(folder: Path, kit: Kit) -> None:
    (folder / f"{NAME}.1002.exr.c2pa").unlink()


def _resign_alone(folder: Path, kit: Kit) -> None:
    """Frame 1002 replaced by other pictures and signed on its own by the same (trusted) signer."""
    path = frame(folder, 1002)
    (folder / f"{NAME}.1002.exr.c2pa").unlink()
    shutil.copy2(frame(kit.other, 1002), path)
    trust = TrustSettings(kit.ws.trust_anchors())
    sign_asset(SignRequest(path, None, PLATE, kit.ws.identity(), trust, sidecar=True))


def _resign_declaring_otherwise(folder: Path, kit: Kit) -> None:
    """Frame 1002 signed again with the sequence's own record but another disclosure."""
    trust = TrustSettings(kit.ws.trust_anchors())
    claim = verify_file(frame(folder, 1001), trust.context()).sequence_claim
    assert claim is not None
    (folder / f"{NAME}.1002.exr.c2pa").unlink()
    other = DISCLOSURES / "bg_replace.json"
    extra = [FrameClaim(claim.record, 1002).assertion()]
    sign_asset(SignRequest(frame(folder, 1002), None, other, kit.ws.identity(), trust, extra_assertions=extra))


def _resign_over_broken_history(folder: Path, kit: Kit) -> None:
    """Frame 1002 signed again with the sequence's record, over a tampered parent (recorded as such)."""
    trust = TrustSettings(kit.ws.trust_anchors())
    claim = verify_file(frame(folder, 1001), trust.context()).sequence_claim
    assert claim is not None
    parent = folder.parent / "parent.jpg"
    sign_asset(SignRequest(MEDIA / "plate.jpg", parent, PLATE, kit.ws.identity(), trust))
    flipped_copy(parent, parent)
    (folder / f"{NAME}.1002.exr.c2pa").unlink()
    extra = [FrameClaim(claim.record, 1002).assertion()]
    request = SignRequest(frame(folder, 1002), None, PLATE, kit.ws.identity(), trust, parent=parent)
    request.extra_assertions, request.record_broken_history = extra, True
    sign_asset(request)


ATTACKS = {
    "one byte changed": (_flip_byte, {"sequence.frame-changed": [1003], "sequence.frame-invalid": [1003]}),
    "frame deleted": (_delete, {"sequence.frame-missing": [1004]}),
    "unsigned frame added": (_add_unsigned, {"sequence.extra-frame": [1007], "sequence.frame-unsigned": [1007]}),
    "signed frame added": (_add_signed, {"sequence.extra-frame": [1007], "sequence.record-mismatch": [1007]}),
    "frames swapped with sidecars": (_swap, {"sequence.frame-moved": [1002, 1005]}),
    "frames swapped": (
        _swap_bytes_only,
        {"sequence.frame-moved": [1002, 1005], "sequence.frame-invalid": [1002, 1005]},
    ),
    "frame of another sequence": (
        _drop_in_other,
        {"sequence.record-mismatch": [1003], "sequence.frame-changed": [1003]},
    ),
    "frame declares otherwise": (_resign_declaring_otherwise, {"sequence.declarations-differ": [1002]}),
    "frame over a broken history": (_resign_over_broken_history, {"sequence.frame-history": [1002]}),
    "sidecar removed": (_strip_sidecar, {"sequence.frame-unsigned": [1002]}),
    "frame replaced and signed alone": (
        _resign_alone,
        {"sequence.frame-not-in-record": [1002], "sequence.frame-changed": [1002]},
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_on_a_signed_sequence_is_caught_and_the_frame_named(
    attack: str, kit: Kit, tmp_path: Path, cli: Cli
) -> None:
    folder = kit.copy(tmp_path / "shots")
    tamper, expected = ATTACKS[attack]
    tamper(folder, kit)
    for command in ("verify", "check"):
        code, assets = verify_json(cli, kit, folder, command=command)
        assert code == 1, f"{attack}: {command} passed"
        [asset] = assets
        report = asset if command == "verify" else asset["verification"]
        assert report["status"] == "invalid"
        found = failures_of(report)
        for code_name, numbers in expected.items():
            for number in numbers:
                name = f"{NAME}.{number:04d}.exr"
                assert any(f.startswith(code_name) and name in f for f in found), (attack, code_name, name, found)
    seq = report["sequence"]
    assert seq["missing"] == ([1004] if attack == "frame deleted" else [])
    assert seq["extra"] == ([1007] if "added" in attack else [])


def test_a_lone_frame_left_of_a_sequence_is_not_a_pass(kit: Kit, tmp_path: Path, cli: Cli) -> None:
    folder = kit.copy(tmp_path / "shots")
    for number in range(1002, 1007):
        for path in folder.glob(f"{NAME}.{number}.exr*"):
            path.unlink()
    code, [asset] = verify_json(cli, kit, folder)
    assert code == 1 and asset["status"] == "invalid"
    assert asset["sequence"]["missing"] == [1002, 1003, 1004, 1005, 1006]
    code, [asset] = verify_json(cli, kit, frame(folder, 1001))
    assert code == 1 and asset["path"] == str(frame(folder, 1001))


def test_frames_signed_one_by_one_stay_files_of_their_own(kit: Kit, tmp_path: Path, cli: Cli) -> None:
    """Numbered stills signed one by one (no sequence record) are not merged into a sequence."""
    folder = make_frames(tmp_path / "shots", "exr")
    for number in range(FIRST, FIRST + COUNT):
        res = cli("sign", frame(folder, number), "--disclosure", PLATE, "--home", kit.ws.home)
        assert res.code == 0, res.stderr
    code, assets = verify_json(cli, kit, folder)
    assert code == 0 and [a["path"] for a in assets] == [str(frame(folder, n)) for n in range(FIRST, FIRST + COUNT)]
    assert all("sequence" not in a for a in assets)


def test_unsigned_frames_are_one_asset_without_credentials(kit: Kit, tmp_path: Path, cli: Cli) -> None:
    folder = make_frames(tmp_path / "plain", "dpx")
    code, [asset] = verify_json(cli, kit, folder)
    assert code == 1 and asset["status"] == "no-credentials"
    assert asset["path"].endswith(f"{NAME}.[1001-1006].dpx") and asset["sequence"]["record"] is None


# --------------------------------------------------------------------------- the gate


def comp_disclosure(path: Path, approvals: list[str]) -> Path:
    doc = {
        "asset": {"title": NAME, "production": PRODUCTION, "asset_id": "EP101_SH010", "intended_use": "final"},
        "source_type": "digitalCapture",
        "genai": [
            {
                "tool": {"name": "Runway Gen-4", "version": "4.0", "vendor": "Runway"},
                "model": "gen4-turbo",
                "action": "edited",
                "source_type": "compositeWithTrainedAlgorithmicMedia",
                "category": "background-element",
                "description": "sky replaced",
                "inputs": [{"kind": "own-footage", "ref": "EP101_SH010_plate_v001"}],
                "data_handling": {"trains_on_inputs": False, "retains_inputs": False, "enterprise_environment": True},
                "approvals": approvals,
            }
        ],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("approved", [True, False])
def test_genai_comp_sequence_packages_only_when_approved(
    approved: bool, kit: Kit, tmp_path: Path, cli: Cli, cli_process: Cli
) -> None:
    home = shutil.copytree(kit.ws.home, tmp_path / "ws")
    if approved:
        res = cli("approvals", "grant", "--id", APPROVAL, "--production", PRODUCTION, "--asset", "EP101_SH010",
                  "--covers", "background-element,final-deliverable", "--home", home)  # fmt: skip
        assert res.code == 0, res.stderr
    source = tmp_path / "deliverable"
    shots = make_frames(source / "EP101" / "SH010", "exr")
    spec = comp_disclosure(tmp_path / "comp.json", [APPROVAL])
    res = cli("sign", shots / f"{NAME}.%04d.exr", "--disclosure", spec, "--home", home)
    assert res.code == 0, res.stderr
    target = tmp_path / "out" / "EP101_final"
    res = cli("package", source, "-o", target, "--format", "json", "--home", home)
    doc = res.json()
    validate("package-report", doc, "package --format json")
    [asset] = doc["assets"]
    assert asset["path"] == f"EP101/SH010/{NAME}.[1001-1006].exr"
    assert asset["verification"]["sequence"]["count"] == 6
    if not approved:
        assert res.code == 1 and not target.exists()
        assert any(f["rule_id"] == "GP-FINAL-001" for f in asset["findings"]), asset["findings"]
        return
    assert res.code == 0, asset["findings"]
    report = json.loads((target / "genai-provenance" / "package-report.json").read_text(encoding="utf-8"))
    validate("package-manifest-report", report, "package report")
    [entry] = report["assets"]
    assert [f["frame"] for f in entry["sequence"]["frames"]] == list(range(1001, 1007))
    assert all(
        (target / f["path"]).is_file() and (target / f["sidecar"]).is_file() for f in entry["sequence"]["frames"]
    )
    res = cli_process("verify-package", target, "--home", home)
    assert res.code == 0, res.stdout + res.stderr
    # A frame deleted from the source afterwards: the gate blocks and names it.
    for path in shots.glob(f"{NAME}.1006.exr*"):
        path.unlink()
    res = cli("package", source, "-o", tmp_path / "out" / "again", "--format", "json", "--home", home)
    assert res.code == 1
    [asset] = res.json()["assets"]
    assert asset["verification"]["sequence"]["missing"] == [1006]


def test_sequences_are_checked_in_worker_processes(kit: Kit, cli: Cli) -> None:
    res = cli("verify", kit.signed, kit.other, "--workers", "2", "--format", "json", "--home", kit.ws.home)
    assert res.code == 0, res.stdout
    doc = res.json()
    assert [a["path"] for a in doc["assets"]] == [
        str(kit.signed / f"{NAME}.[1001-1006].exr"),
        str(kit.other / f"{NAME}.[1001-1006].exr"),
    ]
    assert doc["discovery"]["checked"] == 12
    assert doc["assets"][0]["sequence"]["record"] != doc["assets"][1]["sequence"]["record"]
