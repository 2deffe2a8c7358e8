"""What a signer declares: the disclosure file, its validation and its time codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genai_provenance.credentials.source_types import classify, generative_terms
from genai_provenance.credentials.timecodes import timecode_seconds
from genai_provenance.credentials.title_template import templated
from genai_provenance.documents import read_document
from genai_provenance.errors import SchemaError
from genai_provenance.model.disclosure import Disclosure
from genai_provenance.schemas import validate

DEFAULT_FRAME_RATE = 24.0


def check(document: Any, source: str) -> dict[str, Any]:
    """Validate a disclosure document against the schema and its cross-field rules."""
    validate("disclosure", document, source)
    uses = document.get("genai", [])
    if not uses and "source_type" not in document:
        raise SchemaError(f"{source}: source_type: required when genai lists no use")
    if classify(document.get("source_type")) == "generative":
        raise SchemaError(
            f"{source}: source_type: {document['source_type']} says generative AI made the asset; "
            "declare the tool under genai (with its category, approvals and consents)"
        )
    for i, use in enumerate(uses):
        # Every entry under genai is a GenAI use: a non-generative term would hide it from the policy.
        if classify(use["source_type"]) != "generative":
            raise SchemaError(
                f"{source}: genai[{i}].source_type: {use['source_type']} is not a generative source type; "
                f"every entry under genai is a GenAI use (use one of {', '.join(generative_terms())})"
            )
    rate = document["asset"].get("frame_rate", DEFAULT_FRAME_RATE)
    first = document["asset"].get("start_timecode")
    try:
        if first is not None:
            timecode_seconds(first, rate)
        elif "frame_rate" in document["asset"]:
            timecode_seconds("00:00:00:00", rate)  # an unsupported rate is named even without a time range
    except ValueError as exc:
        field = "start_timecode" if first is not None else "frame_rate"
        raise SchemaError(f"{source}: asset.{field}: {exc}") from None
    for i, use in enumerate(uses):
        span = use.get("time_range")
        if not span:
            continue
        try:
            start, end = timecode_seconds(span["start"], rate, first), timecode_seconds(span["end"], rate, first)
        except ValueError as exc:
            raise SchemaError(f"{source}: genai[{i}].time_range: {exc}") from None
        if end < start:
            raise SchemaError(f"{source}: genai[{i}].time_range: end {span['end']} is before start {span['start']}")
    checked: dict[str, Any] = document
    return checked


def load(path: Path) -> Disclosure:
    """Read, validate and parse a disclosure file (YAML or JSON)."""
    return Disclosure.parse(check(read_document(path), str(path)))


def load_for(path: Path, asset: Path, title: str | None) -> Disclosure:
    """A disclosure for one asset of a batch: asset.title (or `title`) templated from the asset's file name."""
    return Disclosure.parse(check(templated(read_document(path), asset, str(path), title), str(path)))
