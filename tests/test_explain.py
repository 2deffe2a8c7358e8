"""`explain`: the narrative states each signed fact, in order, and is honest about its limits.

Everything is real: a workspace made with init_workspace, certificates from genai_provenance.trust.pki,
an RFC 3161 time-stamp from `openssl ts` on 127.0.0.1 (tests/tsa.py), signing and reading with
c2pa-python, and manifests written the way other tools write them, built with c2pa directly.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from payload import flipped_copy
from tsa import running_tsa

from genai_provenance.clearances.ledger import Grant, Ledger, grant, revoke
from genai_provenance.clearances.records import load_anchors
from genai_provenance.cli import main
from genai_provenance.credentials.identity import Identity, load_identity
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.explain.model import Explanation, Stage
from genai_provenance.explain.narrative import explain, explain_file, read_asset
from genai_provenance.explain.wording import DOES_NOT_PROVE_SIGNATURE
from genai_provenance.gate.check import ClearanceSource
from genai_provenance.policy.rules import Finding
from genai_provenance.reports.explain_text import explain_text
from genai_provenance.schemas import validate
from genai_provenance.trust.pki import Issued, create_root, issue_leaf
from genai_provenance.workspace import ROOT_CERT, ROOT_KEY, TRUST_ANCHORS, init_workspace, open_workspace

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "fixtures" / "media"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
IPTC_HTTPS = "https://cv.iptc.org/newscodes/digitalsourcetype/"

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl is not installed (it serves the local time-stamp authority)"
)

# Words an explanation must never use about a file it cannot vouch for.
ALARMING = ("fake", "forged", "fraud", "danger", "malicious", "warning", "!")
REASSURING_NO_AI = ("no ai", "not generated", "no generative", "without ai", "free of ai", "ai-free", "authentic")

PLATE = {
    "asset": {
        "title": "EP101_SH010_plate_v001",
        "production": "PRJ-0042",
        "asset_id": "EP101_SH010",
        "intended_use": "final",
    },
    "source_type": "digitalCapture",
}
COMP = {
    "asset": {
        "title": "EP101_SH010_comp_v003",
        "production": "PRJ-0042",
        "asset_id": "EP101_SH010",
        "intended_use": "final",
    },
    "source_type": "digitalCapture",
    "genai": [
        {
            "tool": {"name": "Runway Gen-4", "version": "4.0", "vendor": "Runway"},
            "model": "gen4-turbo",
            "action": "edited",
            "source_type": "compositeWithTrainedAlgorithmicMedia",
            "category": "background-element",
            "description": "sky replaced",
            "time_range": {"start": "00:00:00:03", "end": "00:00:00:09"},
            "inputs": [
                {"kind": "own-footage", "ref": "EP101_SH010_plate_v001"},
                {"kind": "text-prompt", "ref": "stormy dusk sky, low cloud"},
                {"kind": "copyrighted-reference", "ref": "ref_sky_01.jpg"},
                {"kind": "copyrighted-reference", "ref": "ref_sky_02.jpg"},
            ],
            "data_handling": {"trains_on_inputs": False, "retains_inputs": False, "enterprise_environment": True},
            "approvals": ["APR-2026-0042"],
            "consents": ["CNS-0007"],
        }
    ],
}
GRADE = {
    "asset": {
        "title": "EP101_SH010_grade_v001",
        "production": "PRJ-0042",
        "asset_id": "EP101_SH010",
        "intended_use": "final",
        "description": "final colour grade",
    },
    "source_type": "humanEdits",
}
MOODBOARD = {
    "asset": {
        "title": "EP101_moodboard_03",
        "production": "PRJ-0042",
        "asset_id": "EP101_MB03",
        "intended_use": "temporary",
    },
    "genai": [
        {
            "tool": {"name": "Firefly Image", "version": "4", "vendor": "Adobe"},
            "action": "created",
            "source_type": "trainedAlgorithmicMedia",
            "category": "ideation",
            "description": "mood frame for the night market",
            "inputs": [{"kind": "text-prompt", "ref": "night market in the rain"}],
        }
    ],
}

# Manifests written the way other tools write them: (definition, ingredients as (json, file key)).
THIRD_PARTY: dict[str, tuple[dict[str, Any], list[tuple[dict[str, Any], str]]]] = {
    # DALL·E (2023): a v1 claim, c2pa.actions with a string softwareAgent and no source type
    "dalle_v1.jpg": (
        {
            "claim_version": 1,
            "claim_generator": "DALL·E",
            "title": "dalle_v1.jpg",
            "assertions": [
                {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "softwareAgent": "DALL·E"}]}}
            ],
        },
        [],
    ),
    # Adobe Firefly (2024): https:// IPTC source type, plus a CreativeWork assertion we do not interpret
    "firefly_https.jpg": (
        {
            "claim_generator_info": [{"name": "Adobe Firefly", "version": "3.0"}],
            "title": "firefly_https.jpg",
            "assertions": [
                {
                    "label": "c2pa.actions.v2",
                    "data": {
                        "actions": [
                            {
                                "action": "c2pa.created",
                                "softwareAgent": {"name": "Adobe Firefly", "version": "3.0"},
                                "digitalSourceType": IPTC_HTTPS + "trainedAlgorithmicMedia",
                                "when": "2024-05-02T14:00:00Z",
                            }
                        ]
                    },
                },
                {
                    "label": "stds.schema-org.CreativeWork",
                    "data": {
                        "@context": "http://schema.org/",
                        "@type": "CreativeWork",
                        "author": [{"@type": "Organization", "name": "Adobe"}],
                    },
                },
            ],
        },
        [],
    ),
    # Adobe Firefly (2023): created with no source type; only the legacy assertion says GenAI
    "firefly_legacy.jpg": (
        {
            "claim_version": 1,
            "claim_generator": "Adobe_Express/1.0 adobe_c2pa/0.7.6",
            "title": "firefly_legacy.jpg",
            "assertions": [
                {
                    "label": "c2pa.actions",
                    "data": {"actions": [{"action": "c2pa.created", "softwareAgent": "Adobe Express 1.0"}]},
                },
                {"label": "com.adobe.generative-ai", "data": {"description": "Adobe Firefly", "version": "1.0"}},
            ],
        },
        [],
    ),
    # Photoshop generative fill on a photo that carried no credentials (a stripped stage)
    "photoshop_fill.jpg": (
        {
            "claim_generator_info": [{"name": "Adobe Photoshop", "version": "25.9"}],
            "title": "photoshop_fill.jpg",
            "assertions": [
                {
                    "label": "c2pa.actions.v2",
                    "data": {
                        "actions": [
                            {
                                "action": "c2pa.opened",
                                "softwareAgent": {"name": "Adobe Photoshop", "version": "25.9"},
                                "parameters": {"ingredientIds": ["original"]},
                            },
                            {
                                "action": "c2pa.edited",
                                "softwareAgent": {"name": "Adobe Photoshop", "version": "25.9"},
                                "description": "Generative Fill",
                                "digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia",
                            },
                        ]
                    },
                },
                {"label": "com.adobe.layers", "data": {"count": 3}},
            ],
        },
        [({"title": "holiday.jpg", "relationship": "parentOf", "label": "original"}, "plain")],
    ),
    # ChatGPT (2024): the generator's manifest is a componentOf ingredient; the outer stage converts
    "chatgpt.jpg": (
        {
            "claim_version": 1,
            "claim_generator": "ChatGPT",
            "title": "chatgpt.jpg",
            "assertions": [
                {
                    "label": "c2pa.actions",
                    "data": {
                        "actions": [
                            {"action": "c2pa.converted", "softwareAgent": "OpenAI API"},
                            {"action": "c2pa.placed", "parameters": {"ingredientIds": ["generated"]}},
                        ]
                    },
                }
            ],
        },
        [({"title": "dalle_v1.jpg", "relationship": "componentOf", "label": "generated"}, "dalle_v1.jpg")],
    ),
    # A camera capture with Exif and a maker assertion
    "camera.jpg": (
        {
            "claim_generator_info": [{"name": "Leica M11-P", "version": "2.0.1"}],
            "title": "camera.jpg",
            "assertions": [
                {
                    "label": "c2pa.actions.v2",
                    "data": {
                        "actions": [
                            {
                                "action": "c2pa.created",
                                "softwareAgent": {"name": "Leica M11-P", "version": "2.0.1"},
                                "digitalSourceType": IPTC + "digitalCapture",
                                "when": "2024-03-01T09:30:00Z",
                            }
                        ]
                    },
                },
                {
                    "label": "stds.exif",
                    "data": {
                        "@context": {"exif": "http://ns.adobe.com/exif/1.0/"},
                        "exif:Make": "Leica Camera AG",
                        "exif:Model": "LEICA M11-P",
                    },
                },
                {"label": "com.leica.lens", "data": {"name": "Summilux-M 35 f/1.4"}},
            ],
        },
        [],
    ),
    # Our disclosure label written by someone else, with every field of the wrong type
    "malformed.jpg": (
        {
            "title": "malformed.jpg",
            "assertions": [
                {
                    "label": "c2pa.actions.v2",
                    "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}]},
                },
                {
                    "label": "com.genai-provenance.disclosure",
                    "data": {
                        "asset": "EP999",
                        "source_type": ["digitalCapture"],
                        "genai": [
                            {"tool": "Sora", "inputs": "a prompt", "time_range": "0-3", "approvals": "APR-1"},
                            "not a use",
                        ],
                    },
                },
            ],
        },
        [],
    ),
}


@dataclass
class World:
    base: Path
    home: Path
    anchors: Path  # everything a reader here trusts: studio roots, the colour house root, the TSA root
    trust: TrustSettings
    files: dict[str, Path] = field(default_factory=dict)
    roots: dict[str, Issued] = field(default_factory=dict)


def _root_of(home: Path) -> Issued:
    cert = x509.load_pem_x509_certificate((home / ROOT_CERT).read_bytes())
    key = serialization.load_pem_private_key((home / ROOT_KEY).read_bytes(), password=None)
    return Issued(cert, key)  # type: ignore[arg-type]


def make_identity(folder: Path, ca: Issued, cn: str, org: str, tsa_url: str | None = None) -> Identity:
    leaf = issue_leaf(ca, cn, org)
    slug = re.sub(r"[^a-z0-9]+", "-", cn.lower())
    cert, key = folder / f"{slug}.pem", folder / f"{slug}.key"
    cert.write_bytes(leaf.cert_pem() + ca.cert_pem())
    key.touch(mode=0o600)
    key.write_bytes(leaf.key_pem())
    return load_identity(cert, key, tsa_url)


def build_with_c2pa(
    definition: dict[str, Any], source: Path, out: Path, identity: Identity, trust: TrustSettings, ingredients: list
) -> Path:
    builder = c2pa.Builder(definition, context=trust.context())
    with builder:
        for ingredient, path in ingredients:
            with open(path, "rb") as stream:
                builder.add_ingredient(ingredient, "image/jpeg", stream)
        with open(source, "rb") as src, open(out, "w+b") as dst:
            builder.sign(identity.signer(), "image/jpeg", src, dst)
    return out


def build_world(base: Path) -> World:
    """The studio's three-stage pipeline, other tools' files, and the awkward cases."""
    home = base / "ws"
    init_workspace(home, "Northlight Post")
    studio = _root_of(home)
    colour_root = create_root("Grade House Root CA", "Grade House Ltd")
    vendor_root = create_root("Vendor Content Credentials CA", "Vendor CA Ltd")
    stranger_root = create_root("Unknown Root CA", "Unknown Co")
    ids, out = base / "ids", base / "media"
    ids.mkdir()
    out.mkdir()
    with running_tsa(base / "tsa") as tsa:
        anchors = base / "anchors.pem"
        anchors.write_bytes(
            (home / TRUST_ANCHORS).read_bytes() + colour_root.cert_pem() + vendor_root.cert_pem() + tsa.root_pem
        )
        trust = TrustSettings(anchors.read_text())
        world = World(base, home, anchors, trust, roots={"studio": studio, "stranger": stranger_root})
        camera = make_identity(ids, studio, "On-set DIT", "Camera Department Ltd", tsa.url)
        vfx = make_identity(ids, studio, "Zephyr Comp Artist", "Zephyr VFX")
        colourist = make_identity(ids, colour_root, "Senior Colourist", "Grade House Ltd")
        vendor = make_identity(ids, vendor_root, "Vendor Signing Service", "Vendor Inc")
        stranger = make_identity(ids, stranger_root, "Unknown Studio Signer", "Unknown Co")

        disclosures = {}
        for name, doc in {"plate": PLATE, "comp": COMP, "grade": GRADE, "moodboard": MOODBOARD}.items():
            disclosures[name] = base / f"{name}.json"
            disclosures[name].write_text(json.dumps(doc))
        plate = sign_asset(
            SignRequest(MEDIA / "plate.jpg", out / "EP101_SH010_plate_v001.jpg", disclosures["plate"], camera, trust)
        ).output
    comp = sign_asset(
        SignRequest(
            MEDIA / "plate.jpg", out / "EP101_SH010_comp_v003.jpg", disclosures["comp"], vfx, trust, parent=plate
        )
    ).output
    grade = sign_asset(
        SignRequest(comp, out / "EP101_SH010_grade_v001.jpg", disclosures["grade"], colourist, trust, parent=comp)
    ).output
    world.files.update(plate=plate, comp=comp, grade=grade)

    tampered = out / "tampered" / grade.name
    tampered.parent.mkdir()
    flipped_copy(grade, tampered)
    world.files["tampered"] = tampered
    world.files["untrusted"] = sign_asset(
        SignRequest(MEDIA / "plate.png", out / "EP101_moodboard_03.png", disclosures["moodboard"], stranger, trust)
    ).output
    plain = out / "plain" / "holiday.jpg"
    plain.parent.mkdir()
    shutil.copyfile(MEDIA / "plate.jpg", plain)
    world.files["plain"] = plain
    unreadable = out / "notes.txt"
    unreadable.write_text("not media\n")
    world.files["unreadable"] = unreadable

    for name, (definition, ingredients) in THIRD_PARTY.items():
        parts = [(ing, world.files[key] if key in world.files else out / key) for ing, key in ingredients]
        world.files[name] = build_with_c2pa(definition, MEDIA / "plate.jpg", out / name, vendor, trust, parts)
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield build_world(tmp_path_factory.mktemp("explain"))


def explained(world: World, key: str, **kwargs: Any) -> Explanation:
    return explain(read_asset(world.files[key], world.trust), **kwargs)


def stage_titled(explanation: Explanation, title: str) -> Stage:
    return next(s for s in explanation.stages if s.title == title)


def all_text(explanation: Explanation) -> str:
    return explain_text(explanation)


def assert_calm(text: str) -> None:
    lowered = text.lower()
    for word in ALARMING:
        assert word not in lowered, f"alarming wording {word!r} in:\n{text}"


# ---------------------------------------------------------------------------------------------
# our own three-stage pipeline


def test_pipeline_stages_are_oldest_first_with_who_signed_each(world: World) -> None:
    e = explained(world, "grade")
    assert e.status == "trusted"
    assert [s.title for s in e.stages] == ["EP101_SH010_plate_v001", "EP101_SH010_comp_v003", "EP101_SH010_grade_v001"]
    assert [s.number for s in e.stages] == [1, 2, 3]
    assert [s.current for s in e.stages] == [False, False, True]
    assert {s.status for s in e.stages} == {"trusted"}
    plate, comp, grade = e.stages
    assert (plate.signer.common_name, plate.signer.organisation) == ("On-set DIT", "Camera Department Ltd")
    assert (comp.signer.common_name, comp.signer.organisation) == ("Zephyr Comp Artist", "Zephyr VFX")
    assert (grade.signer.common_name, grade.signer.organisation) == ("Senior Colourist", "Grade House Ltd")
    assert "Northlight Post Development Root CA" in plate.signer.issuer
    assert "Grade House Root CA" in grade.signer.issuer
    for stage in e.stages:
        assert stage.signer.trust == "trusted"
        assert "chains to a trust anchor" in stage.signer.why
    assert plate.signer.sentence == (
        "Signed by On-set DIT of Camera Department Ltd; certificate issued by "
        "Northlight Post Development Root CA, Northlight Post."
    )
    assert comp.ingredients == [
        "Used stage 1, EP101_SH010_plate_v001 (EP101_SH010_plate_v001.jpg), as its parent (the asset it was made from)."
    ]
    assert grade.ingredients[0].startswith("Used stage 2, EP101_SH010_comp_v003")
    assert plate.used_by == ["Used by stage 2, EP101_SH010_comp_v003, as its parent (the asset it was made from)."]
    assert e.headline.startswith("EP101_SH010_grade_v001.jpg carries intact Content Credentials recording three")


def test_pipeline_times_separate_time_stamp_from_the_signers_claim(world: World) -> None:
    plate, comp, _ = explained(world, "grade").stages
    assert plate.time.time_stamped_at  # the camera department used the time-stamp authority
    assert plate.time.sentence.startswith(f"Time-stamped at {plate.time.time_stamped_at} by an independent")
    assert plate.time.claimed_time and "signer's own tools recorded" in plate.time.sentence
    assert comp.time.time_stamped_at is None
    assert comp.time.sentence == (
        f"Not time-stamped: the only time is the signer's own claim, {comp.time.claimed_time}, "
        "which nothing independent confirms."
    )


def test_pipeline_says_what_was_done_in_words(world: World) -> None:
    plate, comp, grade = explained(world, "grade").stages
    assert [a.summary for a in plate.activities] == [
        "Declared as captured by a camera or recorder.",
        "No generative AI use is declared for this stage.",
    ]
    assert plate.genai == "none"
    genai = comp.activities[1]
    assert genai.summary == (
        "Sky replaced using Runway Gen-4 4.0 (model gen4-turbo) from the production's own footage, "
        "a text prompt and two copyrighted references between 00:00:00:03 and 00:00:00:09 "
        "(edited with generative AI)."
    )
    assert comp.genai == "generative" and genai.genai == "generative"
    assert (genai.tool, genai.model, genai.category) == ("Runway Gen-4 4.0", "gen4-turbo", "background-element")
    assert genai.category_words == "Background elements on camera (signage, posters, set dressing)"
    assert [(i.kind, i.ref) for i in genai.inputs] == [
        ("own-footage", "EP101_SH010_plate_v001"),
        ("text-prompt", "stormy dusk sky, low cloud"),
        ("copyrighted-reference", "ref_sky_01.jpg"),
        ("copyrighted-reference", "ref_sky_02.jpg"),
    ]
    assert genai.data_handling == (
        "The signer declared that the tool does not train on the inputs, does not retain the inputs and ran in "
        "an enterprise-secured environment."
    )
    assert "Declared purpose: background-element \u2014 background elements on camera" in " ".join(genai.details)
    assert grade.activities[0].summary == "Declared as edited by a person."
    assert "Description: final colour grade." in grade.declared
    assert grade.training_mining == {
        "generative AI training": "not allowed",
        "AI training": "not allowed",
        "data mining": "not allowed",
    }


def test_pipeline_consents_and_approvals_are_unchecked_without_clearances(world: World) -> None:
    e = explained(world, "grade")
    genai = e.stages[1].activities[1]
    assert [(v.id, v.status) for v in genai.approvals] == [("APR-2026-0042", "unchecked")]
    assert [(v.id, v.status) for v in genai.consents] == [("CNS-0007", "unchecked")]
    assert genai.approvals[0].sentence == (
        "Approval APR-2026-0042 is cited: it was declared, but it could not be checked here."
    )
    assert any("declared but could not be checked here" in s for s in e.cannot_know)
    assert any("only a reference" in s for s in e.does_not_prove)


def _checked(world: World, key: str, ledger_path: Path) -> Explanation:
    """Explain through the production path: the clearances are checked against a real ledger."""
    anchors = load_anchors(open_workspace(world.home).approver_anchors())
    with Ledger(ledger_path, anchors) as ledger:
        return explain_file(world.files[key], world.trust, ClearanceSource(anchors, ledger)).explanation


def test_pipeline_consents_and_approvals_say_whether_each_checks_out(world: World, tmp_path: Path) -> None:
    ws = open_workspace(world.home)
    common = ("PRJ-0042", ["EP101_SH010"], ["background-element"])
    path = tmp_path / "ledger.sqlite"
    with Ledger(path, load_anchors(ws.approver_anchors())) as ledger:
        grant(ledger, Grant("approval", "APR-2026-0042", *common), ws.approver_identity())
        consent = Grant("consent", "CNS-0007", *common, talent_name="Jane Doe", talent_id="SAG-123")
        grant(ledger, consent, ws.approver_identity())
        revoke(ledger, "CNS-0007", "consent", "talent withdrew consent", ws.approver_identity())
    e = _checked(world, "grade", path)
    genai = e.stages[1].activities[1]
    assert genai.approvals[0].sentence.startswith("Approval APR-2026-0042 checks out: a valid signed record was found")
    assert genai.consents[0].sentence.startswith("Consent CNS-0007 does not check out: the record has been revoked")
    assert not any("could not be checked here" in s for s in e.cannot_know)
    assert any("does not show that the work stayed within what was approved" in s for s in e.does_not_prove)

    forged_path = tmp_path / "forged.sqlite"
    with Ledger(forged_path, load_anchors(ws.approver_anchors())) as ledger:
        grant(ledger, Grant("approval", "APR-2026-0042", *common), ws.approver_identity())
    with sqlite3.connect(forged_path) as db:  # widen the signed record's scope behind the signature's back
        (text,) = db.execute("SELECT envelope FROM records WHERE id = 'APR-2026-0042'").fetchone()
        envelope = json.loads(text)
        envelope["record"]["covers"].append("final-deliverable")
        db.execute("UPDATE records SET envelope = ? WHERE id = 'APR-2026-0042'", (json.dumps(envelope),))
    db.close()
    forged = _checked(world, "grade", forged_path)
    genai = forged.stages[1].activities[1]
    assert "altered or forged" in genai.approvals[0].sentence
    assert "no record with this ID was found" in genai.consents[0].sentence


def test_pipeline_narrative_text_reads_in_order_with_its_limits(world: World) -> None:
    text = all_text(explained(world, "grade"))
    order = [
        "What the file is:",
        "Stage 1 of 3: EP101_SH010_plate_v001",
        "Who: Signed by On-set DIT of Camera Department Ltd",
        "Stage 2 of 3: EP101_SH010_comp_v003",
        "Sky replaced using Runway Gen-4 4.0",
        "Approval APR-2026-0042 is cited",
        "Stage 3 of 3: EP101_SH010_grade_v001",
        "Who: Signed by Senior Colourist of Grade House Ltd",
        "What the credentials do not prove",
        "What cannot be known here",
    ]
    flat = " ".join(text.split())
    flat = flat[flat.find("What the file is:") :]  # the narrative, after the verdict and problems that open the page
    positions = [flat.find(" ".join(marker.split())) for marker in order]
    assert -1 not in positions, [m for m, p in zip(order, positions, strict=True) if p == -1]
    assert positions == sorted(positions)
    assert " ".join(DOES_NOT_PROVE_SIGNATURE.split()) in flat
    assert "Generative AI is recorded in stage 2 (EP101_SH010_comp_v003)." in flat
    assert_calm(text)


def test_policy_findings_are_stated_against_their_stage(world: World) -> None:
    report = read_asset(world.files["grade"], world.trust)
    comp = report.manifests[1]
    finding = Finding(
        "final-needs-approval",
        "block",
        4,
        "GenAI in a final deliverable needs written approval",
        {"manifest": comp.label, "stage": comp.title},
        "Get an approval from studio legal",
        ["an approval covering final-deliverable"],
    )
    e = explain(report, findings=[finding])
    assert e.policy_sentence == "The policy blocks this file: 1 finding must be resolved."
    assert e.policy[0].stage == 2
    assert e.policy[0].sentence == (
        "BLOCK: GenAI in a final deliverable needs written approval (stage 2, EP101_SH010_comp_v003); "
        "needs an approval covering final-deliverable."
    )
    assert "What the policy says" in all_text(e)
    assert explain(report).policy is None and "What the policy says" not in all_text(explain(report))


# ---------------------------------------------------------------------------------------------
# other tools' manifests


def test_dalle_v1_string_agent_without_source_type(world: World) -> None:
    e = explained(world, "dalle_v1.jpg")
    (stage,) = e.stages
    assert stage.signer.common_name == "Vendor Signing Service" and stage.status == "trusted"
    (activity,) = stage.activities
    assert activity.summary == (
        "Created using DALL·E (the software named is a known generative AI product; no source type was recorded)."
    )
    assert activity.genai == "generative" and activity.tool == "DALL·E"
    assert e.genai == "generative"


def test_firefly_https_source_type_and_unknown_assertions_listed(world: World) -> None:
    (stage,) = explained(world, "firefly_https.jpg").stages
    (activity,) = stage.activities
    assert activity.summary == "Created using Adobe Firefly 3.0 (created by generative AI)."
    assert activity.source_type == "trainedAlgorithmicMedia"
    assert stage.time.claimed_time == "2024-05-02T14:00:00Z"
    assert stage.unknown_assertions == ["stds.schema-org.CreativeWork"]


def test_adobe_legacy_generative_ai_assertion(world: World) -> None:
    e = explained(world, "firefly_legacy.jpg")
    (stage,) = e.stages
    summaries = [a.summary for a in stage.activities]
    assert summaries == [
        "Created using Adobe Express 1.0.",
        "Adobe's older generative AI record says generative AI was used (Adobe Firefly).",
    ]
    assert stage.genai == "generative" and e.genai == "generative"
    assert stage.unknown_assertions == []  # the legacy record is interpreted, not merely listed


def test_photoshop_generative_fill_on_a_file_without_credentials(world: World) -> None:
    e = explained(world, "photoshop_fill.jpg")
    stripped, edit = e.stages
    assert (stripped.kind, stripped.title, stripped.status, stripped.signer) == (
        "no-credentials",
        "holiday.jpg",
        "no-credentials",
        None,
    )
    assert stripped.used_by == ["Used by stage 2, photoshop_fill.jpg, as its parent (the asset it was made from)."]
    assert [a.summary for a in edit.activities] == [
        "Opened an existing asset using Adobe Photoshop 25.9.",
        "Edited using Adobe Photoshop 25.9: \u201cGenerative Fill\u201d (edited with generative AI).",
    ]
    assert edit.ingredients == [
        "Used stage 1, holiday.jpg, as its parent (the asset it was made from); that file carried no Content "
        "Credentials of its own."
    ]
    assert edit.unknown_assertions == ["com.adobe.layers"]
    assert any(
        s.startswith("Stage 1 (holiday.jpg) carried no Content Credentials when it was used") for s in e.cannot_know
    )


def test_openai_style_genai_in_a_component_ingredient(world: World) -> None:
    e = explained(world, "chatgpt.jpg")
    generated, outer = e.stages
    assert generated.title == "dalle_v1.jpg" and generated.genai == "generative"
    assert outer.title == "chatgpt.jpg" and outer.genai == "none" and outer.current
    assert generated.used_by == ["Used by stage 2, chatgpt.jpg, as a component (an element placed into it)."]
    assert [a.summary for a in outer.activities] == [
        "Converted to another format using OpenAI API.",
        "Placed an element into it.",
    ]
    assert e.genai == "generative"
    assert e.genai_sentence == "Generative AI is recorded in stage 1 (dalle_v1.jpg)."


def test_camera_capture(world: World) -> None:
    e = explained(world, "camera.jpg")
    (stage,) = e.stages
    assert [a.summary for a in stage.activities] == [
        "Created using Leica M11-P 2.0.1 (captured by a camera or recorder)."
    ]
    assert stage.genai == "none"
    assert stage.unknown_assertions == ["stds.exif", "com.leica.lens"]
    assert e.genai == "none-recorded"
    assert "does not show that none was used" in e.genai_sentence
    assert "That no generative AI use is recorded does not prove that none was used." in e.does_not_prove
    assert any("kinds this tool does not interpret" in s for s in e.cannot_know)


def test_malformed_disclosure_is_explained_without_crashing(world: World) -> None:
    (stage,) = explained(world, "malformed.jpg").stages
    assert stage.status == "trusted" and stage.declared == []
    assert [a.summary for a in stage.activities] == [
        "Created (captured by a camera or recorder).",
        "A disclosure record that does not follow this tool's disclosure schema says generative AI was used.",
    ]
    assert stage.unknown_assertions == [
        "com.genai-provenance.disclosure (does not follow the disclosure schema; not read as a disclosure)"
    ]
    cli = run(
        str(world.files["malformed.jpg"]), "--trust", str(world.anchors), "--home", str(world.home), "--no-policy"
    )
    assert cli.exit_code == 0, cli.output  # checking clearances and policy facts must not trip over it
    policy = ROOT / "genai_provenance" / "policy" / "default.yaml"
    cli = run(str(world.files["malformed.jpg"]), "--trust", str(world.anchors), "--policy", str(policy))
    assert cli.exit_code in (0, 1) and "What the policy says" in cli.stdout


# ---------------------------------------------------------------------------------------------
# files that cannot be vouched for: accurate, calm, and never reassuring


def test_no_credentials_is_not_no_ai(world: World) -> None:
    e = explained(world, "plain")
    assert e.status == "no-credentials" and e.stages == [] and e.genai == "unknown"
    assert e.headline == (
        "holiday.jpg carries no Content Credentials, so the file itself says nothing about how it was made, "
        "including whether generative AI was used."
    )
    text = all_text(e)
    flat = " ".join(text.split()).lower()
    for phrase in REASSURING_NO_AI:
        assert phrase not in flat, phrase
    assert "that does not tell you whether generative ai was used" in flat
    assert "a missing record is not evidence either way" in flat
    assert_calm(text)


def test_tampered_says_the_bytes_changed_after_which_stage(world: World) -> None:
    e = explained(world, "tampered")
    assert e.status == "invalid"
    grade = e.stages[-1]
    assert grade.status == "invalid" and grade.current and "assertion.dataHash.mismatch" in grade.failure_codes
    assert [s.status for s in e.stages[:2]] == ["trusted", "trusted"]
    assert e.headline.endswith("the media bytes changed after signing (stage 3, EP101_SH010_grade_v001).")
    bytes_changed = next(s for s in e.cannot_know if s.startswith("The bytes of this file changed"))
    assert bytes_changed.startswith("The bytes of this file changed after stage 3 (EP101_SH010_grade_v001) was signed")
    assert "does not show the content was falsified" in bytes_changed  # calm
    assert "no longer vouch for it" in bytes_changed  # not reassuring
    text = all_text(e)
    assert "authentic" not in text.lower()
    assert_calm(text)


def test_untrusted_signer_intact_but_unconfirmed(world: World) -> None:
    e = explained(world, "untrusted")
    assert e.status == "valid-untrusted"
    (stage,) = e.stages
    assert stage.signer.trust == "untrusted" and stage.signer.common_name == "Unknown Studio Signer"
    assert "does not chain to any trust anchor" in stage.signer.why
    assert "but stage 1 was signed by an identity that is not on the trust list" in e.headline
    note = next(s for s in e.cannot_know if s.startswith("Stage 1 (EP101_moodboard_03) was signed by"))
    assert "Its signature is intact, so the record has not changed since it was signed" in note
    assert "who really signed it cannot be confirmed" in note
    assert e.stages[0].activities[0].summary == (
        "Mood frame for the night market using Firefly Image 4 (Adobe) from a text prompt (created by generative AI)."
    )
    assert_calm(all_text(e))


def test_unreadable_file(world: World) -> None:
    e = explained(world, "unreadable")
    assert e.status == "unreadable" and e.stages == []
    assert e.headline.startswith("notes.txt could not be read (unsupported format .txt)")
    assert e.cannot_know[0].startswith("notes.txt could not be read as media")
    assert_calm(all_text(e))


# ---------------------------------------------------------------------------------------------
# the command


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["explain", *args], catch_exceptions=False)


@pytest.mark.parametrize(
    ("key", "code", "status"),
    [
        ("grade", 0, "trusted"),
        ("plain", 1, "no-credentials"),
        ("tampered", 1, "invalid"),
        ("untrusted", 1, "valid-untrusted"),
        ("unreadable", 1, "unreadable"),
        ("photoshop_fill.jpg", 0, "trusted"),
    ],
)
def test_cli_json_validates_against_the_schema(world: World, key: str, code: int, status: str) -> None:
    result = run(
        str(world.files[key]),
        "--trust",
        str(world.anchors),
        "--home",
        str(world.home),
        "--format",
        "json",
        "--no-policy",
    )
    assert result.exit_code == code, result.output
    document = json.loads(result.stdout)
    validate("explain-report", document, key)
    assert document["explanation"]["status"] == status
    assert document["passed"] is (code == 0)
    assert document["policy_blocked"] is None


def test_cli_text_and_exit_code(world: World) -> None:
    result = run(str(world.files["grade"]), "--trust", str(world.anchors), "--no-policy")
    assert result.exit_code == 0
    assert result.stdout.startswith("How this file was made: EP101_SH010_grade_v001.jpg")
    # The built-in policy applies unless told otherwise: the comp's GenAI has no approval here.
    policed = run(str(world.files["grade"]), "--trust", str(world.anchors))
    assert policed.exit_code == 1
    assert policed.stdout.splitlines()[2].startswith("VERDICT: BLOCKED by the policy (GP-FINAL-001")
    assert "Stage 3 of 3: EP101_SH010_grade_v001" in result.stdout
    without_trust = run(str(world.files["grade"]), "--home", str(world.base / "no-workspace"))
    assert without_trust.exit_code == 1
    assert without_trust.stdout.startswith("note: no trust anchors")


def test_cli_checks_clearances_against_the_workspace(world: World) -> None:
    args = ["--trust", str(world.anchors), "--home", str(world.home), "--format", "json"]
    result = run(str(world.files["grade"]), *args)
    stage = json.loads(result.stdout)["explanation"]["stages"][1]
    approval = stage["activities"][1]["approvals"][0]
    assert approval["status"] == "missing"  # checked: no signed approval with this ID exists here
    assert approval["sentence"].startswith("Approval APR-2026-0042 does not check out: no record with this ID")


def test_cli_policy_states_findings_and_sets_the_exit_code(world: World) -> None:
    policy = ROOT / "genai_provenance" / "policy" / "default.yaml"
    args = [str(world.files["grade"]), "--trust", str(world.anchors), "--home", str(world.home), "--policy"]
    result = run(*args, str(policy), "--format", "json")
    document = json.loads(result.stdout)
    validate("explain-report", document, "policy")
    assert isinstance(document["policy_blocked"], bool)
    assert result.exit_code == (1 if document["policy_blocked"] else 0)
    assert isinstance(document["explanation"]["policy"], list) and document["explanation"]["policy_sentence"]
    text = run(*args, str(policy))
    assert "What the policy says" in text.stdout


def test_cli_input_errors_exit_2_with_one_line(world: World, tmp_path: Path) -> None:
    missing = run(str(tmp_path / "nope.jpg"))
    assert missing.exit_code == 2
    assert missing.stderr.strip() == f"genai-provenance: error: {tmp_path / 'nope.jpg'}: no such file"
    folder = run(str(tmp_path))
    assert folder.exit_code == 2 and len(folder.stderr.strip().splitlines()) == 1
    bad_policy = tmp_path / "policy.yaml"
    bad_policy.write_text("rules: [\n")
    policy = run(str(world.files["grade"]), "--trust", str(world.anchors), "--policy", str(bad_policy))
    assert policy.exit_code == 2
    assert policy.stderr.startswith(f"genai-provenance: error: {bad_policy}: not valid YAML")
    target = world.files["grade"]
    before = target.read_bytes()
    same = run(str(target), "--trust", str(world.anchors), "--html", str(target))
    assert same.exit_code == 2 and "is the file being explained" in same.stderr
    assert target.read_bytes() == before


def test_explain_file_never_modifies_the_input(world: World) -> None:
    target = world.files["comp"]
    before = target.read_bytes()
    result = explain_file(target, world.trust)
    assert result.passed and result.blocked is None
    assert target.read_bytes() == before
