"""IPTC / C2PA digital source types: normalise what real files write, and classify GenAI."""

from __future__ import annotations

from functools import cache
from typing import Literal

from genai_provenance.schemas import vocabulary

IPTC_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
C2PA_BASE = "http://c2pa.org/digitalsourcetype/"
_MISSPELLINGS = {"compositedWithTrainedAlgorithmicMedia": "compositeWithTrainedAlgorithmicMedia"}

GenAIClass = Literal["generative", "maybe", "none", "unknown"]


def to_uri(term: str) -> str:
    """The URI our manifests write for a term."""
    return (C2PA_BASE if term == "trainedAlgorithmicData" else IPTC_BASE) + term


def normalise(value: str | None) -> str | None:
    """Reduce any spelling of a source type (http/https, IPTC/C2PA, bare term) to its term."""
    if not value or not isinstance(value, str):
        return None
    term = value.strip().rstrip("/").rsplit("/", 1)[-1]
    return _MISSPELLINGS.get(term, term)


@cache
def _classes() -> dict[str, GenAIClass]:
    out: dict[str, GenAIClass] = {}
    for klass, names in vocabulary()["source_type"]["x-genai"].items():
        for name in names:
            out[name] = klass
    return out


def classify(value: str | None) -> GenAIClass:
    """generative, maybe (may contain GenAI), none, or unknown (unrecognised term)."""
    term = normalise(value)
    if term is None:
        return "unknown"
    return _classes().get(term, "unknown")


def describe(value: str | None) -> str:
    term = normalise(value)
    return str(vocabulary()["source_type"]["x-terms"].get(term or "", term or "unspecified"))


def generative_terms() -> list[str]:
    """The IPTC terms a declared GenAI use may carry (the C2PA data term is for data, not media)."""
    return [t for t in vocabulary()["source_type"]["enum"] if _classes().get(t) == "generative"]
