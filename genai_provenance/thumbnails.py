"""Small JPEG thumbnails for manifests: Pillow for stills, ffmpeg (when present) for video."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from genai_provenance.formats import MediaFormat

MAX_EDGE = 320


def _still(path: Path) -> bytes | None:
    try:
        with Image.open(path) as img:
            img.thumbnail((MAX_EDGE, MAX_EDGE))
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
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
    if fmt.kind == "image":
        return _still(path)
    if fmt.kind == "video":
        return _video(path)
    return None
