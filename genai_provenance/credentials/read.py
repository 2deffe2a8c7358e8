"""Read and check Content Credentials: discovery, the c2pa Reader with our trust settings.

Never raises on bad media: every problem becomes a status on the asset's report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa

from genai_provenance.credentials import warmup
from genai_provenance.credentials.bmff import structure_problem
from genai_provenance.credentials.failure_codes import explain
from genai_provenance.credentials.formats import (
    SIDECAR_ANY_MIME,
    SNIFF_BYTES,
    carrier_problem,
    content_problem,
    media_format,
)
from genai_provenance.credentials.manifest_store import report_from_store
from genai_provenance.credentials.markers import c2pa_marker
from genai_provenance.errors import InputError
from genai_provenance.files import open_regular, os_problem, read_regular, regular_file_problem
from genai_provenance.gate.discovery import SIDECAR_SUFFIX, discover_paths
from genai_provenance.model.provenance import INVALID, NO_CREDENTIALS, UNREADABLE, AssetReport, Failure
from genai_provenance.model.vocabulary import Status
from genai_provenance.safe_text import clip
from genai_provenance.trust import signer_checks

_BMFF_MOOV = {"video/mp4", "video/quicktime", "audio/mp4"}
# While signing, c2pa keeps the whole output in RAM up to this size (c2pa-rs default 512 MB), beyond it
# unnamed temp files in $TMPDIR. 16 MB: sign of a 243 MB MP4 peaks at 292 MB, not 524, for ~0.2 s (bench/).
BACKING_STORE_MB = 16


@dataclass(frozen=True)
class TrustSettings:
    """What the verifier trusts and whether it may touch the network.

    `anchors_pem`: media-signer roots. `tsa_pem`: time-stamp authority roots (given to c2pa so a
    time-stamp can be trusted; a media signer under them only is refused by trust_checks).
    `allowed_list`: SHA-256 fingerprints of end-entity certificates trusted without an anchor.
    `ekus`: EKU OIDs a media signer must carry (None: the C2PA set).
    """

    anchors_pem: str | None = None
    allow_remote: bool = False
    tsa_pem: str | None = None
    allowed_list: tuple[str, ...] = ()
    ekus: tuple[str, ...] | None = None
    read_certificates: bool = False  # read signer certificates anyway (fingerprints for signer pinning)

    @property
    def needs_certificates(self) -> bool:
        """Whether checking needs the signers' certificates, which c2pa's reports do not carry."""
        return bool(self.tsa_pem or self.allowed_list or self.ekus or self.read_certificates)

    def settings(self) -> dict[str, Any]:
        """The c2pa settings: no network (remote manifests, OCSP) unless remote fetch is allowed."""
        settings: dict[str, Any] = {
            "verify": {"remote_manifest_fetch": self.allow_remote, "ocsp_fetch": False},
            "core": {"backing_store_memory_threshold_in_mb": BACKING_STORE_MB},
        }
        anchors = (self.anchors_pem or "") + (self.tsa_pem or "")
        if anchors:
            settings["trust"] = {"trust_anchors": anchors}
        if self.ekus:  # c2pa 0.91 accepts and ignores it (checked): trust_checks enforces it
            settings.setdefault("trust", {})["trust_config"] = "\n".join(self.ekus) + "\n"
        return settings

    def context(self) -> c2pa.Context:
        return c2pa.Context.from_dict(self.settings())


def discover(paths: Iterable[Path], *, default_ignores: bool = True) -> list[Path]:
    """Expand files and folders (recursively) into the media files to check (see discovery.py)."""
    return discover_paths(paths, default_ignores=default_ignores).files()


def sidecar_for(path: Path) -> Path | None:
    candidate = path.with_name(path.name + SIDECAR_SUFFIX)
    return candidate if regular_file_problem(candidate) is None else None


def failed_report(report: AssetReport, status: Status, code: str, text: str) -> AssetReport:
    report.status = status
    report.error = text
    report.failures.append(Failure(code, explain(code, text)))
    return report


def verify_file(
    path: Path,
    context: c2pa.Context,
    *,
    display: str | None = None,
    mime: str | None = None,
    trust: TrustSettings | None = None,
    manifest_data: bytes | None = None,
    embedded_only: bool = False,
) -> AssetReport:
    """Check one file. `mime` overrides the format taken from the name (for staged files).

    `trust` (the settings `context` was made from) adds the checks c2pa does not make (signer_checks).
    `manifest_data` is a sidecar's manifest store to check the file against (a sidecar being written);
    `embedded_only` ignores any `<file>.c2pa` beside it.
    """
    fmt = media_format(path)
    sidecar = None if embedded_only or manifest_data is not None else sidecar_for(path)
    if mime is None and fmt is None and (sidecar or manifest_data is not None):
        mime = SIDECAR_ANY_MIME  # any file can have a sidecar: c2pa hashes its bytes whatever they are
    mime = mime or (fmt.mime if fmt else None)
    report = AssetReport(path=display or str(path), format=mime, status=UNREADABLE)
    problem = regular_file_problem(path)
    if problem:  # a FIFO or device is never opened: reading it could hang forever
        return failed_report(report, UNREADABLE, "file.unreadable", problem)
    if mime is None:
        return failed_report(report, UNREADABLE, "format.unsupported", f"unsupported format {path.suffix or '(none)'}")
    external = manifest_data is not None or sidecar is not None
    try:
        with open_regular(path) as stream:
            head = stream.read(SNIFF_BYTES)
            stream.seek(0)
            mismatch = content_problem(path, fmt, head) if fmt else None
            if mismatch:
                return failed_report(report, UNREADABLE, "format.mismatch", mismatch)
            cannot = carrier_problem(fmt, head) if fmt else None
            if fmt and (cannot or not fmt.readable) and not external:
                report.status = NO_CREDENTIALS  # c2pa would say "type is unsupported": the file itself is fine
                report.notes.append(
                    f"{cannot or fmt.mime + ' cannot embed credentials'} and no {path.name}{SIDECAR_SUFFIX} "
                    "sidecar was found"
                )
                return report
            if sidecar is not None:
                manifest_data = read_regular(sidecar)
            # what reading the store needs next loads while c2pa hashes a large file
            reader = c2pa.Reader(mime, warmup.BulkReadStream(stream), manifest_data, context=context)
            with reader:
                report.embedded = reader.is_embedded()
                store = reader.json()
                state = reader.get_validation_state()
                try:
                    cr = reader.crjson()
                except c2pa.C2paError:
                    cr = None
    except InputError as exc:
        return failed_report(report, UNREADABLE, "file.unreadable", _clean(exc))
    except OSError as exc:
        return failed_report(report, UNREADABLE, "file.unreadable", os_problem(exc))
    except c2pa.C2paError.ManifestNotFound:
        marker = c2pa_marker(path) if not external else None
        if marker:  # a store is there but c2pa cannot find it: damaged, never "no credentials"
            return failed_report(report, INVALID, "manifest.damaged", f"credentials present but damaged ({marker})")
        problem = media_problem(path, mime)
        if problem:
            return failed_report(report, UNREADABLE, "media.damaged", problem)
        report.status = NO_CREDENTIALS
        if fmt and not fmt.embeddable:
            report.notes.append(
                f"{fmt.mime} cannot embed credentials and no {path.name}{SIDECAR_SUFFIX} sidecar was found"
            )
        return report
    except c2pa.C2paError.RemoteManifest as exc:
        return failed_report(report, UNREADABLE, "manifest.remote", f"{_clean(exc)}; pass --allow-remote to fetch it")
    except (c2pa.C2paError.Verify, c2pa.C2paError.Signature) as exc:
        return failed_report(report, INVALID, "manifest.unreadable", _clean(exc))
    except c2pa.C2paError.NotSupported as exc:
        return failed_report(report, UNREADABLE, "format.unsupported", _clean(exc))
    except c2pa.C2paError as exc:
        if str(exc).startswith("Remote:"):  # c2pa-python 0.38 raises a plain C2paError for a remote-only manifest
            return failed_report(
                report, UNREADABLE, "manifest.remote", f"{_clean(exc)}; pass --allow-remote to fetch it"
            )
        return failed_report(report, UNREADABLE, "manifest.inaccessible", _clean(exc))
    if sidecar:
        report.notes.append(f"credentials read from sidecar {sidecar.name}")
    report = report_from_store(report, store, cr, state)
    if trust is not None:
        report = signer_checks.confirm(report, path, mime, context, trust, store, manifest_data)
    return report


def media_problem(path: Path, mime: str) -> str | None:
    """Why a file without credentials is not whole media (truncated, undecodable), or None.

    c2pa does not notice a truncated JPEG or MP4/MOV when it finds no manifest; MP3 is not checked.
    """
    if mime in _BMFF_MOOV:
        return structure_problem(path)
    if mime == "image/jpeg":
        from PIL import Image  # only for a JPEG without credentials

        try:
            with Image.open(path) as img:
                img.load()
        except Exception as exc:  # Pillow raises OSError, SyntaxError, DecompressionBombError...
            return f"damaged image data ({_clean(exc)})"
    return None


def _clean(exc: Exception) -> str:
    return clip(str(exc), 400) or exc.__class__.__name__


def verify_paths(paths: Iterable[Path], trust: TrustSettings) -> list[AssetReport]:
    context = trust.context()
    return [verify_file(p, context, trust=trust) for p in discover(paths)]
