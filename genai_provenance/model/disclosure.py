"""The typed disclosure: what a signer declares about an asset and each GenAI use, parsed once.

`Disclosure.parse` takes a document that has already passed the disclosure schema (see
credentials/disclosure.py and credentials/manifest_store.py); the raw document is kept beside it
because it is written out verbatim (the manifest assertion, JSON reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genai_provenance.model.vocabulary import IntendedUse


@dataclass(frozen=True)
class ToolInfo:
    name: str
    version: str | None = None
    vendor: str | None = None

    @property
    def label(self) -> str:
        """Name and version, as reports show the tool."""
        return f"{self.name} {self.version}".strip() if self.version else self.name


@dataclass(frozen=True)
class TimeRange:
    start: str
    end: str


@dataclass(frozen=True)
class DeclaredInput:
    kind: str
    ref: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class DataHandling:
    """What the signer declared about the tool's handling of its inputs (None: not declared)."""

    trains_on_inputs: bool | None = None
    retains_inputs: bool | None = None
    enterprise_environment: bool | None = None

    def declared(self) -> dict[str, bool]:
        """The declared answers only, by their disclosure key."""
        values = {
            "trains_on_inputs": self.trains_on_inputs,
            "retains_inputs": self.retains_inputs,
            "enterprise_environment": self.enterprise_environment,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class DeclaredUse:
    """One entry under `genai`: a GenAI use, with the clearances it cites."""

    index: int  # position in the disclosure's genai list
    tool: ToolInfo
    action: str
    source_type: str
    category: str
    model: str | None = None
    description: str | None = None
    time_range: TimeRange | None = None
    inputs: tuple[DeclaredInput, ...] = ()
    data_handling: DataHandling | None = None
    approvals: tuple[str, ...] = ()
    consents: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssetDeclaration:
    title: str
    production: str
    asset_id: str
    intended_use: IntendedUse
    frame_rate: float | None = None
    start_timecode: str | None = None  # the time code of the first frame (programmes: 01:00:00:00)
    non_fiction: bool = False
    description: str | None = None


@dataclass(frozen=True)
class Disclosure:
    asset: AssetDeclaration
    source_type: str | None = None
    uses: tuple[DeclaredUse, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # as signed

    @classmethod
    def parse(cls, document: dict[str, Any]) -> Disclosure:
        """A disclosure from a document that passed the disclosure schema."""
        asset = document["asset"]
        rate = asset.get("frame_rate")
        return cls(
            asset=AssetDeclaration(
                title=asset["title"],
                production=asset["production"],
                asset_id=asset["asset_id"],
                intended_use=IntendedUse(asset["intended_use"]),
                frame_rate=float(rate) if rate is not None else None,
                start_timecode=asset.get("start_timecode"),
                non_fiction=asset.get("non_fiction") is True,
                description=asset.get("description"),
            ),
            source_type=document.get("source_type"),
            uses=tuple(_use(i, u) for i, u in enumerate(document.get("genai") or [])),
            raw=document,
        )


def _use(index: int, use: dict[str, Any]) -> DeclaredUse:
    tool, span, handling = use["tool"], use.get("time_range"), use.get("data_handling")
    return DeclaredUse(
        index=index,
        tool=ToolInfo(tool["name"], tool.get("version"), tool.get("vendor")),
        action=use["action"],
        source_type=use["source_type"],
        category=use["category"],
        model=use.get("model"),
        description=use.get("description"),
        time_range=TimeRange(span["start"], span["end"]) if span else None,
        inputs=tuple(DeclaredInput(i["kind"], i.get("ref"), i.get("description")) for i in use.get("inputs") or []),
        data_handling=DataHandling(**handling) if handling is not None else None,
        approvals=tuple(use.get("approvals") or []),
        consents=tuple(use.get("consents") or []),
    )
