"""Manifests written the way other tools write them (made directly with c2pa) are read as GenAI.

They are signed by an identity outside our trust anchors, as a third-party tool's would be:
GenAI detection must not depend on trust.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import IPTC, MEDIA, IdentityFiles, build_with_c2pa

from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.model.provenance import VALID_UNTRUSTED, AssetReport

IPTC_HTTPS = "https://cv.iptc.org/newscodes/digitalsourcetype/"


def definition(assertions: list[dict[str, Any]], generator: str = "Other Tool", **extra: Any) -> dict[str, Any]:
    return {"claim_generator_info": [{"name": generator, "version": "1.0"}], "assertions": assertions, **extra}


def actions(*items: dict[str, Any], label: str = "c2pa.actions.v2", **data: Any) -> dict[str, Any]:
    return {"label": label, "data": {"actions": list(items), **data}}


@dataclass
class Case:
    definition: dict[str, Any]
    evidence: str  # a phrase the GenAI evidence must contain
    ingredients: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (ingredient json, key of a made file)
    in_ingredient: bool = False  # the GenAI record is in an ingredient's manifest, not the active one


CASES: dict[str, Case] = {
    # OpenAI 2024: claim v1, v1 `c2pa.actions`, a plain-string softwareAgent and no source type.
    "dalle_v1_string_agent": Case(
        definition(
            [actions({"action": "c2pa.created", "softwareAgent": "DALL·E"}, label="c2pa.actions")],
            generator="DALL·E",
            claim_version=1,
        ),
        "'DALL·E' is a known generator",
    ),
    "https_iptc_source_type": Case(
        definition([actions({"action": "c2pa.created", "digitalSourceType": IPTC_HTTPS + "trainedAlgorithmicMedia"})]),
        "c2pa.created",
    ),
    "c2pa_trained_algorithmic_data": Case(
        definition(
            [
                actions(
                    {
                        "action": "c2pa.created",
                        "digitalSourceType": "http://c2pa.org/digitalsourcetype/trainedAlgorithmicData",
                    }
                )
            ]
        ),
        "c2pa.created",
    ),
    "misspelt_composited_source_type": Case(
        definition(
            [
                actions(
                    {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"},
                    {
                        "action": "c2pa.edited",
                        "digitalSourceType": IPTC_HTTPS + "compositedWithTrainedAlgorithmicMedia",
                    },
                )
            ]
        ),
        "c2pa.edited",
    ),
    # Adobe Firefly 2023: c2pa.created with no source type plus the legacy assertion.
    "adobe_legacy_generative_ai": Case(
        definition(
            [
                actions({"action": "c2pa.created", "softwareAgent": "Adobe Photoshop 25.0"}, label="c2pa.actions"),
                {"label": "com.adobe.generative-ai", "data": {"description": "Adobe Firefly", "version": "1.0"}},
            ],
            generator="Adobe Photoshop",
            claim_version=1,
        ),
        "com.adobe.generative-ai",
    ),
    "template_for_all_actions": Case(
        definition(
            [
                actions(
                    {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"},
                    templates=[{"action": "*", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}],
                )
            ]
        ),
        "template for *",
    ),
    "adobe_parameter_on_opened": Case(
        definition(
            [
                actions(
                    {
                        "action": "c2pa.opened",
                        "parameters": {
                            "ingredientIds": ["source"],
                            "com.adobe.digitalSourceType": IPTC_HTTPS + "trainedAlgorithmicMedia",
                        },
                    }
                )
            ],
            generator="Adobe Photoshop",
        ),
        "c2pa.opened",
        ingredients=[({"title": "plate.jpg", "relationship": "parentOf", "label": "source"}, "plain")],
    ),
    # ChatGPT: the generator's manifest wrapped as a componentOf ingredient of a plain manifest.
    "genai_only_in_component_ingredient": Case(
        definition(
            [
                actions(
                    {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"},
                    {"action": "c2pa.placed", "parameters": {"ingredientIds": ["generated"]}},
                )
            ],
            generator="ChatGPT",
        ),
        "c2pa.created",
        ingredients=[({"title": "generated.jpg", "relationship": "componentOf", "label": "generated"}, "generated")],
        in_ingredient=True,
    ),
    "genai_only_in_parent_ingredient": Case(
        definition(
            [
                actions(
                    {"action": "c2pa.opened", "parameters": {"ingredientIds": ["generated"]}},
                    {"action": "c2pa.color_adjustments", "digitalSourceType": IPTC + "humanEdits"},
                )
            ]
        ),
        "c2pa.created",
        ingredients=[({"title": "generated.jpg", "relationship": "parentOf", "label": "generated"}, "generated")],
        in_ingredient=True,
    ),
}

CAMERA = definition(
    [
        actions(
            {
                "action": "c2pa.created",
                "softwareAgent": {"name": "Canon EOS R5 Firmware", "version": "1.8.1"},
                "digitalSourceType": IPTC + "digitalCapture",
            }
        )
    ],
    generator="Canon EOS R5",
)
GENERATED = definition(
    [
        actions(
            {
                "action": "c2pa.created",
                "softwareAgent": {"name": "Image Model", "version": "3"},
                "digitalSourceType": IPTC + "trainedAlgorithmicMedia",
            }
        )
    ],
    generator="Image Generator",
)


@pytest.fixture(scope="module")
def made(outsider: IdentityFiles, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Build (once) and return the file for a case name, 'camera', 'generated' or 'plain'."""
    folder = tmp_path_factory.mktemp("third-party")
    cache: dict[str, Path] = {"plain": MEDIA / "plate.jpg"}

    def get(name: str) -> Path:
        if name not in cache:
            if name == "camera":
                spec, ingredients = CAMERA, []
            elif name == "generated":
                spec, ingredients = GENERATED, []
            else:
                case = CASES[name]
                spec = case.definition
                ingredients = [(ing, get(key), "image/jpeg") for ing, key in case.ingredients]
            cache[name] = build_with_c2pa(
                spec, MEDIA / "plate.jpg", folder / f"{name}.jpg", outsider.identity, ingredients=ingredients
            )
        return cache[name]

    return get


