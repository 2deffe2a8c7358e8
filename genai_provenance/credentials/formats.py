"""Media formats: the MIME type a name implies, what the content really is, and what c2pa can do with it.

Which formats can carry or hold Content Credentials is asked of the c2pa library itself
(`Builder/Reader.get_supported_mime_types()`), not kept in a hand-written table. We keep only the
extension -> MIME map (c2pa wants a MIME type) and a magic-byte sniffer, so a PNG named `.jpg` is
caught instead of being handed to the wrong parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import c2pa

from genai_provenance.errors import InputError, UnsupportedFormatError
from genai_provenance.files import open_regular, os_problem

Kind = Literal["image", "video", "audio", "document"]
SNIFF_BYTES = 64
SIDECAR_SUFFIX = ".c2pa"  # `<asset>.c2pa`: the manifest store of an asset that does not embed it
SIDECAR_ANY_MIME = "application/octet-stream"  # the MIME a sidecar is signed and read with for an unknown format


@cache
def builder_mime_types() -> frozenset[str]:
    """MIME types c2pa can embed a manifest into (asked once per process)."""
    return frozenset(m.lower() for m in c2pa.Builder.get_supported_mime_types())


@cache
def reader_mime_types() -> frozenset[str]:
    """MIME types c2pa can read a manifest from."""
    return frozenset(m.lower() for m in c2pa.Reader.get_supported_mime_types())


@dataclass(frozen=True)
class MediaFormat:
    mime: str
    kind: Kind
    family: str  # what the content looks like: JPEG, PNG, BMFF (MP4/MOV/HEIF/AVIF), RIFF WAV...

    @property
    def embeddable(self) -> bool:
        """c2pa can sign into this format."""
        return self.mime in builder_mime_types()

    @property
    def readable(self) -> bool:
        """c2pa can read embedded credentials from this format."""
        return self.mime in reader_mime_types()


FORMATS: dict[str, MediaFormat] = {
    ".jpg": MediaFormat("image/jpeg", "image", "JPEG"),
    ".jpeg": MediaFormat("image/jpeg", "image", "JPEG"),
    ".png": MediaFormat("image/png", "image", "PNG"),
    ".tif": MediaFormat("image/tiff", "image", "TIFF"),
    ".tiff": MediaFormat("image/tiff", "image", "TIFF"),
    ".dng": MediaFormat("image/dng", "image", "TIFF"),
    ".webp": MediaFormat("image/webp", "image", "WebP"),
    ".gif": MediaFormat("image/gif", "image", "GIF"),
    ".avif": MediaFormat("image/avif", "image", "BMFF"),
    ".heic": MediaFormat("image/heic", "image", "BMFF"),
    ".heif": MediaFormat("image/heif", "image", "BMFF"),
    ".jxl": MediaFormat("image/jxl", "image", "JPEG XL"),
    ".svg": MediaFormat("image/svg+xml", "image", "SVG/XML"),
    ".mp4": MediaFormat("video/mp4", "video", "BMFF"),
    ".m4v": MediaFormat("video/mp4", "video", "BMFF"),
    ".mov": MediaFormat("video/quicktime", "video", "BMFF"),
    ".avi": MediaFormat("video/x-msvideo", "video", "AVI"),
    ".m4a": MediaFormat("audio/mp4", "audio", "BMFF"),
    ".wav": MediaFormat("audio/wav", "audio", "WAV"),
    ".mp3": MediaFormat("audio/mpeg", "audio", "MP3"),
    ".flac": MediaFormat("audio/flac", "audio", "FLAC"),
    ".pdf": MediaFormat("application/pdf", "document", "PDF"),
    ".exr": MediaFormat("image/x-exr", "image", "EXR"),
    ".dpx": MediaFormat("image/x-dpx", "image", "DPX"),
    ".mxf": MediaFormat("application/mxf", "video", "MXF"),
    ".mkv": MediaFormat("video/x-matroska", "video", "Matroska"),
    ".webm": MediaFormat("video/webm", "video", "Matroska"),
    ".ogg": MediaFormat("audio/ogg", "audio", "Ogg"),
}
_NAME_SAYS = {"BMFF": "MP4/MOV/HEIF", "WAV": "WAV", "Matroska": "Matroska/WebM"}

_MAGIC: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF-", "PDF"),
    (b"ID3", "MP3"),
    (b"v/1\x01", "EXR"),
    (b"SDPX", "DPX"),
    (b"XPDS", "DPX"),
    (b"\x06\x0e\x2b\x34", "MXF"),
    (b"fLaC", "FLAC"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"\x1a\x45\xdf\xa3", "Matroska"),
    (b"OggS", "Ogg"),
]
_RIFF = {b"WAVE": "WAV", b"WEBP": "WebP", b"AVI ": "AVI"}


def sniff(head: bytes) -> str | None:
    """The format family the first bytes of a file show, or None when they are not recognised."""
    for magic, family in _MAGIC:
        if head.startswith(magic):
            return family
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return "BMFF"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "MP3"  # an MPEG audio frame sync without an ID3 tag
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"<?xml", b"<svg", b"<!--", b"<!DOCTYPE svg")):
        return "SVG/XML"
    return None


def content_problem(path: Path, fmt: MediaFormat, head: bytes) -> str | None:
    """`content is PNG, name says JPEG` when the bytes are recognisably another format, else None."""
    found = sniff(head)
    if found is None or found == fmt.family:
        return None
    return f"content is {found}, name says {_NAME_SAYS.get(fmt.family, fmt.family)}"


def carrier_problem(fmt: MediaFormat, head: bytes) -> str | None:
    """Why this particular file cannot carry embedded credentials although its format can, or None."""
    if fmt.family == "JPEG XL" and head.startswith(b"\xff\x0a"):
        return "a bare JPEG XL codestream (no container) cannot carry embedded Content Credentials"
    return None


def media_format(path: Path) -> MediaFormat | None:
    return FORMATS.get(path.suffix.lower())


def is_media(path: Path) -> bool:
    return path.suffix.lower() in FORMATS


def _head(path: Path) -> bytes:
    with open_regular(path) as fh:
        try:
            return fh.read(SNIFF_BYTES)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({os_problem(exc)})") from None


def embeddable_format(path: Path, *, check_content: bool = False) -> MediaFormat:
    """The format of a file we are asked to sign into; refuses what cannot carry a manifest.

    With `check_content`, the file must exist and its bytes must be the format its name says.
    """
    fmt = media_format(path)
    if fmt is None:
        raise UnsupportedFormatError(f"{path}: unsupported format {path.suffix or '(no extension)'!s}")
    if not fmt.embeddable:
        raise UnsupportedFormatError(
            f"{path}: {path.suffix.lstrip('.').upper()} cannot carry embedded Content Credentials"
        )
    if check_content:
        head = _head(path)
        problem = content_problem(path, fmt, head) or carrier_problem(fmt, head)
        if problem:
            raise InputError(f"{path}: {problem}")
    return fmt
