"""Clearance records and revocation lists time-stamped by a real RFC 3161 TSA (openssl on 127.0.0.1):
the issue time cannot be backdated, and the token is verified on read (hash, TSA signature, roots)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import CliResult, IdentityFiles
from cryptography import x509
from tsa import TimeStampAuthority, running_tsa

from genai_provenance.clearances.records import FORGED, VALID, authenticate, iso, load_anchors, now_utc, sign_record
from genai_provenance.clearances.revocations import RevocationListError, verify_list
from genai_provenance.clearances.timestamps import BadTimeStamp, verify_token
from genai_provenance.schemas import validator
from genai_provenance.settings import TSA_ANCHORS, tsa_anchors
from genai_provenance.workspace import Workspace, init_workspace

Run = Callable[..., CliResult]


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimeStampAuthority]:
    with running_tsa(tmp_path_factory.mktemp("tsa")) as running:
        yield running


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("tsa-studio") / "ws", "Stamped Studio").workspace


def _record(record_id: str = "APR-TS-1", **extra: str) -> dict[str, object]:
    return {
        "id": record_id,
        "kind": "approval",
        "production": "PRJ-1",
        "scope": {"asset_ids": ["SH010"]},
        "covers": ["ideation"],
        **extra,
    }


def test_granted_record_carries_a_verified_time_stamp(
    studio: Workspace, authority: TimeStampAuthority, cli: Run, tmp_path: Path
) -> None:
    home = ["--home", studio.home, "--tsa-url", authority.url]
    before = authority.requests
    grant = ["approvals", "grant", "--id", "APR-TS-CLI", "--production", "PRJ-1", "--asset", "SH010"]
    res = cli(*grant, "--covers", "ideation", *home, "--format", "json")
    assert res.code == 0, res.stderr
    validator("clearances-report").validate(res.json())
    [entry] = res.json()["records"]
    assert entry["time_stamped"]["tsa"] == "Test Time-Stamp Authority"
    stamped = dt.datetime.fromisoformat(entry["time_stamped"]["at"].replace("Z", "+00:00"))
    assert abs(stamped - now_utc()) < dt.timedelta(minutes=5)
    assert authority.requests == before + 1
    text = cli("approvals", "show", "APR-TS-CLI", "--home", studio.home).stdout
    assert "time-stamped" in text and "Test Time-Stamp Authority" in text
    # A revocation list exported with a TSA carries a token too, and says so.
    listed = tmp_path / "list.json"
    assert cli("revocations", "export", "-o", listed, *home).code == 0
    document = json.loads(listed.read_text())
    validator("revocation-list").validate(document)
    revocations = verify_list(document, load_anchors(studio.approver_anchors()), str(listed))
    assert revocations.time_stamped and "Test Time-Stamp Authority" in revocations.describe()


def test_token_is_checked_against_the_signature_and_the_tsa_roots(
    studio: Workspace, authority: TimeStampAuthority, outsider: IdentityFiles
) -> None:
    identity = studio.approver_identity()
    stamped = sign_record(_record(), dataclasses.replace(identity, tsa_url=authority.url))
    anchors = load_anchors(studio.approver_anchors())
    auth = authenticate(stamped, anchors)
    assert auth.status == VALID and auth.time_stamp is not None
    signature = base64.b64decode(stamped["signature"]["value"])
    tsa_roots = [x509.load_pem_x509_certificate(authority.root_pem)]
    assert verify_token(stamped["timestamp"]["token"], signature, tsa_roots).tsa == "Test Time-Stamp Authority"
    with pytest.raises(BadTimeStamp, match="TSA roots"):
        verify_token(stamped["timestamp"]["token"], signature, [outsider.identity.certificate])

    # The token moved onto another record's signature does not cover it.
    other = sign_record(_record("APR-TS-2"), identity)
    other["timestamp"] = stamped["timestamp"]
    result = authenticate(other, anchors)
    assert result.status == FORGED and "does not cover" in result.detail
    # A token with one byte changed is refused.
    token = bytearray(base64.b64decode(stamped["timestamp"]["token"]))
    token[-10] ^= 0x01
    broken = copy.deepcopy(stamped)
    broken["timestamp"]["token"] = base64.b64encode(bytes(token)).decode()
    result = authenticate(broken, anchors)
    assert result.status == FORGED and "time-stamp" in result.detail


def test_a_backdated_issue_time_is_caught(studio: Workspace, authority: TimeStampAuthority) -> None:
    identity = studio.approver_identity()
    stamped = dataclasses.replace(identity, tsa_url=authority.url)
    backdated = sign_record(_record("APR-TS-OLD", issued_at=iso(now_utc() - dt.timedelta(minutes=30))), stamped)
    result = authenticate(backdated, load_anchors(studio.approver_anchors()))
    assert result.status == FORGED and "backdated" in result.detail, result


def test_revocation_list_with_a_foreign_time_stamp_is_refused(
    studio: Workspace, authority: TimeStampAuthority, cli: Run, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    args = ["--home", studio.home, "--tsa-url", authority.url]
    assert cli("revocations", "export", "-o", first, *args).code == 0
    assert cli("revocations", "export", "-o", second, *args).code == 0
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    a["timestamp"] = b["timestamp"]
    with pytest.raises(RevocationListError, match="time-stamp"):
        verify_list(a, load_anchors(studio.approver_anchors()), "a.json")


def test_unreachable_tsa_is_a_one_line_error_and_nothing_is_stored(studio: Workspace, cli: Run) -> None:
    grant = ["approvals", "grant", "--id", "APR-TS-DOWN", "--production", "PRJ-1", "--asset", "SH010"]
    res = cli(*grant, "--covers", "ideation", "--home", studio.home, "--tsa-url", "http://127.0.0.1:9/")
    assert res.code == 2 and len(res.error_lines) == 1 and "time-stamp authority" in res.stderr, res.stderr
    assert "APR-TS-DOWN" not in cli("approvals", "list", "--home", studio.home).stdout


def test_workspace_tsa_roots_decide_which_time_stamps_count(
    authority: TimeStampAuthority, outsider: IdentityFiles, cli: Run, tmp_path: Path
) -> None:
    ws = init_workspace(tmp_path / "ws", "Rooted Studio").workspace
    ws.path(TSA_ANCHORS).write_bytes(authority.root_pem)
    grant = ["approvals", "grant", "--id", "APR-TS-ROOTED", "--production", "PRJ-1", "--asset", "SH010"]
    res = cli(*grant, "--covers", "ideation", "--home", ws.home, "--tsa-url", authority.url)
    assert res.code == 0, res.stderr
    [entry] = cli("approvals", "list", "--home", ws.home, "--format", "json").json()["records"]
    assert entry["state"] == "active" and entry["time_stamped"]["tsa"] == "Test Time-Stamp Authority"
    # The studio now trusts another TSA only: the same record's time-stamp no longer counts.
    ws.path(TSA_ANCHORS).write_bytes(outsider.root_pem.read_bytes())
    [entry] = cli("approvals", "list", "--home", ws.home, "--format", "json").json()["records"]
    assert entry["state"] == "forged", entry
    assert tsa_anchors(ws.home) is not None
