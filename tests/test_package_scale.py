"""A 1,000-asset deliverable packages and verifies: one signed still copied to 1,000 names in nested folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI_COMMAND, DISCLOSURES, MEDIA

from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.schemas import validate
from genai_provenance.workspace import init_workspace

ASSETS = 1000


def run(*args: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI_COMMAND, *(str(a) for a in args)], capture_output=True, text=True, timeout=600, check=False
    )


def names() -> Iterator[str]:
    for i in range(ASSETS):
        yield f"EP{101 + i % 4}/SH{(i // 4) % 25 * 10:04d}/EP{101 + i % 4}_frame_{i:04d}.jpg"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, subprocess.CompletedProcess[str]]:
    base = tmp_path_factory.mktemp("scale")
    ws = init_workspace(base / "ws", "Scale Test Post House").workspace
    signed = base / "plate.jpg"
    trust = TrustSettings(ws.trust_anchors())
    result = sign_asset(SignRequest(MEDIA / "plate.jpg", signed, DISCLOSURES / "plate.json", ws.identity(), trust))
    assert result.report.status == "trusted" and result.report.genai is False
    source = base / "deliverable"
    for rel in names():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(signed, source / rel)
    target = base / "out" / "EP101-104_final"
    done = run("package", source, "-o", target, "--workers", 2, "--format", "json", "--home", ws.home)
    return ws.home, source, target, done


def test_thousand_assets_are_packaged(big: tuple[Path, Path, Path, subprocess.CompletedProcess[str]]) -> None:
    _, source, target, done = big
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    doc = json.loads(done.stdout)
    validate("package-report", doc, "package --format json")
    assert doc["written"] is True and doc["summary"]["assets"] == ASSETS and doc["summary"]["blocked_assets"] == 0
    assert sorted(a["path"] for a in doc["assets"]) == sorted(names())
    assert {a["status"] for a in doc["assets"]} == {"trusted"}
    manifest = (target / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines()
    assert len(manifest) == ASSETS
    assert sorted(line.split(maxsplit=1)[1] for line in manifest) == sorted(f"data/{rel}" for rel in names())
    assert len((target / "manifest-sha512.txt").read_text(encoding="utf-8").splitlines()) == ASSETS
    payload = [p for p in (target / "data").rglob("*") if p.is_file()]
    assert len(payload) == ASSETS
    size = sum(p.stat().st_size for p in payload)
    assert f"Payload-Oxum: {size}.{ASSETS}" in (target / "bag-info.txt").read_text(encoding="utf-8")
    report = json.loads((target / "genai-provenance" / "package-report.json").read_text(encoding="utf-8"))
    validate("package-manifest-report", report, "package-report.json")
    assert len(report["assets"]) == ASSETS and report["summary"]["genai"] == 0
    assert os.listdir(target.parent) == [target.name]
    assert sum(1 for p in source.rglob("*") if p.is_file()) == ASSETS


def test_thousand_asset_package_verifies(big: tuple[Path, Path, Path, subprocess.CompletedProcess[str]]) -> None:
    home, _, target, done = big
    assert done.returncode == 0
    check = run("verify-package", target, "--workers", 2, "--format", "json", "--home", home)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr
    doc = json.loads(check.stdout)
    validate("package-verification", doc, "verify-package --format json")
    assert doc["ok"] is True and doc["problems"] == [] and len(doc["assets"]) == ASSETS
