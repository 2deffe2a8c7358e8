"""What signing carries forward: the input's own credentials, a sidecar already beside it, and the
parents and ingredients whose credentials are tampered or unreadable (refused, or recorded on request)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import c2pa

from genai_provenance.credentials.formats import MediaFormat
from genai_provenance.credentials.read import verify_file
from genai_provenance.errors import BrokenHistoryError, InputError
from genai_provenance.files import read_regular
from genai_provenance.gate.discovery import SIDECAR_SUFFIX
from genai_provenance.model.provenance import INVALID, NO_CREDENTIALS, UNREADABLE, AssetReport


@dataclass(frozen=True)
class BrokenStage:
    """A parent or ingredient whose credentials (or whose own history) are tampered or unreadable."""

    path: Path
    relationship: str  # parentOf | componentOf
    status: str
    problems: tuple[str, ...]


def input_credentials(path: Path, context: c2pa.Context, sidecar: bool, fmt: MediaFormat | None) -> AssetReport | None:
    """The input's own (embedded) credentials as read now, or None when it has none.

    A sidecar beside the input is checked apart (refuse_replacing_sidecar_history).
    """
    if sidecar and (fmt is None or not fmt.readable):
        return None
    report = verify_file(path, context, embedded_only=sidecar)
    if report.status == UNREADABLE and report.error and not report.failures[0].code.startswith("manifest."):
        raise InputError(f"{path}: cannot read media ({report.error})")
    return None if report.status == NO_CREDENTIALS else report


def refuse_replacing_sidecar_history(
    asset: Path, output: Path, context: c2pa.Context, *, record: bool
) -> list[BrokenStage]:
    """A sidecar that already holds credentials for the input is never replaced, even with --force: the new
    manifest would not carry its history (its GenAI uses, its clearances), and the gate would see only the new
    declaration. One that is broken is refused as a broken history is, or recorded as one when asked
    (`record`: --force --record-broken-history)."""
    broken: list[BrokenStage] = []
    candidates = (asset.with_name(asset.name + SIDECAR_SUFFIX), output)
    for sidecar in dict.fromkeys(p for p in candidates if os.path.lexists(p)):
        data = read_regular(sidecar, "existing sidecar")  # unreadable, a FIFO, a dangling link: refused, not skipped
        report = verify_file(asset, context, manifest_data=data)
        if report.status == NO_CREDENTIALS:
            continue
        if report.status in (INVALID, UNREADABLE):
            codes = ", ".join(dict.fromkeys(f.code for f in report.failures)) or report.status
            if record:
                broken.append(BrokenStage(sidecar, "parentOf", report.status, (f"{report.status} ({codes})",)))
                continue
            raise BrokenHistoryError(
                f"{sidecar}: holds credentials for {asset.name} that are {report.status} ({codes}); replacing it "
                "would launder a broken history; nothing was written (re-export from an intact source, or pass "
                "--force --record-broken-history to replace it and record that: the gate will block the result)"
            )
        raise InputError(
            f"{sidecar}: already holds Content Credentials for {asset.name}; re-signing would drop that history "
            "(its GenAI uses and clearances), which is refused even with --force; nothing was written"
        )
    return broken


def _broken(path: Path, relationship: str, report: AssetReport) -> BrokenStage | None:
    problems = list(report.history_problems)
    if report.status in (INVALID, UNREADABLE):
        codes = ", ".join(dict.fromkeys(f.code for f in report.failures)) or report.status
        problems.insert(0, f"{report.status} ({codes})")
    return BrokenStage(path, relationship, report.status, tuple(problems)) if problems else None


def history_check(
    parent: Path | None,
    parent_report: AssetReport | None,
    ingredients: Sequence[Path],
    context: c2pa.Context,
    *,
    record: bool,
) -> list[BrokenStage]:
    """Refuse to carry tampered or unreadable credentials forward unless asked to record them (`record`)."""
    stages: list[tuple[Path, str, AssetReport]] = []
    if parent is not None:
        stages.append((parent, "parentOf", parent_report or verify_file(parent, context)))
    stages += [(path, "componentOf", verify_file(path, context)) for path in ingredients]
    for path, _, report in stages:
        if report.status == UNREADABLE and report.failures and not report.failures[0].code.startswith("manifest."):
            raise InputError(f"{path}: cannot be used as an ingredient ({report.error or report.status})")
    broken = [b for path, rel, report in stages if (b := _broken(path, rel, report))]
    if broken and not record:
        first = broken[0]
        what = (
            "the input's own credentials" if parent_report is not None and first.path == parent else first.relationship
        )
        raise BrokenHistoryError(
            f"{first.path}: {what} are {first.problems[0]}; signing over a broken history is refused and nothing "
            "was written (re-export from an intact source, or pass --record-broken-history to sign anyway and "
            "record it in the manifest: the gate will block the result)"
        )
    return broken


def only_history(report: AssetReport, broken: list[BrokenStage]) -> bool:
    """The written file fails only through the broken ingredients the signer chose to record."""
    if not broken or report.status != INVALID:
        return False
    return all(f.where != "active manifest" for f in report.failures)
