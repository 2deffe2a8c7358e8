"""`explain --html`: one self-contained page, rendered in headless Chromium (Debian's package).

The page is checked as a file (no network loads, everything inline, untrusted strings escaped)
and as the browser renders it (stages in order, tools, statuses, data: thumbnails), with a
screenshot and a print to PDF.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from test_explain import MEDIA, World, build_with_c2pa, build_world, make_identity

from genai_provenance.cli import main
from genai_provenance.credentials.read import TrustSettings
from genai_provenance.trust.pki import create_root

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (tests/install-system-deps.sh installs Debian's chromium)"
)
pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl is not installed (it serves the local time-stamp authority)"
)

URL_ATTRIBUTES = {"src", "href", "srcset", "action", "formaction", "data", "poster", "background", "xlink:href"}
HOSTILE_TITLE = '<script>document.title="pwned"</script>.jpg'
HOSTILE_AGENT = '"><b id="injected">bold</b>'
HOSTILE_DESCRIPTION = "<img src=x onerror=alert(1)> and https://example.com/x.png"
HOSTILE = {
    "claim_generator_info": [{"name": "Hostile Tool", "version": "1.0"}],
    "title": HOSTILE_TITLE,
    "assertions": [
        {
            "label": "c2pa.actions.v2",
            "data": {
                "actions": [
                    {
                        "action": "c2pa.created",
                        "softwareAgent": {"name": HOSTILE_AGENT},
                        "description": HOSTILE_DESCRIPTION,
                        "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
                    }
                ]
            },
        }
    ],
}


@dataclass
class Pages:
    world: World
    html: dict[str, Path] = field(default_factory=dict)
    exit_codes: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    base = tmp_path_factory.mktemp("explain-html")
    world = build_world(base)
    hostile_root = create_root("Hostile Root CA", "Hostile Ltd")
    signer = make_identity(base / "ids", hostile_root, "Hostile Signer", "Hostile Ltd")
    world.files["hostile"] = build_with_c2pa(
        HOSTILE, MEDIA / "plate.jpg", base / "media" / "hostile.jpg", signer, TrustSettings(), []
    )
    pages = Pages(world)
    out = base / "pages"
    for key in ("grade", "tampered", "plain", "photoshop_fill.jpg", "hostile"):
        target = out / f"{key.replace('.', '_')}.html"
        result = CliRunner().invoke(
            main,
            ["explain", str(world.files[key]), "--trust", str(world.anchors), "--html", str(target)],
            catch_exceptions=False,
        )
        assert target.is_file(), result.output
        pages.html[key], pages.exit_codes[key] = target, result.exit_code
    yield pages


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


class Dom(HTMLParser):
    """What the rendered DOM holds: stages, statuses, titles, images and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.stages: list[tuple[str, str]] = []  # (data-stage, data-status)
        self.titles: list[str] = []
        self.images: list[str] = []
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []  # (tag, attribute, value) of every element
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "li" and "stage" in (a.get("class") or "").split():
            self.stages.append((a.get("data-stage") or "", a.get("data-status") or ""))
        if tag == "span" and a.get("class") == "stage-title":
            self._in_title = True
        if tag == "img":
            self.images.append(a.get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_title:
            self.titles.append(data)

    @property
    def flat(self) -> str:
        return " ".join(" ".join(self.text).split())


def rendered(pages: Pages, key: str, tmp: Path) -> Dom:
    done = chromium(tmp, "--dump-dom", pages.html[key].as_uri())
    dom = Dom()
    dom.feed(done.stdout.decode("utf-8"))
    return dom


def test_page_is_self_contained(pages: Pages) -> None:
    for key, path in pages.html.items():
        html = path.read_text(encoding="utf-8")
        assert "@media print" in html and "<style>" in html
        assert "Content-Security-Policy" in html and "default-src 'none'" in html
        for forbidden in ("<script", "<link", "<iframe", "<object", "<embed", "@import", "url("):
            assert forbidden not in html.lower(), (key, forbidden)
        page = Dom()
        page.feed(html)
        loads = [(tag, name, value) for tag, name, value in page.attributes if name in URL_ATTRIBUTES]
        assert {tag for tag, _, _ in loads} <= {"img", "a"}, (key, loads)
        for tag, name, value in loads:
            assert not re.match(r"\s*(?:https?:)?//", value, re.I), (key, tag, name, value)
            if name == "src":
                assert value.startswith("data:image/jpeg;base64,"), (key, value[:40])
            else:
                assert value.startswith("#stage-"), (key, value)
        assert any(name == "src" for _, name, _ in loads), key  # every page here has a picture


def test_exit_codes_follow_the_verification(pages: Pages) -> None:
    # The built-in policy applies: the comp's GenAI has no approval, Photoshop's generative fill is undeclared.
    assert pages.exit_codes == {"grade": 1, "tampered": 1, "plain": 1, "photoshop_fill.jpg": 1, "hostile": 1}


@needs_chromium
def test_pipeline_page_renders_stages_tools_statuses_and_thumbnails(pages: Pages, tmp_path: Path) -> None:
    shot = tmp_path / "grade.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", pages.html["grade"].as_uri())
    assert shot.stat().st_size > 50_000
    with Image.open(shot) as img:
        assert img.size == (1200, 2000)
        assert img.convert("RGB").getcolors(maxcolors=256) is None  # thumbnails and text, not a blank page
    dom = rendered(pages, "grade", tmp_path)
    assert dom.stages == [("1", "trusted"), ("2", "trusted"), ("3", "trusted")]
    assert dom.titles == ["EP101_SH010_plate_v001", "EP101_SH010_comp_v003", "EP101_SH010_grade_v001"]
    text = dom.flat
    for fact in (
        "Signed by On-set DIT of Camera Department Ltd",
        "Signed by Zephyr Comp Artist of Zephyr VFX",
        "Signed by Senior Colourist of Grade House Ltd",
        "Sky replaced using Runway Gen-4 4.0 (model gen4-turbo)",
        "(edited with generative AI)",
        "Time-stamped at",
        "Approval APR-2026-0042",
        "What the credentials do not prove",
        "What cannot be known here",
    ):
        assert fact in text, fact
    order = [text.find(f"Stage {n} of 3") for n in (1, 2, 3)]
    assert -1 not in order and order == sorted(order)
    thumbs = [src for src in dom.images if src.startswith("data:image/jpeg;base64,")]
    assert len(thumbs) == len(dom.images) == 4  # the file itself, then one per stage from its manifest
    for src in thumbs:
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as picture:
            assert picture.format == "JPEG" and min(picture.size) > 16


