"""Signer pinning: the identities allowed to sign a production's deliverables (like cosign's
--certificate-identity). A list comes from the policy's `signers:` section or a `--signers` file.

An entry names a subject (common name and organisation) or a SHA-256 certificate fingerprint,
optionally for one production. Once a list is configured, an asset's signer must match an entry
that applies to the asset's production; a fingerprint entry needs the signer's certificate, which
is read whenever a list has one (signer_checks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_provenance.documents import read_document
from genai_provenance.model.provenance import SignerInfo
from genai_provenance.schemas import validate


@dataclass(frozen=True)
class SignerPin:
    common_name: str | None = None
    organisation: str | None = None
    sha256: str | None = None  # lower-case hex, no colons
    production: str | None = None

    def applies_to(self, production: str | None) -> bool:
        return self.production is None or self.production == production

    def matches(self, signer: SignerInfo) -> bool:
        if self.sha256 is not None:
            return signer.fingerprint is not None and signer.fingerprint == self.sha256
        return signer.common_name == self.common_name and signer.organisation == self.organisation


def pins_from(entries: Iterable[dict[str, Any]]) -> tuple[SignerPin, ...]:
    """Typed pins from schema-valid entries (policy `signers:` or a --signers file)."""
    pins = []
    for entry in entries:
        fp = entry.get("sha256")
        pins.append(
            SignerPin(
                entry.get("common_name"),
                entry.get("organisation"),
                fp.replace(":", "").lower() if fp else None,
                entry.get("production"),
            )
        )
    return tuple(pins)


def load_signers(path: Path) -> tuple[SignerPin, ...]:
    """A --signers file: a YAML or JSON list of entries, validated field by field."""
    document = read_document(path)
    validate("policy#/$defs/signers", document, str(path))
    return pins_from(document)


def listed(pins: tuple[SignerPin, ...] | None, signer: SignerInfo | None, production: str | None) -> bool | None:
    """True/False when a list is configured (no signer is never listed); None when there is no list."""
    if not pins:
        return None
    if signer is None:
        return False
    return any(p.applies_to(production) and p.matches(signer) for p in pins)


def needs_fingerprints(pins: tuple[SignerPin, ...] | None) -> bool:
    return any(p.sha256 for p in pins or ())
