"""scan_manifest on hand-built manifest JSON: every way real tools record GenAI is found, and
hostile shapes (lists for objects, odd values, missing keys) never raise."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from genai_provenance.credentials.genai_scan import DISCLOSURE_LABEL, PARAM, scan_manifest
from genai_provenance.model.disclosure import Disclosure
from genai_provenance.model.provenance import EvidenceKind

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
DISCLOSURE = json.loads((Path(__file__).parent.parent / "fixtures" / "disclosures" / "bg_replace.json").read_text())


def manifest(*assertions: Any) -> dict[str, Any]:
    return {"assertions": list(assertions)}


def actions(*entries: Any, label: str = "c2pa.actions.v2", templates: Any = None) -> dict[str, Any]:
    data: dict[str, Any] = {"actions": list(entries)}
    if templates is not None:
        data["templates"] = templates
    return {"label": label, "data": data}


def test_v1_action_with_a_generative_source_type() -> None:
    [use] = scan_manifest(
        "m1", manifest(actions({"action": "c2pa.created", "digitalSourceType": TRAINED}, label="c2pa.actions"))
    )
    assert use.certainty == "generative" and use.source_type == "trainedAlgorithmicMedia"
    assert (use.evidence.kind, use.evidence.index, use.evidence.action) == (EvidenceKind.ACTION, 0, "c2pa.created")
    assert use.evidence.text == "c2pa.actions action c2pa.created [0]"
    assert not use.declared and use.use_index is None


def test_adobe_parameters_and_known_generator_names() -> None:
    found = scan_manifest(
        "m1",
        manifest(
            actions(
                {"action": "c2pa.opened"},
                {"action": "c2pa.edited", "parameters": {"com.adobe.digitalSourceType": COMPOSITE}},
                {"action": "c2pa.created", "softwareAgent": {"name": "Midjourney", "version": "6"}},
                {"action": "c2pa.created", "softwareAgent": "Darktable", "digitalSourceType": CAPTURE},
            )
        ),
    )
    assert [u.evidence.index for u in found] == [1, 2]
    assert found[0].source_type == "compositeWithTrainedAlgorithmicMedia"
    assert found[1].evidence.generator == "Midjourney 6"
    assert (
        found[1].evidence.text
        == "c2pa.actions.v2 action c2pa.created [2]: software agent 'Midjourney 6' is a known generator"
    )


def test_templates_and_the_legacy_adobe_record() -> None:
    found = scan_manifest(
        "m1",
        manifest(
            actions(templates=[{"action": "c2pa.edited", "digitalSourceType": TRAINED}, "not an object"]),
            {"label": "com.adobe.generative-ai", "data": {"description": "Firefly"}},
        ),
    )
    assert [u.evidence.kind for u in found] == [EvidenceKind.TEMPLATE, EvidenceKind.LEGACY_ADOBE]
    assert found[0].evidence.text == "c2pa.actions.v2 template for c2pa.edited"
    assert found[1].tool == "Firefly"
    assert found[1].evidence.text == "com.adobe.generative-ai assertion (Adobe's legacy generative AI record)"


def test_a_well_formed_disclosure_declares_its_uses_and_hides_our_own_actions() -> None:
    disclosure = Disclosure.parse(copy.deepcopy(DISCLOSURE))
    ours = {"action": "c2pa.edited", "digitalSourceType": COMPOSITE, "parameters": {PARAM + "use": 0}}
    found = scan_manifest("m1", manifest(actions(ours), {"label": DISCLOSURE_LABEL, "data": DISCLOSURE}), disclosure)
    [use] = found
    assert use.declared and use.declared_use is disclosure.uses[0] and use.use_index == 0
    assert use.tool == "Runway Gen-4 4.0" and use.category == "background-element"
    assert use.evidence.text == f"{DISCLOSURE_LABEL} genai[0]"


def test_our_action_citing_a_use_the_disclosure_lacks_is_still_genai() -> None:
    disclosure = Disclosure.parse(copy.deepcopy(DISCLOSURE))  # one use: index 7 names nothing
    forged = {"action": "c2pa.edited", "digitalSourceType": COMPOSITE, "parameters": {PARAM + "use": 7}}
    found = scan_manifest("m1", manifest(actions(forged)), disclosure)
    assert [(u.evidence.kind, u.declared) for u in found] == [
        (EvidenceKind.ACTION, False),
        (EvidenceKind.DISCLOSURE, True),
    ]


def test_a_malformed_disclosure_is_genai_declared_by_nothing() -> None:
    data = {"genai": [{"tool": ["not", "an", "object"], "category": 5, "source_type": "trainedAlgorithmicMedia"}, 3]}
    [use] = scan_manifest("m1", manifest({"label": DISCLOSURE_LABEL, "data": data}))
    assert use.evidence.kind is EvidenceKind.MALFORMED_DISCLOSURE and not use.declared
    assert use.category is None and use.tool is None
    assert use.evidence.text == f"{DISCLOSURE_LABEL} genai[0] (breaks the disclosure schema)"


HOSTILE: list[Any] = [
    None,
    [],
    "text",
    42,
    {"assertions": "text"},
    {"assertions": {"c2pa.actions": {}}},
    {"assertions": [None, 5, "label", ["c2pa.actions"]]},
    {"assertions": [{"label": ["c2pa.actions"], "data": {}}]},
    {"assertions": [{"label": "c2pa.actions", "data": []}]},
    {"assertions": [{"label": "c2pa.actions", "data": {"actions": "c2pa.created"}}]},
    {"assertions": [{"label": "c2pa.actions", "data": {"actions": {"action": "c2pa.created"}}}]},
    {"assertions": [{"label": "c2pa.actions", "data": {"actions": [{"action": ["x"], "parameters": [1, 2]}]}}]},
    {"assertions": [{"label": "c2pa.actions", "data": {"actions": [{"digitalSourceType": {"uri": TRAINED}}]}}]},
    {"assertions": [{"label": "c2pa.actions", "data": {"actions": [{"softwareAgent": ["Midjourney"] * 3}]}}]},
    {"assertions": [{"label": "c2pa.actions", "data": {"actions": [{"digitalSourceType": "x" * 100_000}]}}]},
    {"assertions": [{"label": "c2pa.actions", "data": {"templates": {"action": "c2pa.edited"}}}]},
    {"assertions": [{"label": "c2pa.actions", "data": {"actions": [{"parameters": {PARAM + "use": True}}]}}]},
    {"assertions": [{"label": DISCLOSURE_LABEL, "data": {"genai": {"tool": {}}}}]},
    {"assertions": [{"label": DISCLOSURE_LABEL, "data": ["genai"]}]},
    {"assertions": [{"label": "com.adobe.generative-ai", "data": ["Firefly"]}]},
    {"assertions": [{"label": "com.adobe.generative-ai.v2", "data": {"description": {"name": ["x"]}}}]},
]


@pytest.mark.parametrize("shape", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_shapes_never_raise(shape: Any) -> None:
    for use in scan_manifest("m1", shape):
        assert use.certainty in ("generative", "maybe")
        assert isinstance(use.evidence.text, str)
        assert use.tool is None or isinstance(use.tool, str)


def test_a_source_type_hidden_in_an_odd_value_is_not_invented() -> None:
    assert scan_manifest("m1", HOSTILE[12]) == []  # a source type must be a string URI or term
