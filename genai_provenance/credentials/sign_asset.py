"""The signing flow: disclosure -> manifest -> c2pa Builder -> staged file -> read back -> rename."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import c2pa

from genai_provenance.clearances.ledger import Ledger, records_to_embed
from genai_provenance.credentials.disclosure import load as load_disclosure
from genai_provenance.credentials.formats import embeddable_format
from genai_provenance.credentials.genai_scan import BROKEN_HISTORY_LABEL, CLEARANCES_LABEL
from genai_provenance.credentials.identity import SigningIdentity
from genai_provenance.credentials.manifest_definition import PARENT_ID, build_definition, component_id
from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.credentials.thumbnails import make_thumbnail
from genai_provenance.errors import BrokenHistoryError, InputError, SigningError
from genai_provenance.files import open_regular, os_problem, require_regular, staged_path
from genai_provenance.model.provenance import INVALID, NO_CREDENTIALS, TRUSTED, UNREADABLE, AssetReport

THUMBNAIL_ID = "thumbnail.jpg"


@dataclass
class SignRequest:
    input: Path
    output: Path
    disclosure: Path
    identity: SigningIdentity  # PEM files (signing.Identity) or a key in a PKCS#11 token
    trust: TrustSettings
    parent: Path | None = None
    ingredients: list[Path] = field(default_factory=list)
    force: bool = False
    ledger: Ledger | None = None  # referenced approvals and consents found here are embedded
    record_broken_history: bool = False  # sign over tampered/unreadable ingredients, saying so in the manifest


@dataclass(frozen=True)
class BrokenStage:
    """A parent or ingredient whose credentials (or whose own history) are tampered or unreadable."""

    path: Path
    relationship: str  # parentOf | componentOf
    status: str
    problems: tuple[str, ...]


@dataclass
class SignResult:
    output: Path
    report: AssetReport
    parent: Path | None
    parent_was_input: bool
    thumbnail: bool
    warnings: list[str] = field(default_factory=list)
    embedded_clearances: list[str] = field(default_factory=list)
    broken_history: list[BrokenStage] = field(default_factory=list)


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_paths(req: SignRequest) -> None:
    for path, what in [(req.input, "input"), (req.disclosure, "disclosure")] + [
        (p, "ingredient") for p in ([req.parent] if req.parent else []) + req.ingredients
    ]:
        if not path.exists():
            raise InputError(f"{path}: {what} file not found")
        require_regular(path, what)  # a FIFO or device would hang the read
    if _same_file(req.input, req.output):
        raise InputError(f"{req.output}: output path is the input; choose another output (inputs are never modified)")
    if req.output.is_dir():
        raise InputError(f"{req.output}: is a folder, expected a file path")
    if req.output.exists() and not req.force:
        raise InputError(f"{req.output}: already exists (use --force to replace it)")
    in_fmt, out_fmt = embeddable_format(req.input, check_content=True), embeddable_format(req.output)
    if in_fmt.mime != out_fmt.mime:
        raise InputError(f"{req.output}: output extension must match the input format ({in_fmt.mime})")


def _input_credentials(path: Path, context: c2pa.Context) -> AssetReport | None:
    """The input's own credentials as read now, or None when it has none."""
    report = verify_file(path, context)
    if report.status == UNREADABLE and report.error and not report.failures[0].code.startswith("manifest."):
        raise InputError(f"{path}: cannot read media ({report.error})")
    return None if report.status == NO_CREDENTIALS else report


def _broken(path: Path, relationship: str, report: AssetReport) -> BrokenStage | None:
    problems = list(report.history_problems)
    if report.status in (INVALID, UNREADABLE):
        codes = ", ".join(dict.fromkeys(f.code for f in report.failures)) or report.status
        problems.insert(0, f"{report.status} ({codes})")
    return BrokenStage(path, relationship, report.status, tuple(problems)) if problems else None


def _history_check(
    req: SignRequest, parent: Path | None, parent_report: AssetReport | None, context: c2pa.Context
) -> list[BrokenStage]:
    """Refuse to carry tampered or unreadable credentials forward unless asked to record them."""
    stages: list[tuple[Path, str, AssetReport]] = []
    if parent is not None:
        stages.append((parent, "parentOf", parent_report or verify_file(parent, context)))
    stages += [(path, "componentOf", verify_file(path, context)) for path in req.ingredients]
    for path, _, report in stages:
        if report.status == UNREADABLE and report.failures and not report.failures[0].code.startswith("manifest."):
            raise InputError(f"{path}: cannot be used as an ingredient ({report.error or report.status})")
    broken = [b for path, rel, report in stages if (b := _broken(path, rel, report))]
    if broken and not req.record_broken_history:
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


