"""Media formats: which ones exist for us, and which can carry embedded Content Credentials."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from genai_provenance.errors import UnsupportedFormatError


@dataclass(frozen=True)
class MediaFormat:
    mime: str
    kind: str  # image | video | audio | document
    embeddable: bool = True


FORMATS: dict[str, MediaFormat] = {
    ".jpg": MediaFormat("image/jpeg", "image"),
    ".jpeg": MediaFormat("image/jpeg", "image"),
    ".png": MediaFormat("image/png", "image"),
    ".tif": MediaFormat("image/tiff", "image"),
    ".tiff": MediaFormat("image/tiff", "image"),
    ".webp": MediaFormat("image/webp", "image"),
    ".gif": MediaFormat("image/gif", "image"),
    ".avif": MediaFormat("image/avif", "image"),
    ".heic": MediaFormat("image/heic", "image"),
    ".mp4": MediaFormat("video/mp4", "video"),
    ".m4v": MediaFormat("video/mp4", "video"),
    ".mov": MediaFormat("video/quicktime", "video"),
    ".m4a": MediaFormat("audio/mp4", "audio"),
    ".wav": MediaFormat("audio/wav", "audio"),
    ".mp3": MediaFormat("audio/mpeg", "audio"),
    ".pdf": MediaFormat("application/pdf", "document"),
    ".exr": MediaFormat("image/x-exr", "image", embeddable=False),
    ".dpx": MediaFormat("image/x-dpx", "image", embeddable=False),
    ".mxf": MediaFormat("application/mxf", "video", embeddable=False),
    ".mkv": MediaFormat("video/x-matroska", "video", embeddable=False),
    ".webm": MediaFormat("video/webm", "video", embeddable=False),
    ".ogg": MediaFormat("audio/ogg", "audio", embeddable=False),
}


def media_format(path: Path) -> MediaFormat | None:
    return FORMATS.get(path.suffix.lower())


def is_media(path: Path) -> bool:
    return path.suffix.lower() in FORMATS


def embeddable_format(path: Path) -> MediaFormat:
    """The format of a file we are asked to sign into; refuses what cannot carry a manifest."""
    fmt = media_format(path)
    if fmt is None:
        raise UnsupportedFormatError(f"{path}: unsupported format {path.suffix or '(no extension)'!s}")
    if not fmt.embeddable:
        raise UnsupportedFormatError(
            f"{path}: {path.suffix.lstrip('.').upper()} cannot carry embedded Content Credentials"
        )
    return fmt
