"""User documents (disclosures, policies, signer lists, records): JSON or YAML, read safely.

Bounded in size and depth, no YAML anchors or aliases (an alias bomb), no non-finite numbers or
lone surrogates; every problem is a one-line InputError naming the file.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

from genai_provenance.errors import InputError
from genai_provenance.files import open_regular, os_problem
from genai_provenance.safe_text import clip

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


class _AliasRefused(yaml.YAMLError):
    def __init__(self, mark: Any) -> None:
        super().__init__("YAML anchors and aliases are not allowed")
        self.problem_mark = mark


class NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases: a 1 KB alias bomb would expand to gigabytes."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasRefused(event.start_mark)
        return super().compose_node(parent, index)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _shape_problem(document: Any) -> str | None:
    """Too deeply nested, a non-finite number (YAML `.inf`, `.nan`), a lone surrogate (JSON `"\\ud800"`,
    which no UTF-8 writer accepts); walked without recursion."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, float) and not math.isfinite(value):
            return "a number is infinite or not a number"
        if isinstance(value, str) and _SURROGATE.search(value):
            return "a string holds a lone surrogate (\\ud800-\\udfff), which is not text"
        if isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value if isinstance(k, str))
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def read_document(path: Path) -> Any:
    """Parse a JSON or YAML user file; one-line InputError when it cannot be read.

    Only regular files are read; the file's contents are never quoted back in an error.
    """
    if path.exists() and path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file")
    with open_regular(path) as fh:
        try:
            raw = fh.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({os_problem(exc)})") from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{path}: larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; not a disclosure or policy")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
        else:
            document = yaml.load(text, Loader=NoAliasLoader)  # a SafeLoader subclass
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except _AliasRefused as exc:
        mark = exc.problem_mark
        raise InputError(f"{path}: YAML anchors and aliases are not allowed (line {mark.line + 1})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InputError(f"{path}: not valid YAML{where}") from None
    except RecursionError:
        raise InputError(f"{path}: nested too deeply (more than {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # an integer with thousands of digits, 1e999999, NaN
        what = "number too large" if "digits" in str(exc) or "range" in str(exc) else clip(str(exc), 80)
        raise InputError(f"{path}: {what}") from None
    problem = _shape_problem(document)
    if problem:
        raise InputError(f"{path}: {problem}")
    return document
