"""The signing flow: disclosure -> manifest -> c2pa Builder -> staged file -> read back -> rename."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import c2pa

from genai_provenance.disclosure import load as load_disclosure
from genai_provenance.errors import InputError, SigningError
from genai_provenance.files import open_regular, os_problem, require_regular, staged_path
from genai_provenance.formats import embeddable_format
from genai_provenance.genai_scan import CLEARANCES_LABEL
from genai_provenance.ledger import Ledger, records_to_embed
from genai_provenance.manifest import PARENT_ID, build_definition, component_id
from genai_provenance.provenance import INVALID, NO_CREDENTIALS, TRUSTED, UNREADABLE, AssetReport
from genai_provenance.signing import SigningIdentity
from genai_provenance.thumbnails import make_thumbnail
from genai_provenance.verify import TrustSettings, verify_file

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


@dataclass
class SignResult:
    output: Path
    report: AssetReport
    parent: Path | None
    parent_was_input: bool
    thumbnail: bool
    warnings: list[str] = field(default_factory=list)
    embedded_clearances: list[str] = field(default_factory=list)


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


def _has_credentials(path: Path, context: c2pa.Context) -> bool:
    report = verify_file(path, context)
    if report.status == UNREADABLE and report.error:
        raise InputError(f"{path}: cannot read media ({report.error})")
    return report.status != NO_CREDENTIALS


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
    if parent is None and _has_credentials(req.input, context):
        parent, parent_was_input = req.input, True  # keep the input's own history
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
    records, warnings = records_to_embed(disclosure, req.ledger)
    if records:
        definition["assertions"].append({"label": CLEARANCES_LABEL, "data": {"records": records}, "created": True})
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
            if report.status in (INVALID, UNREADABLE, NO_CREDENTIALS):
                why = report.error or "; ".join(f.code for f in report.failures) or report.status
                raise SigningError(f"{req.output}: written file did not verify ({why}); nothing was written")
            declared = next(
                (d["disclosure"] for d in report.disclosures if d["manifest"] == report.active_manifest), None
            )
            if declared != disclosure:
                raise SigningError(
                    f"{req.output}: disclosure read back differs from the one declared; nothing was written"
                )
    if report.status != TRUSTED:
        warnings.append("the signing certificate is not among the trust anchors: verify will report valid-untrusted")
    if thumb is None and fmt.kind != "audio":
        warnings.append("no thumbnail embedded (ffmpeg is needed for video thumbnails)")
    embedded = [e["record"]["id"] for e in records]
    return SignResult(req.output, report, parent, parent_was_input, thumb is not None, warnings, embedded)
