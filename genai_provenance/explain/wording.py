"""Words for explanations: the tables and phrase helpers that turn provenance facts into English.

Pure functions of their arguments (and of the schema vocabulary): no file, manifest or trust is read here.
"""

from __future__ import annotations

from genai_provenance.credentials.formats import FORMATS
from genai_provenance.credentials.source_types import classify, describe
from genai_provenance.explain.model import UNCHECKED, InputView
from genai_provenance.model.provenance import INVALID, NO_CREDENTIALS, TRUSTED, UNREADABLE, VALID_UNTRUSTED
from genai_provenance.schemas import vocabulary

STATUS_WORDS = {
    TRUSTED: "intact, signed by an identity on the trust list",
    VALID_UNTRUSTED: "intact, but the signer is not on the trust list",
    INVALID: "failed verification",
    NO_CREDENTIALS: "no Content Credentials",
    UNREADABLE: "could not be read",
    UNCHECKED: "recorded in the file but not linked to its history",
}

ACTION_WORDS = {
    "c2pa.created": "Created",
    "c2pa.opened": "Opened an existing asset",
    "c2pa.edited": "Edited",
    "c2pa.edited.metadata": "Edited the metadata",
    "c2pa.placed": "Placed an element into it",
    "c2pa.removed": "Removed an element",
    "c2pa.converted": "Converted to another format",
    "c2pa.transcoded": "Transcoded",
    "c2pa.repackaged": "Repackaged without re-encoding",
    "c2pa.color_adjustments": "Adjusted the colour",
    "c2pa.cropped": "Cropped",
    "c2pa.resized": "Resized",
    "c2pa.filtered": "Applied a filter",
    "c2pa.drawing": "Drew on it",
    "c2pa.orientation": "Changed the orientation",
    "c2pa.published": "Published",
    "c2pa.produced": "Produced",
    "c2pa.redacted": "Redacted part of it",
    "c2pa.translated": "Translated",
    "c2pa.watermarked": "Added a watermark",
    "c2pa.unknown": "Did something the tool did not name",
}
OUR_ACTION_LEAD = {
    "created": "Generated",
    "edited": "Edited",
    "placed": "Generated element placed into the shot",
}
RELATIONSHIP_WORDS = {
    "parentOf": "as its parent (the asset it was made from)",
    "componentOf": "as a component (an element placed into it)",
    "inputTo": "as an input (for example a prompt or a reference)",
}
_INPUT_NOUNS: dict[str, tuple[str, str | None]] = {
    # kind: (one, several) -- several is None for material that is not counted
    "own-footage": ("the production's own footage", None),
    "licensed": ("licensed material", None),
    "public-domain": ("public-domain material", None),
    "studio-proprietary": ("studio-owned material (unreleased assets, scripts)", None),
    "personal-data": ("personal data of cast or crew", None),
    "talent-likeness": ("a performer's likeness or voice", "{n} performers' likenesses or voices"),
    "copyrighted-reference": ("a copyrighted reference", "{n} copyrighted references"),
    "estate-controlled": ("estate-controlled material", None),
    "public-figure-likeness": ("the likeness or voice of a public figure", "{n} public figures' likenesses or voices"),
    "text-prompt": ("a text prompt", "{n} text prompts"),
}
_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
CLEARANCE_WORDS = {
    "valid": "checks out: a valid signed record was found",
    "expired": "does not check out: the record has expired",
    "revoked": "does not check out: the record has been revoked",
    "missing": "does not check out: no record with this ID was found",
    "forged": "does not check out: a record was found but its signature does not verify (altered or forged)",
    "issuer-untrusted": "does not check out: the record was issued by someone who is not a trusted approver",
    "out-of-scope": "does not check out: the record does not cover this asset",
    "category-not-covered": "does not check out: the record does not cover this category of use",
    "wrong-kind": "does not check out: the ID names a different kind of record",
}
_MIME_NAMES = {
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/tiff": "TIFF image",
    "image/webp": "WebP image",
    "image/gif": "GIF image",
    "image/avif": "AVIF image",
    "image/heic": "HEIC image",
    "video/mp4": "MP4 video",
    "video/quicktime": "QuickTime (MOV) video",
    "audio/mp4": "M4A audio file",
    "audio/wav": "WAV audio file",
    "audio/mpeg": "MP3 audio file",
    "application/pdf": "PDF document",
    "image/x-exr": "OpenEXR image",
    "image/x-dpx": "DPX image",
    "application/mxf": "MXF video",
    "video/x-matroska": "Matroska (MKV) video",
    "video/webm": "WebM video",
    "audio/ogg": "Ogg audio file",
}

DOES_NOT_PROVE_SIGNATURE = (
    "A valid signature shows who signed each stage (as named in their certificate) and that the signed "
    "record and the media have not changed since. It does not prove that what the signer declared is true: "
    "a signer can leave out a tool, misdescribe an input or choose the wrong category."
)


def sentence(text: str) -> str:
    """`text` trimmed, with a capital first letter and a closing full stop unless it already ends a sentence."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def join(items: list[str]) -> str:
    """`items` as an English list: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def count(n: int) -> str:
    """`n` in words up to ten, in digits above (or below zero)."""
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def quote(text: str) -> str:
    """`text` in curly quotes, its white space folded to single spaces."""
    return f"\u201c{' '.join(str(text).split())}\u201d"


def terms(name: str) -> dict[str, str]:
    """The words the schema vocabulary gives for each term of `name` (its `x-terms`)."""
    return dict(vocabulary().get(name, {}).get("x-terms") or {})


def format_words(mime: str | None) -> str:
    """A media type in words, with its article: "a JPEG image", "an MP4 video"."""
    if not mime:
        return "a file of unknown format"
    name = _MIME_NAMES.get(mime)
    if name:
        return f"{'an' if name[0] in 'AEHIMO' else 'a'} {name}"
    kinds = {f.mime: f.kind for f in FORMATS.values()}
    return f"a {kinds.get(mime, 'file')} ({mime})"


def source_words(value: str | None) -> str | None:
    """An IPTC / C2PA source type in words, saying so when the term is not one we know."""
    if not value:
        return None
    if classify(value) == "unknown":
        return f"source type {quote(str(value))}, a term this tool does not recognise"
    return describe(value)


def input_phrase(inputs: list[InputView]) -> str:
    """Declared inputs counted by kind, in words: "two text prompts and a copyrighted reference"."""
    counts: dict[str, int] = {}
    for item in inputs:
        counts[item.kind or "?"] = counts.get(item.kind or "?", 0) + 1
    parts = []
    for kind, n in counts.items():
        one, several = _INPUT_NOUNS.get(kind, (None, None))
        if one is None:
            parts.append(terms("input_kind").get(kind, kind).lower() if kind != "?" else "an unstated input")
        elif n > 1 and several:
            parts.append(several.format(n=count(n)))
        else:
            parts.append(one)
    return join(parts)


def meaning(words: str | None) -> str:
    """ " — what a term means", to follow the term; empty when there are no words for it."""
    return f" \u2014 {words[0].lower()}{words[1:]}" if words else ""


def input_sentence(item: InputView) -> str:
    """One declared input in words: kind first, then the signer's reference and description."""
    words = item.kind_words[0].lower() + item.kind_words[1:] if item.kind_words else "an unstated input"
    text = f"Input: {words} ({item.kind or 'no kind given'})"
    if item.ref:
        text += f", reference {quote(item.ref)}"
    if item.description:
        text += f": {item.description}"
    return sentence(text)
