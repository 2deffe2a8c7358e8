"""Issue 12, items 1 and 2: the top of explain states every problem first, and the report is evidence-grade.

A revoked consent, a blocked file, the printed PDF, the evidence block (file hash, anchors, policy
hash, revocation source), the hard binding in words, and a signed report that verifies until edited.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import DISCLOSURES, MEDIA, IdentityFiles, sha256
from payload import flipped_copy
from test_explain_html import CHROMIUM, Dom, chromium

from genai_provenance.explain.signed_report import sign_report
from genai_provenance.schemas import validate

DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "genai_provenance" / "policy" / "default.yaml"
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (Debian poppler-utils) is not installed"
)


@dataclass
class Studio:
    home: Path
    folder: Path
    plate: Path
    cleared: Path  # comp with approval and consent granted (consent revoked later by one test)
    unapproved: Path  # comp whose disclosure cites nothing that exists


@pytest.fixture(scope="module")
def studio(cli: Any, tmp_path_factory: pytest.TempPathFactory) -> Studio:
    base = tmp_path_factory.mktemp("verdict")
    home, folder = base / "ws", base / "media"
    assert cli("init", "--home", home).code == 0
    common = ["--production", "PRJ-0042", "--asset", "EP101_SH010", "--home", home]
    res = cli(
        "approvals", "grant", "--id", "APR-2026-0042", "--covers", "background-element,final-deliverable", *common
    )
    assert res.code == 0, res.stderr
    res = cli(
        "consents", "grant", "--id", "CNS-0007", "--covers", "background-element",
        "--talent", "Jane Doe", "--talent-id", "SAG-123", *common,
    )  # fmt: skip
    assert res.code == 0, res.stderr
    plate, cleared = folder / "plate.mp4", folder / "comp.mp4"
    res = cli("sign", MEDIA / "plate.mp4", "-o", plate, "--disclosure", DISCLOSURES / "plate.json", "--home", home)
    assert res.code == 0, res.stderr
    res = cli(
        "sign", MEDIA / "comp.mp4", "-o", cleared, "--disclosure", DISCLOSURES / "bg_replace.json",
        "--parent", plate, "--home", home,
    )  # fmt: skip
    assert res.code == 0, res.stderr
    unapproved_disclosure = json.loads((DISCLOSURES / "bg_replace.json").read_text())
    unapproved_disclosure["genai"][0]["approvals"] = ["APR-NOT-GRANTED"]
    del unapproved_disclosure["genai"][0]["consents"]
    path = base / "unapproved.json"
    path.write_text(json.dumps(unapproved_disclosure))
    unapproved = folder / "comp_unapproved.mp4"
    res = cli("sign", MEDIA / "comp.mp4", "-o", unapproved, "--disclosure", path, "--parent", plate, "--home", home)
    assert res.code == 0, res.stderr
    return Studio(home, folder, plate, cleared, unapproved)


def _sections(html: str) -> list[str]:
    """The aria-labels of the page's top-level sections, in order."""
    dom = Dom()
    dom.feed(html)
    return [value for tag, name, value in dom.attributes if tag == "section" and name == "aria-label"]


def test_cleared_file_has_no_problem_and_says_so(cli: Any, studio: Studio) -> None:
    res = cli("explain", studio.cleared, "--home", studio.home, "--format", "json")
    assert res.code == 0, res.stdout
    explanation = res.json()["explanation"]
    assert explanation["verdict"] == "no-problem-found" and explanation["problems"] == []