def check(path: Path, trust: TrustSettings) -> AssetReport:
    report = verify_file(path, trust.context())
    assert report.status == VALID_UNTRUSTED, [f.code for f in report.failures]  # intact, signer not ours
    return report


@pytest.mark.parametrize("name", sorted(CASES))
def test_third_party_genai_is_reported(name: str, made: Callable[[str], Path], trust: TrustSettings) -> None:
    case = CASES[name]
    report = check(made(name), trust)
    assert report.genai is True, name
    assert report.disclosures == []  # nothing of ours: the evidence comes from their records
    hits = [u for u in report.genai_uses if case.evidence in u.evidence.text and u.certainty == "generative"]
    assert hits, [u.evidence.text for u in report.genai_uses]
    in_active = {u.manifest == report.active_manifest for u in hits}
    if case.in_ingredient:
        assert in_active == {False}
        assert report.manifest(report.active_manifest).genai_uses == []
        [node] = report.ingredients
        assert node.genai is True and node.manifest is not None
    else:
        assert in_active == {True}


def test_dalle_string_agent_survives_in_the_store(made: Callable[[str], Path], trust: TrustSettings) -> None:
    report = check(made("dalle_v1_string_agent"), trust)
    action = report.manifest(report.active_manifest).actions[0]
    assert action["softwareAgent"] == "DALL·E" and "digitalSourceType" not in action


def test_source_types_are_normalised(made: Callable[[str], Path], trust: TrustSettings) -> None:
    assert {u.source_type for u in check(made("https_iptc_source_type"), trust).genai_uses} == {
        "trainedAlgorithmicMedia"
    }
    assert {u.source_type for u in check(made("misspelt_composited_source_type"), trust).genai_uses} == {
        "compositeWithTrainedAlgorithmicMedia"
    }


def test_camera_capture_is_not_genai(made: Callable[[str], Path], trust: TrustSettings) -> None:
    report = check(made("camera"), trust)
    assert report.genai is False and report.genai_possible is False
    assert report.genai_uses == []


def test_our_signature_keeps_third_party_genai_history(
    made: Callable[[str], Path], sign_media: Any, trust: TrustSettings
) -> None:
    """Re-signing a generated image with a capture-only disclosure does not launder its GenAI history."""
    result = sign_media(made("generated"), "plate.json")
    assert result.parent_was_input is True
    report = verify_file(result.output, trust.context())
    assert report.genai is True
    assert all(u.manifest != report.active_manifest for u in report.genai_uses)
    [node] = report.ingredients
    assert node.relationship == "parentOf" and node.genai is True
    assert node.status == VALID_UNTRUSTED and node.signer is not None and node.signer.common_name == "Elsewhere Signer"
