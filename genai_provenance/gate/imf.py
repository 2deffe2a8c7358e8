"""IMF package structure: the XML files (asset map, packing lists, composition playlists) of an IMF package.

They are recognised by content, never by name: the root element must be one of the SMPTE documents
below, in its SMPTE namespace. Parsed with defusedxml (no DTD, no entities: a billion-laughs file is
simply not structure). The MXF track files they describe are media and must carry credentials.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from genai_provenance.errors import InputError
from genai_provenance.files import open_regular

MAX_XML_BYTES = 16 << 20  # a CPL of a feature is well under this; larger is not structure


class ImfDocument(StrEnum):
    ASSET_MAP = "AssetMap"
    VOLUME_INDEX = "VolumeIndex"
    PACKING_LIST = "PackingList"
    COMPOSITION_PLAYLIST = "CompositionPlaylist"


# SMPTE ST 429-9 (asset map, volume index), ST 429-8 / ST 2067-2 (packing list), ST 2067-3 (CPL).
_NAMESPACES: dict[ImfDocument, re.Pattern[str]] = {
    ImfDocument.ASSET_MAP: re.compile(r"http://www\.smpte-ra\.org/schemas/429-9/\d{4}/AM"),
    ImfDocument.VOLUME_INDEX: re.compile(r"http://www\.smpte-ra\.org/schemas/429-9/\d{4}/AM"),
    ImfDocument.PACKING_LIST: re.compile(
        r"http://www\.smpte-ra\.org/schemas/429-8/\d{4}/PKL|http://www\.smpte-ra\.org/(schemas|ns)/2067-2/\d{4}/PKL"
    ),
    ImfDocument.COMPOSITION_PLAYLIST: re.compile(r"http://www\.smpte-ra\.org/(schemas|ns)/2067-3/\d{4}"),
}
_TAG = re.compile(r"\{([^}]*)\}(.+)")


def imf_document(path: Path) -> ImfDocument | None:
    """Which IMF structure document `path` is, or None (not XML, not SMPTE, unsafe, too large, unreadable)."""
    if path.suffix.lower() != ".xml":
        return None
    try:
        with open_regular(path) as fh:
            data = fh.read(MAX_XML_BYTES + 1)
    except (OSError, ValueError, InputError):  # a FIFO, a vanished file
        return None
    if len(data) > MAX_XML_BYTES:
        return None
    from xml.etree.ElementTree import ParseError  # an .xml file only: not at start-up

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    match = _TAG.fullmatch(str(root.tag))
    if match is None:
        return None
    namespace, local = match.groups()
    try:
        kind = ImfDocument(local)
    except ValueError:
        return None
    return kind if _NAMESPACES[kind].fullmatch(namespace) else None