@needs_chromium
def test_revoked_consent_is_the_first_thing_on_the_page(cli: Any, studio: Studio, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    folder.mkdir()
    comp = shutil.copy2(studio.cleared, folder / "comp.mp4")
    home = tmp_path / "ws"
    shutil.copytree(studio.home, home)  # revoke in a copy: the module's workspace stays as it was
    assert cli("consents", "revoke", "CNS-0007", "--reason", "performer withdrew", "--home", home).code == 0
    page = tmp_path / "revoked.html"
    res = cli("explain", comp, "--home", home, "--html", page)
    assert res.code == 0  # the consent is not one the policy requires here: a warning, stated first all the same
    assert res.stdout.splitlines()[2].startswith("VERDICT: 1 problem found")
    assert "CNS-0007" in res.stdout.splitlines()[3] and "revoked" in res.stdout.split("\n\n")[0]

    html = page.read_text(encoding="utf-8")
    assert _sections(html)[:2] == ["Verdict", "Summary"]
    dom = Dom()
    dom.feed(chromium(tmp_path, "--dump-dom", page.as_uri()).stdout.decode("utf-8"))
    flat = dom.flat
    assert ("section", "data-verdict", "problems") in dom.attributes
    revoked_at, trusted_badge_at = flat.find("Consent CNS-0007"), flat.find("Trusted")
    assert -1 < revoked_at < trusted_badge_at, flat[:600]
    assert "revoked" in flat[revoked_at : revoked_at + 200]


@needs_chromium
@needs_pdftotext
def test_blocked_file_names_its_rules_first_and_prints_them_on_page_one(
    cli: Any, studio: Studio, tmp_path: Path
) -> None:
    page = tmp_path / "blocked.html"
    res = cli("explain", studio.unapproved, "--home", studio.home, "--html", page)
    assert res.code == 1
    head = res.stdout.split("\n\n")[0]
    assert "VERDICT: BLOCKED by the policy (GP-FINAL-001 and GP-BACKGROUND-001)" in " ".join(head.split())
    assert "[GP-FINAL-001]" in head and "APR-NOT-GRANTED" in head

    dom = Dom()
    dom.feed(chromium(tmp_path, "--dump-dom", page.as_uri()).stdout.decode("utf-8"))
    assert ("section", "data-verdict", "blocked") in dom.attributes
    assert dom.flat.find("GP-FINAL-001") < dom.flat.find("History, oldest first")

    pdf = tmp_path / "blocked.pdf"
    chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(first.split())
    assert "BLOCKED by the policy" in flat and "GP-FINAL-001" in flat and "GP-BACKGROUND-001" in flat
    assert "What the file is" in flat  # the summary is on page 1 too
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert pages.count("\f") >= 2  # the history follows on later pages


def test_evidence_names_the_file_anchors_policy_and_revocation_source(cli: Any, studio: Studio) -> None:
    res = cli("explain", studio.cleared, "--home", studio.home, "--format", "json", "--policy", "default")
    document = res.json()
    validate("explain-report", document, "explain")
    evidence = document["explanation"]["evidence"]
    assert evidence["file_sha256"] == sha256(studio.cleared)
    assert evidence["file_size"] == studio.cleared.stat().st_size
    assert evidence["policy"] == "Studio GenAI guidance (default)"
    assert evidence["policy_sha256"] == hashlib.sha256(DEFAULT_POLICY.read_bytes()).hexdigest()
    root = (studio.home / "ca" / "root.pem").read_bytes()
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    fingerprint = x509.load_pem_x509_certificate(root).fingerprint(hashes.SHA256()).hex()
    assert fingerprint in [a["sha256"] for a in evidence["trust_anchors"]]
    assert evidence["approver_anchors"] and evidence["tool"].startswith("genai-provenance ")
    assert "ledger" in evidence["revocation"]
    text = cli("explain", studio.cleared, "--home", studio.home).stdout
    assert f"File SHA-256: {sha256(studio.cleared)}" in text


def test_hard_binding_is_what_makes_intact_true(cli: Any, studio: Studio, tmp_path: Path) -> None:
    stages = cli("explain", studio.cleared, "--home", studio.home, "--format", "json").json()["explanation"]["stages"]
    current = stages[-1]
    assert "c2pa.hash.bmff" in current["binding"] and "matches this file now" in current["binding"]
    assert not any(a.startswith("c2pa.hash") for s in stages for a in s["unknown_assertions"])
    bad = flipped_copy(studio.cleared, tmp_path / "comp.mp4")
    stages = cli("explain", bad, "--home", studio.home, "--format", "json").json()["explanation"]["stages"]
    assert "no longer matches" in stages[-1]["binding"]


def test_signed_report_verifies_and_fails_once_edited(
    cli: Any, studio: Studio, tmp_path: Path, outsider: IdentityFiles
) -> None:
    res = cli("explain", studio.cleared, "--home", studio.home, "--format", "json", "--sign")
    assert res.code == 0, res.stderr
    signed = tmp_path / "report.json"
    signed.write_text(res.stdout)
    validate("signed-report", res.json(), "signed report")
    ok = cli("verify-report", signed, "--home", studio.home, "--format", "json")
    assert ok.code == 0, ok.stdout
    validate("report-verification", ok.json(), "verify-report")
    assert ok.json()["ok"] is True and "Packager" in ok.json()["signer"]

    edited = tmp_path / "edited.json"
    edited.write_text(res.stdout.replace('"verdict": "no-problem-found"', '"verdict": "blocked"'))
    assert edited.read_text() != res.stdout
    failed = cli("verify-report", edited, "--home", studio.home)
    assert failed.code == 1 and "FAILED" in failed.stdout and "signature does not match" in failed.stdout

    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(sign_report(res.json()["report"], outsider.identity)))
    failed = cli("verify-report", forged, "--home", studio.home)
    assert failed.code == 1 and "not a trusted packager" in failed.stdout

    usage = cli("explain", studio.cleared, "--home", studio.home, "--sign")
    assert usage.code == 2 and "--format json" in usage.stderr
