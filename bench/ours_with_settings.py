"""Run the genai-provenance CLI with extra c2pa settings merged into every context it makes.

    python bench/ours_with_settings.py --setting core.backing_store_memory_threshold_in_mb=16 -- sign ...

For the benchmark only: it shows what a c2pa setting would change before the library adopts it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import c2pa


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def main() -> None:
    args = sys.argv[1:]
    extra: dict[str, Any] = {}
    while args and args[0] == "--setting":
        dotted, _, value = args[1].partition("=")
        *parents, leaf = dotted.split(".")
        node = extra
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = json.loads(value)
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    original = c2pa.Context.from_dict

    def from_dict(settings: dict[str, Any], *a: Any, **k: Any) -> c2pa.Context:
        return original(_merge(json.loads(json.dumps(settings)), extra), *a, **k)

    c2pa.Context.from_dict = staticmethod(from_dict)  # type: ignore[method-assign]
    from genai_provenance.cli import main as cli

    cli(args, prog_name="genai-provenance")


if __name__ == "__main__":
    main()
