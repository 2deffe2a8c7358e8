"""Small JPEG thumbnails: made for manifests when signing (Pillow for stills, ffmpeg when present
for video), and collected from a signed file's credentials for an explanation."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import IO

import c2pa
from PIL import Image, UnidentifiedImageError

from genai_provenance.credentials.formats import MediaFormat, media_format
from genai_provenance.credentials.read import TrustSettings, sidecar_for
from genai_provenance.explain.model import FILE_THUMBNAIL

MAX_EDGE = 320


def _shrunk_jpeg(source: Path | IO[bytes]) -> bytes:
    """The picture in `source`, at most MAX_EDGE on a side, as a JPEG; raises when it cannot be decoded."""
    with Image.open(source) as img:
        img.thumbnail((MAX_EDGE, MAX_EDGE))
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue()


FFMPEG_STILLS = frozenset({"EXR", "DPX"})


def _still(path: Path) -> bytes | None:
    try:
        return _shrunk_jpeg(path)
    except (OSError, UnidentifiedImageError, ValueError):
        return None


def _video(path: Path) -> bytes | None:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        return None
    cmd = [
        ffmpeg,
        "-v",
        "error",
        "-nostdin",
        "-i",
        str(path),
        "-frames:v",
        "1",
        "-vf",
        f"scale='min({MAX_EDGE},iw)':-2",
        "-f",
        "image2pipe",
        "-c:v",
        "mjpeg",
        "-",
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def make_thumbnail(path: Path, fmt: MediaFormat) -> bytes | None:
    """A JPEG thumbnail of `path`, or None when none can be made (audio, no ffmpeg)."""
    if fmt.kind == "image":  # Pillow cannot read EXR or DPX: ffmpeg can
        return _still(path) or (_video(path) if fmt.family in FFMPEG_STILLS else None)
    if fmt.kind == "video":
        return _video(path)
    return None


def _jpeg(data: bytes) -> bytes | None:
    """Re-encode a picture as a small JPEG; None when it cannot be decoded (untrusted bytes)."""
    try:
        return _shrunk_jpeg(io.BytesIO(data))
    except Exception:
        return None


def collect_thumbnails(path: Path, trust: TrustSettings) -> dict[str, bytes]:
    """JPEG thumbnails for an explanation: each manifest's own (by identifier), ingredients without
    credentials (`ingredient:<manifest>:<title>`), and one made from the file itself (`file`).

    Every picture is decoded and re-encoded, so what reaches a report is a plain JPEG.
    """
    out: dict[str, bytes] = {}
    fmt = media_format(path)
    if fmt is not None:
        try:
            own = make_thumbnail(path, fmt)
        except Exception:
            own = None
        own = _jpeg(own) if own else None
        if own:
            out[FILE_THUMBNAIL] = own
    if fmt is None:
        return out
    sidecar = sidecar_for(path)
    try:
        with open(path, "rb") as stream:
            reader = c2pa.Reader(fmt.mime, stream, sidecar.read_bytes() if sidecar else None, context=trust.context())
            with reader:
                store = json.loads(reader.json())
                wanted: dict[str, str] = {}
                for label, manifest in (store.get("manifests") or {}).items():
                    ident = (manifest.get("thumbnail") or {}).get("identifier")
                    if ident:
                        wanted[ident] = ident
                    for ing in manifest.get("ingredients") or []:
                        ident = (ing.get("thumbnail") or {}).get("identifier")
                        if ident and not ing.get("active_manifest"):
                            wanted[f"ingredient:{label}:{ing.get('title')}"] = ident
                for key, ident in wanted.items():
                    buffer = io.BytesIO()
                    try:
                        reader.resource_to_stream(ident, buffer)
                    except c2pa.C2paError:
                        continue
                    picture = _jpeg(buffer.getvalue())
                    if picture:
                        out[key] = picture
    except (OSError, c2pa.C2paError, ValueError):
        pass
    return out
