"""What `verify` and `check` found for a set of paths, with the exit code each result means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genai_provenance.gate.check import AssetVerdict
    from genai_provenance.gate.discovery import Discovery
    from genai_provenance.model.provenance import CheckedAsset
    from genai_provenance.policy.rules import Policy

PASSED, FAILED = 0, 1  # exit codes: 2 (usage or input error) is raised as an error, never a result


@dataclass(frozen=True)
class VerifyResult:
    assets: list[CheckedAsset]
    discovery: Discovery | None = None
    anchors_configured: bool = True  # False: no trust anchors, so no signer can be trusted

    @property
    def exit_code(self) -> int:
        """0 only when every asset is trusted and intact, history included."""
        return PASSED if all(a.passed for a in self.assets) else FAILED


@dataclass(frozen=True)
class CheckResult:
    verdicts: list[AssetVerdict]
    policy: Policy
    discovery: Discovery | None = None

    @property
    def exit_code(self) -> int:
        """1 when the policy blocks any asset."""
        return FAILED if any(v.blocked for v in self.verdicts) else PASSED
