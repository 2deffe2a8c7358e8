"""report_from_store on hand-built Reader JSON: the model it builds from a well-formed store, and
hostile shapes (lists for objects, odd values, missing keys) that must never raise."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from genai_provenance.credentials.genai_scan import CLEARANCES_LABEL, DISCLOSURE_LABEL
from genai_provenance.credentials.manifest_store import report_from_store
from genai_provenance.model.provenance import (
    INVALID,
    NO_CREDENTIALS,
    STATUSES,
    TRUSTED,
    VALID_UNTRUSTED,
    AssetReport,
    EvidenceKind,
)

DISCLOSURE = json.loads((Path(__file__).parent.parent / "fixtures" / "disclosures" / "bg_replace.json").read_text())
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def read(store: Any, cr: Any = None, state: str | None = None) -> AssetReport:
    report = AssetReport("x.jpg", "image/jpeg", "unreadable")
    return report_from_store(report, json.dumps(store), json.dumps(cr) if cr is not None else None, state)


def store_of(*assertions: Any, results: Any = None, ingredients: Any = None) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "title": "x.jpg",
        "format": "image/jpeg",
        "claim_generator_info": [{"name": "genai-provenance", "version": "0.1.0"}],
        "signature_info": {"alg": "Es256", "issuer": "Studio", "common_name": "Signer", "time": "2026-01-01T00:00:00Z"},
        "assertions": list(assertions),
        "ingredients": ingredients if ingredients is not None else [],
    }
    return {
        "active_manifest": "urn:m1",
        "manifests": {"urn:m1": manifest},
        "validation_results": results
        if results is not None
        else {"activeManifest": {"success": [{"code": "signingCredential.trusted"}], "failure": []}},
    }


def test_a_well_formed_store_with_our_disclosure() -> None:
    report = read(
        store_of(
            {"label": DISCLOSURE_LABEL, "data": copy.deepcopy(DISCLOSURE)},
            {"label": CLEARANCES_LABEL, "data": {"records": [{"record": {"id": "APR-1"}}, "junk", {"record": []}]}},
        ),
        state="Trusted",
    )
    assert report.status == TRUSTED and report.genai
    [info] = report.manifests
    assert info.disclosure is not None and info.disclosure.asset.asset_id == "EP101_SH010"
    assert info.disclosure.uses[0].approvals == ("APR-2026-0042",)
    assert info.clearance_ids == ["APR-1"] and list(report.embedded_clearances) == ["APR-1"]
    [use] = report.genai_uses
    assert use.declared_use is info.disclosure.uses[0]
    data = report.to_dict()
    assert data["manifests"][0]["disclosure"] == DISCLOSURE  # the raw document, verbatim
    assert data["genai_uses"][0]["evidence"] == f"{DISCLOSURE_LABEL} genai[0]"
    assert data["genai_uses"][0]["declared"] is True and data["genai_uses"][0]["use_index"] == 0
    assert report.disclosures == [{"manifest": "urn:m1", "disclosure": DISCLOSURE}]


def test_a_disclosure_breaking_the_schema_is_not_read_as_one() -> None:
    bad = copy.deepcopy(DISCLOSURE)
    bad["genai"][0]["approvals"] = "APR-1"  # a string where the schema wants a list
    report = read(store_of({"label": DISCLOSURE_LABEL, "data": bad}))
    [info] = report.manifests
    assert info.disclosure is None and info.disclosure_malformed
    [use] = report.genai_uses
    assert use.evidence.kind is EvidenceKind.MALFORMED_DISCLOSURE and not use.declared
    assert report.disclosures == []


def test_v1_actions_and_failures_set_the_status() -> None:
    results = {
        "activeManifest": {
            "success": [],
            "failure": [{"code": "assertion.dataHash.mismatch", "explanation": "hash"}],
        }
    }
    report = read(
        store_of(
            {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": TRAINED}]}},
            results=results,
        )
    )
    assert report.status == INVALID and report.genai
    assert [f.code for f in report.failures] == ["assertion.dataHash.mismatch"]
    untrusted = read(store_of(results={"activeManifest": {"failure": [{"code": "signingCredential.untrusted"}]}}))
    assert untrusted.status == VALID_UNTRUSTED


def test_no_active_manifest_is_no_credentials() -> None:
    assert read({"manifests": {}}).status == NO_CREDENTIALS
    assert read({"active_manifest": "urn:gone", "manifests": {"urn:m1": {}}}).status == NO_CREDENTIALS


HOSTILE: list[Any] = [
    [],
    "text",
    {"active_manifest": ["urn:m1"], "manifests": {}},
    {"active_manifest": "urn:m1", "manifests": []},
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": []}},
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": {"assertions": {"label": "c2pa.actions"}}}},
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": {"assertions": [None, 3, "x", []]}}},
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": {"signature_info": ["Signer"], "thumbnail": "x"}}},
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": {"claim_generator_info": "tool", "title": 5}}},
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": {"ingredients": {"title": "x"}}}},
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": {"ingredients": [None, "x", {"active_manifest": ["a"]}]}}},
    {
        "active_manifest": "urn:m1",
        "manifests": {"urn:m1": {"ingredients": [{"active_manifest": "urn:m1", "validation_results": []}]}},
    },
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": {}}, "validation_results": []},
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": {}}, "validation_results": {"activeManifest": []}},
    {
        "active_manifest": "urn:m1",
        "manifests": {"urn:m1": {}},
        "validation_results": {"activeManifest": {"failure": ["x", None, {"code": ["x"]}]}, "ingredientDeltas": {}},
    },
    {
        "active_manifest": "urn:m1",
        "manifests": {"urn:m1": {}},
        "validation_results": {"ingredientDeltas": [None, {"validationDeltas": []}]},
    },
    {"active_manifest": "urn:m1", "manifests": {"urn:m1": {"assertions": [{"label": "c2pa.actions", "data": []}]}}},
    {
        "active_manifest": "urn:m1",
        "manifests": {
            "urn:m1": {"assertions": [{"label": "c2pa.actions", "data": {"actions": [{"when": {"t": 1}}, 7]}}]}
        },
    },
    {
        "active_manifest": "urn:m1",
        "manifests": {"urn:m1": {"assertions": [{"label": "cawg.training-mining", "data": {"entries": ["x"]}}]}},
    },
    {
        "active_manifest": "urn:m1",
        "manifests": {"urn:m1": {"assertions": [{"label": CLEARANCES_LABEL, "data": {"records": {"id": "x"}}}]}},
    },
    {
        "active_manifest": "urn:m1",
        "manifests": {"urn:m1": {"assertions": [{"label": "cawg.identity", "data": {"signer_payload": []}}]}},
    },
    {
        "active_manifest": "urn:m1",
        "manifests": {"urn:m1": {"assertions": [{"label": DISCLOSURE_LABEL, "data": {"asset": "x" * 100_000}}]}},
    },
]


@pytest.mark.parametrize("store", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_store_shapes_never_raise(store: Any) -> None:
    report = read(store, cr={"manifests": "x"})
    assert report.status in STATUSES
    json.dumps(report.to_dict())


def test_hostile_crjson_shapes_never_raise() -> None:
    for cr in ([], "x", {"manifests": [None, {"label": "urn:m1", "signature": []}, {"assertions": 5}]}):
        assert read(store_of(), cr=cr).status == VALID_UNTRUSTED or read(store_of(), cr=cr).status == TRUSTED
