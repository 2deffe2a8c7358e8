"""The signing flow: disclosure -> manifest -> c2pa Builder -> staged file -> read back -> rename.

Embedded: the signed copy goes to `output`. Sidecar (formats c2pa cannot embed into, any unknown
format, or on request): the input is left as it is and the manifest store goes to `output`, which
must end in `.c2pa`; by default `<input>.c2pa` beside the input, where verify, check and package look.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa

from genai_provenance.clearances.ledger import Ledger, records_to_embed
from genai_provenance.credentials.digest import hash_file
from genai_provenance.credentials.disclosure import load as load_disclosure
from genai_provenance.credentials.disclosure import load_for
from genai_provenance.credentials.duration import check_time_ranges
from genai_provenance.credentials.formats import (
    SIDECAR_ANY_MIME,
    MediaFormat,
    content_problem,
    embeddable_format,
    media_format,
)
from genai_provenance.credentials.genai_scan import BROKEN_HISTORY_LABEL, CLEARANCES_LABEL
from genai_provenance.credentials.identity import SigningIdentity
from genai_provenance.credentials.manifest_definition import PARENT_ID, build_definition, component_id
from genai_provenance.credentials.native import DataHash, sign_data_hashed
from genai_provenance.credentials.native_progress import (
    SignStage,
    Tracker,
    builder_context,
    interrupt_after_c2pa,
    sign_tracked,
)
from genai_provenance.credentials.ocsp import OcspAnswer, require_good
from genai_provenance.credentials.read import TrustSettings, verify_file
from genai_provenance.credentials.readback import verify_store
from genai_provenance.credentials.sign_history import (
    BrokenStage,
    history_check,
    input_credentials,
    only_history,
    refuse_replacing_sidecar_history,
)
from genai_provenance.credentials.staple import StapleError, staple_ocsp
from genai_provenance.credentials.thumbnails import make_thumbnail
from genai_provenance.errors import InputError, SigningError
from genai_provenance.files import open_regular, os_problem, require_regular, staged_path
from genai_provenance.gate.discovery import SIDECAR_SUFFIX
from genai_provenance.model.provenance import INVALID, NO_CREDENTIALS, TRUSTED, UNREADABLE, AssetReport
from genai_provenance.profile import OcspMode, OcspProfile

THUMBNAIL_ID = "thumbnail.jpg"
SNIFF = 64


@dataclass
class SignRequest:
    input: Path
    output: Path | None  # None: `<input>.c2pa` when signing a sidecar (required when embedding)
    disclosure: Path
    identity: SigningIdentity  # PEM files (signing.Identity) or a key in a PKCS#11 token
    trust: TrustSettings
    parent: Path | None = None
    ingredients: list[Path] = field(default_factory=list)
    force: bool = False
    ledger: Ledger | None = None  # referenced approvals and consents found here are embedded
    record_broken_history: bool = False  # sign over tampered/unreadable ingredients, saying so in the manifest
    sidecar: bool = False  # write `<input>.c2pa` even when the format could embed (a huge master stays untouched)
    extra_assertions: list[dict[str, Any]] = field(default_factory=list)  # created assertions (a sequence record)
    thumbnail: bool = True  # embed a thumbnail (a sequence embeds one in its first frame only)
    ocsp: OcspProfile | None = None  # `require`: the signer's OCSP responder must answer `good` before signing
    templated: bool = False  # fill {stem}, {name}, {parent} in the disclosure's asset.title (batch signing)
    title: str | None = None  # a template replacing the disclosure's asset.title (implies templated)
    progress: Callable[[int], None] | None = None  # bytes of the input read since the last call (hashed, or c2pa's)
    on_stage: Callable[[SignStage], None] | None = None  # what c2pa is doing (its own signing route)
    known_sha256: str | None = None  # the input's whole-file SHA-256 (hex) the caller already read (a sequence's
    # record); the caller checks that the input did not change after (sign_sequence.sign_frame)


@dataclass(frozen=True)
class SignPlan:
    """Where the manifest goes and how: embedded in a copy, or a sidecar beside the untouched input."""

    output: Path
    mime: str
    fmt: MediaFormat | None  # None: a format we do not know (a sidecar still works)
    sidecar: bool


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
    sidecar: bool = False  # `output` is a sidecar manifest store for the untouched input
    signer_status: OcspAnswer | None = None  # the signing certificate's OCSP answer, when the profile asks


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def plan_output(input_path: Path, output: Path | None, sidecar: bool) -> SignPlan:
    """Embedded or sidecar, and where to (see the module docstring); refuses an output that breaks the rule."""
    fmt = media_format(input_path)
    if not sidecar and fmt is not None and fmt.embeddable:
        if output is None:
            raise InputError(
                f"{input_path}: -o/--output is required (or pass --sidecar to write {input_path.name}.c2pa)"
            )
        return SignPlan(output, fmt.mime, fmt, sidecar=False)
    out = output or input_path.with_name(input_path.name + SIDECAR_SUFFIX)
    if not out.name.endswith(SIDECAR_SUFFIX) or out.name == SIDECAR_SUFFIX:
        if sidecar:
            why = "--sidecar was given"
        elif fmt is None:
            why = f"{input_path.name}: unsupported format {input_path.suffix or '(no extension)'} for embedding"
        else:
            why = (
                f"{input_path.name}: {input_path.suffix.lstrip('.').upper()} cannot carry embedded Content Credentials"
            )
        raise InputError(
            f"{out}: {why}; the output is a sidecar and must end in {SIDECAR_SUFFIX} "
            f"(default: {input_path.name}{SIDECAR_SUFFIX} beside the input)"
        )
    return SignPlan(out, fmt.mime if fmt else SIDECAR_ANY_MIME, fmt, sidecar=True)


def _check_paths(req: SignRequest, plan: SignPlan) -> None:
    for path, what in [(req.input, "input"), (req.disclosure, "disclosure")] + [
        (p, "ingredient") for p in ([req.parent] if req.parent else []) + req.ingredients
    ]:
        if not path.exists():
            raise InputError(f"{path}: {what} file not found")
        require_regular(path, what)  # a FIFO or device would hang the read
    out = plan.output
    if _same_file(req.input, out):
        raise InputError(f"{out}: output path is the input; choose another output (inputs are never modified)")
    if out.is_dir():
        raise InputError(f"{out}: is a folder, expected a file path")
    if (out.exists() or out.is_symlink()) and not req.force:
        raise InputError(f"{out}: already exists (use --force to replace it)")
    if plan.sidecar:
        if plan.fmt is not None:
            with open_regular(req.input) as fh:
                problem = content_problem(req.input, plan.fmt, fh.read(SNIFF))
            if problem:
                raise InputError(f"{req.input}: {problem}")
        return
    in_fmt, out_fmt = embeddable_format(req.input, check_content=True), embeddable_format(out)
    if in_fmt.mime != out_fmt.mime:
        raise InputError(f"{out}: output extension must match the input format ({in_fmt.mime})")


def _add_ingredient(builder: c2pa.Builder, path: Path, relationship: str, label: str) -> None:
    fmt = embeddable_format(path, check_content=True)
    try:
        with open_regular(path, relationship) as stream, interrupt_after_c2pa():
            builder.add_ingredient({"title": path.name, "relationship": relationship, "label": label}, fmt.mime, stream)
    except c2pa.C2paError as exc:
        raise InputError(f"{path}: cannot be used as an ingredient ({_clean(exc)})") from None


def _clean(exc: Exception) -> str:
    return " ".join(str(exc).split()) or exc.__class__.__name__


def sign_asset(req: SignRequest) -> SignResult:
    """Sign `req.input` into its output (a copy or a sidecar); the output appears whole and verified, or not at all."""
    plan = plan_output(req.input, req.output, req.sidecar)
    _check_paths(req, plan)
    templated = req.templated or req.title is not None
    disclosure = load_for(req.disclosure, req.input, req.title) if templated else load_disclosure(req.disclosure)
    signer_status = None
    if req.ocsp is not None and req.ocsp.mode == OcspMode.REQUIRE:  # asked for in the config file: network at sign
        signer_status = require_good(req.identity.chain_pem, req.ocsp.responder_url, req.ocsp.timeout)
    timing = check_time_ranges(disclosure, req.input, req.disclosure) if _timed(plan) else None
    context = req.trust.context()
    parent, parent_was_input = req.parent, False
    with interrupt_after_c2pa():  # c2pa's readers swallow a Ctrl-C: raise it once they have returned
        own = input_credentials(req.input, context, plan.sidecar, plan.fmt)
        replaced = (
            refuse_replacing_sidecar_history(
                req.input, plan.output, context, record=req.record_broken_history and req.force
            )
            if plan.sidecar
            else []
        )
    if own is not None and parent is not None and not _same_file(parent, req.input):
        raise InputError(
            f"{req.input}: already carries Content Credentials, its own history, which --parent {parent} would "
            f"drop; sign it without --parent to keep that history, and add {parent.name} with --ingredient"
        )
    if own is not None:
        parent, parent_was_input = req.input, True  # keep the input's own history
    with interrupt_after_c2pa():
        broken = replaced + history_check(parent, own, req.ingredients, context, record=req.record_broken_history)
    thumb = make_thumbnail(req.input, plan.fmt) if plan.fmt and req.thumbnail else None
    try:
        definition = build_definition(
            disclosure,
            title=req.input.name if plan.sidecar else plan.output.name,
            has_parent=parent is not None,
            components=len(req.ingredients),
            thumbnail=THUMBNAIL_ID if thumb else None,
        )
    except InputError as exc:
        raise InputError(f"{req.disclosure}: {exc}") from None  # name the file the problem is in
    records, warnings = records_to_embed(disclosure.raw, req.ledger)
    if records:
        definition["assertions"].append({"label": CLEARANCES_LABEL, "data": {"records": records}, "created": True})
    definition["assertions"].extend(req.extra_assertions)
    if broken:
        stages = [
            {"title": b.path.name, "relationship": b.relationship, "status": b.status, "problems": list(b.problems)}
            for b in broken
        ]
        definition["assertions"].append({"label": BROKEN_HISTORY_LABEL, "data": {"stages": stages}, "created": True})
    tracker = None if data_hashed(plan) else Tracker(req.input.stat().st_size, req.progress, req.on_stage)
    with builder_context(req.trust.settings(), tracker, context) as provider:
        try:
            builder = c2pa.Builder(definition, context=provider)
        except c2pa.C2paError as exc:
            raise SigningError(f"{req.disclosure}: manifest refused by the C2PA library ({_clean(exc)})") from None
        with builder:
            if thumb:
                builder.add_resource(THUMBNAIL_ID, io.BytesIO(thumb))
            if parent is not None:
                _add_ingredient(builder, parent, "parentOf", PARENT_ID)
            for i, path in enumerate(req.ingredients):
                _add_ingredient(builder, path, "componentOf", component_id(i))
            if plan.sidecar:
                builder.set_no_embed()
            staple = signer_status.response_der if signer_status is not None else b""
            report = _sign_and_check(req, plan, builder, context, broken, disclosure.raw, tracker, staple)
    if report.status != TRUSTED:
        warnings.append("the signing certificate is not among the trust anchors: verify will report valid-untrusted")
    if thumb is None and req.thumbnail and (plan.fmt is None or plan.fmt.kind != "audio"):
        warnings.append("no thumbnail embedded (ffmpeg is needed for video thumbnails)")
    if timing is not None and timing.warning:
        warnings.append(timing.warning)
    embedded = [e["record"]["id"] for e in records]
    if broken:
        warnings.append(
            "signed over a broken history (recorded in the manifest): check and package will block this asset"
        )
    if plan.sidecar and plan.output != req.input.with_name(req.input.name + SIDECAR_SUFFIX):
        warnings.append(
            f"verify, check and package look for {req.input.name}{SIDECAR_SUFFIX} beside the asset: "
            f"keep {plan.output.name} under that name next to {req.input.name}"
        )
    return SignResult(
        plan.output,
        report,
        parent,
        parent_was_input,
        thumb is not None,
        warnings,
        embedded,
        broken,
        plan.sidecar,
        signer_status,
    )


def _timed(plan: SignPlan) -> bool:
    """Media with a running time (video, audio, and formats we do not know, which ffprobe may)."""
    return plan.fmt is None or plan.fmt.kind in ("video", "audio")


def _sign_and_check(
    req: SignRequest,
    plan: SignPlan,
    builder: c2pa.Builder,
    context: c2pa.Context,
    broken: list[BrokenStage],
    declared_raw: object,
    tracker: Tracker | None,
    staple: bytes = b"",
) -> AssetReport:
    """Sign into a staged file beside the output, read it back, and rename it into place only if it verifies.

    `staple`: the signer's verified OCSP answer, stapled into the signature before the read-back."""
    with staged_path(plan.output) as tmp:
        try:
            data_hash = None
            if data_hashed(plan):  # one read with hashlib; c2pa signs over that hash
                data_hash = _known(req) or hash_file(req.input, req.progress)
                with req.identity.signing() as signer:
                    store = sign_data_hashed(builder, signer, data_hash)
                _write_store(tmp, store)
            else:
                assert tracker is not None  # c2pa's route always has one (sign_asset)
                _sign_with_c2pa(req, plan, builder, tmp, tracker)
            if staple:
                staple_ocsp(tmp, staple)
        except StapleError as exc:
            raise SigningError(
                f"{plan.output}: the OCSP answer could not be stapled ({exc}); nothing was written"
            ) from None
        except (c2pa.C2paError, SigningError) as exc:
            tsa = req.identity.tsa_url
            if tsa and tsa in str(exc):
                raise SigningError(
                    f"{req.input}: time-stamp authority {tsa} could not be reached; nothing was written"
                ) from None
            raise SigningError(f"{req.input}: signing failed ({_clean(exc)})") from None
        except OSError as exc:  # a full disk, a read-only folder: name the output, not a traceback
            raise InputError(f"{plan.output}: cannot write ({os_problem(exc)}); nothing was written") from None
        with interrupt_after_c2pa():  # a Ctrl-C while reading back is raised before the rename
            report = _read_back(req, plan, tmp, data_hash, context)
        if report.status in (INVALID, UNREADABLE, NO_CREDENTIALS) and not only_history(report, broken):
            why = report.error or "; ".join(f.code for f in report.failures) or report.status
            raise SigningError(f"{plan.output}: written file did not verify ({why}); nothing was written")
        declared = next((d["disclosure"] for d in report.disclosures if d["manifest"] == report.active_manifest), None)
        if declared != declared_raw:
            raise SigningError(
                f"{plan.output}: disclosure read back differs from the one declared; nothing was written"
            )
    return report


