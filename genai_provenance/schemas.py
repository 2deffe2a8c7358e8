"""Load and apply the JSON Schemas in schemas/ (shipped inside the package when installed)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_provenance.errors import SchemaError
from genai_provenance.resources import bundled
from genai_provenance.safe_text import clip, quote

if TYPE_CHECKING:  # jsonschema is imported when a schema is first applied, not at start-up
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry


def schemas_dir() -> Path:
    """The folder holding the schemas: inside the package when installed, else the repo's."""
    return bundled("schemas")


@cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    resources = []
    for path in sorted(schemas_dir().glob("*.schema.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the schema document `schemas/<name>.schema.json`."""
    document: dict[str, Any] = json.loads((schemas_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))
    return document


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for `schemas/<name>.schema.json`, or for a `name#/$defs/x` fragment."""
    from jsonschema import Draft202012Validator

    if "#" in name:
        base, fragment = name.split("#", 1)
        return Draft202012Validator({"$ref": f"urn:genai-provenance:{base}#{fragment}"}, registry=_registry())
    return Draft202012Validator(load_schema(name), registry=_registry())


def field_path(path: Any) -> str:
    """Render a jsonschema path as `genai[0].tool.name`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _allowed(error: ValidationError) -> list[object]:
    value: Any = error.validator_value
    if error.validator == "enum":
        return list(value)
    if error.validator == "const":
        return [value]
    return []


_TYPE_WORDS = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def _describe(error: ValidationError) -> str:
    """One line about the first problem; user values are quoted at most ~200 characters, never whole."""
    where = field_path(error.absolute_path)
    if error.validator == "type" and not error.absolute_path:  # the whole file is not a document of that kind
        found = _TYPE_WORDS.get(type(error.instance), "empty" if error.instance is None else "not an object")
        return f"{where}: the file holds {found}, expected {error.validator_value} (is it the right file?)"
    value: Any = error.validator_value
    schema: Any = error.schema
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in value)
        return f"{where}: {quote(error.instance)} is not allowed (expected one of: {allowed})"
    if error.validator in ("anyOf", "oneOf"):
        options = [v for sub in error.context or [] for v in _allowed(sub)]
        if options:
            return f"{where}: {quote(error.instance)} is not allowed (expected one of: {', '.join(map(str, options))})"
    if error.validator == "additionalProperties":
        known = set(schema.get("properties", {}))
        instance: Any = error.instance
        extra = sorted(str(k) for k in instance if k not in known)
        return clip(f"{where}: unknown field {', '.join(quote(e, 60) for e in extra[:5])}", 400)
    if error.validator == "required":
        return clip(f"{where}: {error.message}")
    if error.validator == "type":
        return f"{where}: {quote(error.instance)} is not of type {error.validator_value}"
    return f"{where}: {clip(error.message)}"


def validate(name: str, document: Any, source: str) -> None:
    """Raise SchemaError naming `source` and the first offending field, if any.

    `name` is a schema name (`disclosure`) or a fragment of one (`clearance#/$defs/record`).
    """
    try:
        errors = sorted(validator(name).iter_errors(document), key=lambda e: (list(e.absolute_path), str(e.message)))
    except RecursionError:
        raise SchemaError(f"{source}: nested too deeply to check") from None
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise SchemaError(f"{source}: {_describe(errors[0])}{more}")


@cache
def vocabulary() -> dict[str, Any]:
    defs: dict[str, Any] = load_schema("vocabulary")["$defs"]
    return defs


def terms(name: str) -> list[str]:
    """The words of one closed vocabulary (category, input_kind, action, source_type...)."""
    return list(vocabulary()[name]["enum"])
