"""Dataclasses as plain dicts for JSON reports."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

_IMMUTABLE = (str, int, float, bool, bytes, type(None))  # enums of these too: deepcopy returns them unchanged
_FIELDS: dict[type, tuple[str, ...]] = {}


def as_dict(obj: Any) -> Any:
    """What `dataclasses.asdict(obj)` returns, without deep-copying every immutable leaf on the way.

    A report of 1,000 assets is built in the parent process after its workers finish, so this is time
    that no worker count shortens (asdict spent most of it in copy.deepcopy of strings and numbers)."""
    if isinstance(obj, _IMMUTABLE):
        return obj
    cls = type(obj)
    names = _FIELDS.get(cls)
    if names is None and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(obj))
    if names is not None:
        return {name: as_dict(getattr(obj, name)) for name in names}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a named tuple, rebuilt as asdict does
        return cls(*[as_dict(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return cls(as_dict(v) for v in obj)
    if isinstance(obj, dict):
        return cls((as_dict(k), as_dict(v)) for k, v in obj.items())
    return copy.deepcopy(obj)


def json_dict(obj: Any) -> Any:
    """`as_dict(obj)` in plain JSON types (enums as their values, tuples as lists): the same JSON text,
    written and read back by orjson about ten times faster. What orjson refuses (a lone surrogate from an
    undecodable file name, an integer beyond 64 bits, a value JSON has no type for) goes as_dict's way."""
    import orjson

    try:
        return orjson.loads(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS))
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return as_dict(obj)
