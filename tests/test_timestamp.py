"""RFC 3161 time-stamps from a real TSA (`openssl ts -reply` on 127.0.0.1), through the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import c2pa
import pytest
from tsa import TimeStampAuthority, free_port, running_tsa

from genai_provenance.workspace import TRUST_ANCHORS, init_workspace

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "fixtures" / "media"
DISCLOSURES = ROOT / "fixtures" / "disclosures"
CLOSE_TO_NOW = dt.timedelta(minutes=10)  # clock sanity of the token, not a speed limit

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl is not installed (it serves the local time-stamp authority)"
)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genai_provenance", *args], capture_output=True, text=True, timeout=120, check=False
    )


@dataclass
class Stamped:
    tsa: TimeStampAuthority
    home: Path
    ws_anchors: Path  # the workspace's anchors: the development root only
    with_tsa: Path  # the development root plus the TSA root
    tsa_only: Path  # the TSA root only: the media signer is not trusted
    signed: dict[str, Path]
    sign_out: dict[str, subprocess.CompletedProcess[str]]
    requests_after_sign: int


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stamped]:
    base = tmp_path_factory.mktemp("timestamp")
    ws = init_workspace(base / "ws", "Timestamp Studio").workspace
    with running_tsa(base / "tsa") as tsa:
        ws_anchors = ws.path(TRUST_ANCHORS)
        with_tsa = base / "anchors-with-tsa.pem"
        with_tsa.write_bytes(ws_anchors.read_bytes() + tsa.root_pem)
        tsa_only = base / "tsa-root.pem"
        tsa_only.write_bytes(tsa.root_pem)
        signed, outs = {}, {}
        for name in ("plate.jpg", "plate.mp4"):
            out = base / "signed" / name
            outs[name] = cli(
                "sign", str(MEDIA / name), "-o", str(out), "--disclosure", str(DISCLOSURES / "plate.json"),
                "--home", str(ws.home), "--trust", str(with_tsa), "--tsa-url", tsa.url,
            )  # fmt: skip
            signed[name] = out
        yield Stamped(tsa, ws.home, ws_anchors, with_tsa, tsa_only, signed, outs, tsa.requests)


def verify_json(path: Path, anchors: Path) -> tuple[int, dict]:
    done = cli("verify", str(path), "--trust", str(anchors), "--format", "json")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)["assets"][0]


def c2pa_results(path: Path, anchors: Path) -> tuple[str, dict[str, set[str]]]:
    ctx = c2pa.Context.from_dict({"trust": {"trust_anchors": anchors.read_text()}, "verify": {"ocsp_fetch": False}})
    with open(path, "rb") as stream, c2pa.Reader("image/jpeg", stream, context=ctx) as reader:
        results = reader.get_validation_results()["activeManifest"]
        state = reader.get_validation_state()
    return state, {
        kind: {e["code"] for e in results.get(kind) or []} for kind in ("success", "informational", "failure")
    }


@pytest.mark.parametrize("name", ["plate.jpg", "plate.mp4"])
def test_sign_with_tsa_is_trusted_and_time_stamped(stamped: Stamped, name: str) -> None:
    done = stamped.sign_out[name]
    assert done.returncode == 0, done.stderr
    assert stamped.requests_after_sign >= 2  # every sign asked the TSA for a token
    code, asset = verify_json(stamped.signed[name], stamped.with_tsa)
    assert code == 0
    assert asset["status"] == "trusted"
    assert asset["time_stamped"] is True
    assert asset["failures"] == []
    signed_at = dt.datetime.fromisoformat(asset["signed_at"])
    assert abs(dt.datetime.now(dt.UTC) - signed_at) < CLOSE_TO_NOW
    assert not any("time-stamp authority" in n for n in asset["notes"])


def test_c2pa_reports_time_stamp_validated_and_trusted(stamped: Stamped) -> None:
    state, codes = c2pa_results(stamped.signed["plate.jpg"], stamped.with_tsa)
    assert state == "Trusted"
    assert {"timeStamp.validated", "timeStamp.trusted", "signingCredential.trusted"} <= codes["success"]
    assert codes["failure"] == set()


def test_text_report_says_time_stamped(stamped: Stamped) -> None:
    done = cli("verify", str(stamped.signed["plate.jpg"]), "--trust", str(stamped.with_tsa))
    assert done.returncode == 0, done.stderr
    signed_line = next(line for line in done.stdout.splitlines() if line.strip().startswith("signed:"))
    assert "(time-stamped)" in signed_line
    assert "not time-stamped" not in signed_line


def test_untrusted_tsa_leaves_a_trusted_signer_trusted(stamped: Stamped) -> None:
    """The TSA root is not an anchor: c2pa says timeStamp.untrusted (informational, not a failure).

    Who signed and the bytes are still proven, so the asset stays trusted (not invalid), and the
    report notes that the signing time is only the TSA's claim.
    """
    state, codes = c2pa_results(stamped.signed["plate.jpg"], stamped.ws_anchors)
    assert state == "Trusted"
    assert "timeStamp.validated" in codes["success"]
    assert "timeStamp.untrusted" in codes["informational"]
    assert "timeStamp.trusted" not in codes["success"]
    assert codes["failure"] == set()

    code, asset = verify_json(stamped.signed["plate.jpg"], stamped.ws_anchors)
    assert code == 0
    assert asset["status"] == "trusted"
    assert asset["time_stamped"] is True
    assert asset["failures"] == []
    assert any("time-stamp authority is not among the trust anchors" in n for n in asset["notes"])


def test_trusted_tsa_does_not_make_an_unknown_signer_trusted(stamped: Stamped) -> None:
    code, asset = verify_json(stamped.signed["plate.jpg"], stamped.tsa_only)
    assert code == 1
    assert asset["status"] == "valid-untrusted"
    assert [f["code"] for f in asset["failures"]] == ["signingCredential.untrusted"]


def test_unreachable_tsa_fails_cleanly(stamped: Stamped, tmp_path: Path) -> None:
    src = MEDIA / "plate.jpg"
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    done = cli(
        "sign", str(src), "-o", str(out_dir / "plate.jpg"), "--disclosure", str(DISCLOSURES / "plate.json"),
        "--home", str(stamped.home), "--tsa-url", url,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("genai-provenance: error: ")
    assert str(src) in lines[0] and url in lines[0]
    assert "Traceback" not in done.stderr
    assert list(out_dir.iterdir()) == []  # no output, no .part leftovers
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
