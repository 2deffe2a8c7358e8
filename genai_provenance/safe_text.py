"""Untrusted text made safe for where it goes: error messages, terminals, JSON and XML.

Signer-provided strings (descriptions, tool names, titles, signer names) and file names reach
every report; none may move a terminal's cursor, break a JSON document or an XML file, or echo a
whole user file back in an error.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

QUOTE_LIMIT = 200

# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides/isolates
# that make text display in another order than it reads.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters XML 1.0 forbids outright (lone surrogates included).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """Text for a terminal: control characters (ESC above all) shown as `\\x1b`, never sent raw.

    Tabs and newlines are kept (a report is lines); a carriage return is escaped.
    """
    return _LONE_SURROGATE.sub(_escape, _TERMINAL_UNSAFE.sub(_escape, text))


def one_line(text: str) -> str:
    """Terminal-safe and on a single line (newlines and tabs escaped too)."""
    return terminal_safe(text).replace("\n", "\\n").replace("\t", "\\t")


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """`repr`-like quoting of a user value for an error message, cut to about `limit` characters."""
    shown = reprlib.Repr()
    shown.maxstring = shown.maxother = limit
    shown.maxlevel, shown.maxdict, shown.maxlist = 3, 8, 8
    text = shown.repr(value[: limit + 1] if isinstance(value, str) else value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return one_line(text)


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """A free-form string from outside (a library's message) on one safe line, cut at `limit`."""
    flat = one_line(" ".join(str(text).split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def json_text(text: str) -> str:
    """A string JSON can carry and any UTF-8 encoder can write: lone surrogates become `\\xNN`."""
    return _LONE_SURROGATE.sub(_escape, text)


def has_lone_surrogate(text: str) -> bool:
    """Does `text` hold a character json_text would change?"""
    return _LONE_SURROGATE.search(text) is not None


def json_safe(document: Any) -> Any:
    """`document` with every string (keys too) passed through json_text."""
    if isinstance(document, str):
        return json_text(document)
    if isinstance(document, dict):
        return {json_safe(k): json_safe(v) for k, v in document.items()}
    if isinstance(document, (list, tuple)):
        return [json_safe(v) for v in document]
    return document


def xml_text(text: str) -> str:
    """A string XML 1.0 allows: illegal characters shown as `\\xNN` instead of breaking the file."""
    return _XML_ILLEGAL.sub(_escape, text)