def _add_ingredient(builder: c2pa.Builder, path: Path, relationship: str, label: str) -> None:
    fmt = embeddable_format(path, check_content=True)
    try:
        with open_regular(path, relationship) as stream:
            builder.add_ingredient({"title": path.name, "relationship": relationship, "label": label}, fmt.mime, stream)
    except c2pa.C2paError as exc:
        raise InputError(f"{path}: cannot be used as an ingredient ({_clean(exc)})") from None


def _clean(exc: Exception) -> str:
    return " ".join(str(exc).split()) or exc.__class__.__name__


def sign_asset(req: SignRequest) -> SignResult:
    """Sign `req.input` into `req.output`; the output appears whole and verified, or not at all."""
    _check_paths(req)
    disclosure = load_disclosure(req.disclosure)
    fmt = embeddable_format(req.output)
    context = req.trust.context()
    parent, parent_was_input = req.parent, False
    own = _input_credentials(req.input, context)
    if own is not None and parent is not None and not _same_file(parent, req.input):
        raise InputError(
            f"{req.input}: already carries Content Credentials, its own history, which --parent {parent} would "
            f"drop; sign it without --parent to keep that history, and add {parent.name} with --ingredient"
        )
    if own is not None:
        parent, parent_was_input = req.input, True  # keep the input's own history
    broken = _history_check(req, parent, own, context)
    thumb = make_thumbnail(req.input, fmt)
    try:
        definition = build_definition(
            disclosure,
            title=req.output.name,
            has_parent=parent is not None,
            components=len(req.ingredients),
            thumbnail=THUMBNAIL_ID if thumb else None,
        )
    except InputError as exc:
        raise InputError(f"{req.disclosure}: {exc}") from None  # name the file the problem is in
    records, warnings = records_to_embed(disclosure.raw, req.ledger)
    if records:
        definition["assertions"].append({"label": CLEARANCES_LABEL, "data": {"records": records}, "created": True})
    if broken:
        stages = [
            {"title": b.path.name, "relationship": b.relationship, "status": b.status, "problems": list(b.problems)}
            for b in broken
        ]
        definition["assertions"].append({"label": BROKEN_HISTORY_LABEL, "data": {"stages": stages}, "created": True})
    try:
        builder = c2pa.Builder(definition, context=context)
    except c2pa.C2paError as exc:
        raise SigningError(f"{req.disclosure}: manifest refused by the C2PA library ({_clean(exc)})") from None
    with builder:
        if thumb:
            builder.add_resource(THUMBNAIL_ID, io.BytesIO(thumb))
        if parent is not None:
            _add_ingredient(builder, parent, "parentOf", PARENT_ID)
        for i, path in enumerate(req.ingredients):
            _add_ingredient(builder, path, "componentOf", component_id(i))
        with staged_path(req.output) as tmp:
            try:
                with open_regular(req.input) as src, open(tmp, "w+b") as dst, req.identity.signing() as signer:
                    builder.sign(signer, fmt.mime, src, dst)
            except c2pa.C2paError as exc:
                tsa = req.identity.tsa_url
                if tsa and tsa in str(exc):
                    raise SigningError(
                        f"{req.input}: time-stamp authority {tsa} could not be reached; nothing was written"
                    ) from None
                raise SigningError(f"{req.input}: signing failed ({_clean(exc)})") from None
            except OSError as exc:  # a full disk, a read-only folder: name the output, not a traceback
                raise InputError(f"{req.output}: cannot write ({os_problem(exc)}); nothing was written") from None
            report = verify_file(tmp, context, display=str(req.output), mime=fmt.mime)
            if report.status in (INVALID, UNREADABLE, NO_CREDENTIALS) and not _only_history(report, broken):
                why = report.error or "; ".join(f.code for f in report.failures) or report.status
                raise SigningError(f"{req.output}: written file did not verify ({why}); nothing was written")
            declared = next(
                (d["disclosure"] for d in report.disclosures if d["manifest"] == report.active_manifest), None
            )
            if declared != disclosure.raw:
                raise SigningError(
                    f"{req.output}: disclosure read back differs from the one declared; nothing was written"
                )
    if report.status != TRUSTED:
        warnings.append("the signing certificate is not among the trust anchors: verify will report valid-untrusted")
    if thumb is None and fmt.kind != "audio":
        warnings.append("no thumbnail embedded (ffmpeg is needed for video thumbnails)")
    embedded = [e["record"]["id"] for e in records]
    if broken:
        warnings.append(
            "signed over a broken history (recorded in the manifest): check and package will block this asset"
        )
    return SignResult(req.output, report, parent, parent_was_input, thumb is not None, warnings, embedded, broken)


def _only_history(report: AssetReport, broken: list[BrokenStage]) -> bool:
    """The written file fails only through the broken ingredients the signer chose to record."""
    if not broken or report.status != INVALID:
        return False
    return all(f.where != "active manifest" for f in report.failures)
