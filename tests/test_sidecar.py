"""Sidecar manifests (`<asset>.c2pa`): EXR, DPX, MXF and any file, and `--sidecar` for formats that could embed.

Real media made by ffmpeg, real signing through c2pa-python, the real console script: signed, then verified,
checked, explained and packaged with the sidecar beside its asset.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CLI_COMMAND, DISCLOSURES, ERROR_PREFIX, MEDIA, CliResult, leftovers, needs_ffmpeg

from genai_provenance.files import TEMP_MARK
from genai_provenance.schemas import validate
from genai_provenance.workspace import Workspace, init_workspace

Cli = Callable[..., CliResult]
PLATE = DISCLOSURES / "plate.json"

pytestmark = needs_ffmpeg()


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=120)


def make_mxf(out: Path, opatom: bool = False) -> Path:
    fmt = "mxf_opatom" if opatom else "mxf"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x180:rate=25:duration=1", "-c:v", "mpeg2video", "-f", fmt, str(out))
    return out


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("sidecar") / "ws", "Sidecar Test Post").workspace


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """EXR and DPX frames (ffmpeg), an OP1a and an OP-Atom MXF, a JPEG and an MP4."""
    base = tmp_path_factory.mktemp("media")
    exr, dpx = base / "frame.exr", base / "frame.dpx"
    src = "testsrc=size=320x180:rate=24:duration=1"
    ffmpeg("-f", "lavfi", "-i", src, "-frames:v", "1", "-pix_fmt", "gbrpf32le", "-compression", "0", str(exr))
    ffmpeg("-f", "lavfi", "-i", src, "-frames:v", "1", "-pix_fmt", "rgb48le", str(dpx))
    out = {
        "exr": exr,
        "dpx": dpx,
        "mxf": make_mxf(base / "op1a.mxf"),
        "opatom": make_mxf(base / "opatom.mxf", opatom=True),
        "jpg": base / "plate.jpg",
        "mp4": base / "plate.mp4",
    }
    shutil.copy2(MEDIA / "plate.jpg", out["jpg"])
    shutil.copy2(MEDIA / "plate.mp4", out["mp4"])
    return out


def fresh(media: dict[str, Path], kind: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / media[kind].name
    shutil.copy2(media[kind], path)
    return path


@pytest.mark.parametrize(
    ("kind", "flags"),
    [("exr", ()), ("dpx", ()), ("mxf", ()), ("opatom", ()), ("jpg", ("--sidecar",)), ("mp4", ("--sidecar",))],
)
def test_signed_sidecar_verifies_trusted_and_input_is_untouched(
    kind: str, flags: tuple[str, ...], media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    asset = fresh(media, kind, tmp_path)
    before = sha(asset)
    res = cli("sign", asset, "--disclosure", PLATE, *flags, "--format", "json", "--home", ws.home)
    assert res.code == 0, res.stderr
    doc = res.json()
    validate("sign-report", doc, "sign --format json")
    sidecar = asset.with_name(asset.name + ".c2pa")
    assert doc["output"] == str(sidecar) and doc["sidecar"] is True
    assert sidecar.is_file() and sha(asset) == before, "the input is never modified"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([asset.name, sidecar.name])
    verified = cli("verify", asset, "--format", "json", "--home", ws.home)
    assert verified.code == 0, verified.stdout
    [report] = verified.json()["assets"]
    assert report["status"] == "trusted"
    assert report["embedded"] is False
    checked = cli("check", asset, "--format", "json", "--home", ws.home)
    assert checked.code == 0, checked.stdout
    explained = cli("explain", asset, "--home", ws.home)
    assert explained.code == 0, explained.stdout
    assert "Sidecar Test Post" in explained.stdout


def test_without_its_sidecar_an_exr_has_no_credentials(
    media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    asset = fresh(media, "exr", tmp_path)
    assert cli("sign", asset, "--disclosure", PLATE, "--home", ws.home).code == 0
    asset.with_name(asset.name + ".c2pa").unlink()
    res = cli("verify", asset, "--format", "json", "--home", ws.home)
    assert res.code == 1 and res.json()["assets"][0]["status"] == "no-credentials"


def test_one_byte_changed_in_the_exr_after_signing_is_invalid(
    media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    asset = fresh(media, "exr", tmp_path)
    assert cli("sign", asset, "--disclosure", PLATE, "--home", ws.home).code == 0
    data = bytearray(asset.read_bytes())
    data[len(data) // 2] ^= 0x01  # a pixel in the middle of the (uncompressed) image
    asset.write_bytes(bytes(data))
    res = cli("verify", asset, "--format", "json", "--home", ws.home)
    assert res.code == 1
    [report] = res.json()["assets"]
    assert report["status"] == "invalid"
    assert any("mismatch" in f["code"] for f in report["failures"]), report["failures"]


def test_any_file_gets_a_sidecar(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    """A camera raw format we do not know (here `.ari`) still gets a sidecar that verifies."""
    asset = tmp_path / "A001C003.ari"
    asset.write_bytes(os.urandom(50_000))
    res = cli("sign", asset, "--disclosure", PLATE, "--home", ws.home)
    assert res.code == 0, res.stderr
    verified = cli("verify", asset, "--format", "json", "--home", ws.home)
    assert verified.code == 0, verified.stdout
    assert verified.json()["assets"][0]["status"] == "trusted"


def test_existing_sidecar_is_refused_without_force(
    media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    asset = fresh(media, "mxf", tmp_path)
    sidecar = asset.with_name(asset.name + ".c2pa")
    assert cli("sign", asset, "--disclosure", PLATE, "--home", ws.home).code == 0
    first = sidecar.read_bytes()
    res = cli("sign", asset, "--disclosure", PLATE, "--home", ws.home)
    assert res.code == 2 and res.error_lines == [f"{ERROR_PREFIX}{sidecar}: already exists (use --force to replace it)"]
    assert sidecar.read_bytes() == first
    # Replacing credentials would drop their history (the bypass of `sign --parent` on an input that
    # already carries credentials, for sidecars): refused even with --force.
    res = cli("sign", asset, "--disclosure", PLATE, "--force", "--home", ws.home)
    assert res.code == 2 and "already holds Content Credentials" in res.stderr and "even with --force" in res.stderr
    assert sidecar.read_bytes() == first
    # A sidecar of another file (no credentials for this one) is replaced with --force.
    other = fresh(media, "exr", tmp_path)
    assert cli("sign", other, "--disclosure", PLATE, "--home", ws.home).code == 0
    sidecar.write_bytes(other.with_name(other.name + ".c2pa").read_bytes())
    res = cli("sign", asset, "--disclosure", PLATE, "--force", "--home", ws.home)
    assert res.code == 1 and "launder a broken history" in res.stderr  # it does not match: broken, not replaced
    sidecar.write_bytes(b"not a manifest store")  # unreadable credentials: a broken history, not nothing
    assert cli("sign", asset, "--disclosure", PLATE, "--force", "--home", ws.home).code == 1
    res = cli("sign", asset, "--disclosure", PLATE, "--force", "--record-broken-history", "--home", ws.home)
    assert res.code == 0, res.stderr
    assert cli("verify", asset, "--home", ws.home).code == 1  # the replaced sidecar is recorded as broken history
    checked = cli("check", asset, "--home", ws.home, "--format", "json").json()
    assert "GP-INTEGRITY-002" in {f["rule_id"] for f in checked["assets"][0]["findings"]}


def test_a_sidecar_that_cannot_be_read_is_refused_not_taken_for_no_credentials(
    media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    """An existing sidecar that cannot be read (here a FIFO in its place, or a link to nothing) was skipped as if
    it held no credentials, and `--force` then replaced it, dropping whatever history it stood for."""
    asset = fresh(media, "mxf", tmp_path)
    sidecar = asset.with_name(asset.name + ".c2pa")
    os.mkfifo(sidecar)
    res = cli("sign", asset, "--disclosure", PLATE, "--force", "--home", ws.home)
    assert res.code == 2 and len(res.error_lines) == 1 and str(sidecar) in res.stderr and "FIFO" in res.stderr
    assert stat.S_ISFIFO(os.lstat(sidecar).st_mode), "left as it was"
    sidecar.unlink()
    sidecar.symlink_to(tmp_path / "gone.c2pa")
    res = cli("sign", asset, "--disclosure", PLATE, "--force", "--home", ws.home)
    assert res.code == 2 and str(sidecar) in res.stderr
    assert sidecar.is_symlink()


def test_sidecar_with_genai_cannot_be_laundered_by_resigning(
    media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    asset = fresh(media, "exr", tmp_path)
    comp = DISCLOSURES / "bg_replace.json"
    assert cli("sign", asset, "--disclosure", comp, "--home", ws.home).code == 0
    assert cli("check", asset, "--home", ws.home, "--format", "json").json()["assets"][0]["genai"] is True
    res = cli("sign", asset, "--disclosure", PLATE, "--force", "--home", ws.home)  # "no GenAI here"
    assert res.code == 2
    assert cli("check", asset, "--home", ws.home, "--format", "json").json()["assets"][0]["genai"] is True


def test_output_rules(media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    """-o names the sidecar (it must end in .c2pa); embedding formats still need -o unless --sidecar."""
    asset = fresh(media, "dpx", tmp_path)
    res = cli("sign", asset, "--disclosure", PLATE, "-o", tmp_path / "out.dpx", "--home", ws.home)
    assert res.code == 2 and "must end in .c2pa" in res.stderr
    assert not (tmp_path / "out.dpx").exists()
    elsewhere = tmp_path / "sidecars" / "frame.dpx.c2pa"
    res = cli("sign", asset, "--disclosure", PLATE, "-o", elsewhere, "--home", ws.home)
    assert res.code == 0 and elsewhere.is_file()
    assert "beside the asset" in res.stdout  # told where verify looks for it
    jpg = fresh(media, "jpg", tmp_path)
    res = cli("sign", jpg, "--disclosure", PLATE, "--home", ws.home)
    assert res.code == 2 and "-o/--output is required" in res.stderr
    res = cli("sign", jpg, "--disclosure", PLATE, "--sidecar", "-o", tmp_path / "x.jpg", "--home", ws.home)
    assert res.code == 2 and "must end in .c2pa" in res.stderr


def test_sidecar_of_a_renamed_asset_is_a_content_mismatch(ws: Workspace, tmp_path: Path, cli: Cli) -> None:
    """A PNG named .exr is refused before anything is written."""
    asset = tmp_path / "frame.exr"
    shutil.copy2(MEDIA / "plate.png", asset)
    res = cli("sign", asset, "--disclosure", PLATE, "--home", ws.home)
    assert res.code == 2 and "content is PNG" in res.stderr
    assert not asset.with_name("frame.exr.c2pa").exists()


def test_package_and_verify_package_carry_sidecars(
    media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    source = tmp_path / "deliverable"
    for kind in ("exr", "dpx", "mxf"):
        asset = fresh(media, kind, source / "frames")
        assert cli("sign", asset, "--disclosure", PLATE, "--home", ws.home).code == 0
    jpg = fresh(media, "jpg", source / "stills")
    assert cli("sign", jpg, "--disclosure", PLATE, "--sidecar", "--home", ws.home).code == 0
    bag = tmp_path / "out" / "bag"
    res = cli("package", source, "-o", bag, "--format", "json", "--home", ws.home)
    assert res.code == 0, res.stdout + res.stderr
    doc = res.json()
    assert doc["written"] is True and doc["stray"] == []
    assert sorted(a["path"] for a in doc["assets"]) == [
        "frames/frame.dpx",
        "frames/frame.exr",
        "frames/op1a.mxf",
        "stills/plate.jpg",
    ]
    assert all(a["status"] == "trusted" for a in doc["assets"])
    assert (bag / "data" / "frames" / "frame.exr.c2pa").is_file()
    checked = cli("verify-package", bag, "--format", "json", "--home", ws.home)
    assert checked.code == 0, checked.stdout
    assert checked.json()["ok"] is True


def test_killed_sidecar_sign_leaves_no_partial_sidecar(ws: Workspace, tmp_path: Path) -> None:
    """SIGKILL while the manifest is being made (the staged file exists): no sidecar appears; the next
    sign sweeps the dead run's staged file."""
    asset = tmp_path / "master.ari"
    with open(asset, "wb") as fh:  # sparse: hashing 512 MiB takes a moment, storing it takes nothing
        fh.truncate(1 << 29)
    sidecar = tmp_path / "master.ari.c2pa"
    cmd = [*CLI_COMMAND, "sign", str(asset), "--disclosure", str(PLATE), "--home", str(ws.home)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None and not any(TEMP_MARK in p.name for p in tmp_path.iterdir()):
            pass
        assert proc.poll() is None, "signing finished before it could be interrupted"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert not sidecar.exists()
    assert any(TEMP_MARK in name for name in os.listdir(tmp_path)), "the dead run's staged file is recognisable"
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    assert sidecar.is_file() and leftovers(tmp_path) == []


# --------------------------------------------------------------------------- IMF packages

AM = "http://www.smpte-ra.org/schemas/429-9/2007/AM"
PKL = "http://www.smpte-ra.org/schemas/2067-2/2016/PKL"
CPL = "http://www.smpte-ra.org/schemas/2067-3/2016"
UUID = "urn:uuid:3b5e2c0e-4d0e-4c57-9a34-0a8f3a1d2b11"


def imf_xml(root: str, namespace: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{namespace}"><Id>{UUID}</Id></{root}>\n'


def imf_folder(folder: Path, media: dict[str, Path]) -> Path:
    """An IMF-shaped package: asset map, packing list, composition playlist, two MXF track files."""
    folder.mkdir(parents=True)
    (folder / "ASSETMAP.xml").write_text(imf_xml("AssetMap", AM), encoding="utf-8")
    (folder / "PKL_3b5e2c0e.xml").write_text(imf_xml("PackingList", PKL), encoding="utf-8")
    (folder / "CPL_3b5e2c0e.xml").write_text(imf_xml("CompositionPlaylist", CPL), encoding="utf-8")
    shutil.copy2(media["opatom"], folder / "VIDEO_3b5e2c0e.mxf")
    shutil.copy2(media["mxf"], folder / "VIDEO_reel2.mxf")
    return folder


def test_imf_package_passes_the_gate_with_every_track_file_signed(
    media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    source = imf_folder(tmp_path / "IMP", media)
    for track in ("VIDEO_3b5e2c0e.mxf", "VIDEO_reel2.mxf"):
        assert cli("sign", source / track, "--disclosure", PLATE, "--home", ws.home).code == 0
    bag = tmp_path / "out" / "bag"
    res = cli("package", source, "-o", bag, "--format", "json", "--home", ws.home)
    assert res.code == 0, res.stdout + res.stderr
    doc = res.json()
    assert doc["stray"] == [] and sorted(a["path"] for a in doc["assets"]) == ["VIDEO_3b5e2c0e.mxf", "VIDEO_reel2.mxf"]
    report = json.loads((bag / "genai-provenance" / "package-report.json").read_text(encoding="utf-8"))
    validate("package-manifest-report", report, "package-report.json")
    assert report["structure"] == ["data/ASSETMAP.xml", "data/CPL_3b5e2c0e.xml", "data/PKL_3b5e2c0e.xml"]
    assert (bag / "data" / "CPL_3b5e2c0e.xml").is_file()
    checked = cli("verify-package", bag, "--format", "json", "--home", ws.home)
    assert checked.code == 0 and checked.json()["ok"] is True, checked.stdout


def test_imf_track_file_without_credentials_blocks(
    media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    source = imf_folder(tmp_path / "IMP", media)
    assert cli("sign", source / "VIDEO_3b5e2c0e.mxf", "--disclosure", PLATE, "--home", ws.home).code == 0
    bag = tmp_path / "out" / "bag"
    res = cli("package", source, "-o", bag, "--format", "json", "--home", ws.home)
    assert res.code == 1 and not bag.exists()
    [unsigned] = [a for a in res.json()["assets"] if a["path"] == "VIDEO_reel2.mxf"]
    assert unsigned["status"] == "no-credentials"
    assert any(f["severity"] == "block" for f in unsigned["findings"])


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("CPL_fake.xml", imf_xml("CompositionPlaylist", "http://example.com/not-smpte")),
        ("notes.xml", imf_xml("Notes", CPL)),
        (
            "CPL_bomb.xml",
            '<?xml version="1.0"?>\n<!DOCTYPE CompositionPlaylist [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
            f'<CompositionPlaylist xmlns="{CPL}"><Id>&b;</Id></CompositionPlaylist>\n',
        ),
        ("PKL_broken.xml", f'<PackingList xmlns="{PKL}"><Id>'),
        ("ASSETMAP.txt", imf_xml("AssetMap", AM)),
    ],
)
def test_xml_that_is_not_imf_structure_is_a_stray(
    name: str, text: str, media: dict[str, Path], ws: Workspace, tmp_path: Path, cli: Cli
) -> None:
    """Recognised by content and namespace, parsed without DTDs or entities: anything else blocks."""
    source = imf_folder(tmp_path / "IMP", media)
    for track in ("VIDEO_3b5e2c0e.mxf", "VIDEO_reel2.mxf"):
        assert cli("sign", source / track, "--disclosure", PLATE, "--home", ws.home).code == 0
    (source / name).write_text(text, encoding="utf-8")
    res = cli("package", source, "-o", tmp_path / "out" / "bag", "--format", "json", "--home", ws.home)
    assert res.code == 1
    assert [s["path"] for s in res.json()["stray"]] == [name]