@needs_chromium
def test_page_prints(pages: Pages, tmp_path: Path) -> None:
    pdf = tmp_path / "grade.pdf"
    chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", pages.html["grade"].as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2  # three stage cards do not fit on one page


@needs_chromium
def test_tampered_and_stripped_stages_are_shown_with_their_status(pages: Pages, tmp_path: Path) -> None:
    tampered = rendered(pages, "tampered", tmp_path)
    assert tampered.stages == [("1", "trusted"), ("2", "trusted"), ("3", "invalid")]
    assert "Problems found" in tampered.flat
    assert "The bytes of this file changed after stage 3 (EP101_SH010_grade_v001) was signed" in tampered.flat
    stripped = rendered(pages, "photoshop_fill.jpg", tmp_path)
    assert stripped.stages == [("1", "no-credentials"), ("2", "trusted")]
    assert stripped.titles == ["holiday.jpg", "photoshop_fill.jpg"]
    edit = "Edited using Adobe Photoshop 25.9: \u201cGenerative Fill\u201d (edited with generative AI)."
    assert edit in stripped.flat
    assert "com.adobe.layers" in stripped.flat
    assert len(stripped.images) == 3  # the file, the stripped parent's ingredient thumbnail, the edit


@needs_chromium
def test_no_credentials_page(pages: Pages, tmp_path: Path) -> None:
    dom = rendered(pages, "plain", tmp_path)
    assert dom.stages == []
    assert len(dom.images) == 1 and dom.images[0].startswith("data:image/jpeg;base64,")  # made with Pillow
    assert "holiday.jpg carries no Content Credentials" in dom.flat
    assert "That does not tell you whether generative AI was used" in dom.flat
    lowered = dom.flat.lower()
    assert "no ai" not in lowered and "not generated" not in lowered


@needs_chromium
def test_manifest_strings_are_escaped(pages: Pages, tmp_path: Path) -> None:
    html = pages.html["hostile"].read_text(encoding="utf-8")
    assert "<script" not in html and "<img src=x" not in html and 'id="injected"' not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    dom = rendered(pages, "hostile", tmp_path)
    assert "injected" not in dom.ids and "script" not in dom.tags
    assert all(src.startswith("data:image/jpeg;base64,") for src in dom.images)
    assert HOSTILE_TITLE in dom.flat  # shown as text, exactly as the manifest says
    assert HOSTILE_AGENT in dom.flat and HOSTILE_DESCRIPTION in dom.flat
    assert dom.stages == [("1", "valid-untrusted")]