def _read_back(
    req: SignRequest, plan: SignPlan, tmp: Path, data_hash: DataHash | None, context: c2pa.Context
) -> AssetReport:
    if data_hash is not None:  # the store just written, against the hash read while signing (no second read)
        with open_regular(tmp) as fh:
            return verify_store(fh.read(), data_hash, plan.mime, context, str(req.input))
    if plan.sidecar:  # the untouched input checked against the store just written
        with open_regular(tmp) as fh:
            store = fh.read()
        return verify_file(req.input, context, display=str(req.input), mime=plan.mime, manifest_data=store)
    return verify_file(tmp, context, display=str(plan.output), mime=plan.mime)


def _known(req: SignRequest) -> DataHash | None:
    """The hash the caller read (each byte is read once), reported as progress as if read now."""
    if req.known_sha256 is None:
        return None
    if req.progress is not None:
        req.progress(req.input.stat().st_size)
    return DataHash("sha256", bytes.fromhex(req.known_sha256))


def data_hashed(plan: SignPlan) -> bool:
    """A sidecar whose hard binding is a whole-file data hash (not BMFF's box hash): we hash it ourselves."""
    return plan.sidecar and (plan.fmt is None or plan.fmt.family != "BMFF")


def _write_store(tmp: Path, store: bytes) -> None:
    with open(tmp, "wb") as dst:
        dst.write(store)
        dst.flush()
        os.fsync(dst.fileno())


def _sign_with_c2pa(req: SignRequest, plan: SignPlan, builder: c2pa.Builder, tmp: Path, tracker: Tracker) -> None:
    """c2pa reads the input itself: embedded signing, and BMFF sidecars (their box hash is c2pa's to make);
    its progress goes to the tracker, and Ctrl-C stops it."""
    with open_regular(req.input) as src, req.identity.signing() as signer:
        if plan.sidecar:  # c2pa copies the asset to `dest` even when not embedding: throw that copy away
            with open(os.devnull, "w+b") as discard:
                store = sign_tracked(builder, signer, plan.mime, src, discard, tracker)
            _write_store(tmp, store)
        else:
            with open(tmp, "w+b") as dst:
                sign_tracked(builder, signer, plan.mime, src, dst, tracker)
