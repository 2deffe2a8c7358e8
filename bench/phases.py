"""Where the time of one `genai-provenance sign` goes: timers around each step of sign_asset.

    python bench/phases.py SRC DST --home WS --disclosure FILE

Prints one JSON object (seconds per phase). Instrumentation only: the steps run unchanged.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

T0 = time.perf_counter()

import c2pa  # noqa: E402

import genai_provenance.credentials.sign_asset as sign_module  # noqa: E402
from genai_provenance.credentials.read import TrustSettings  # noqa: E402
from genai_provenance.workspace import open_workspace  # noqa: E402

IMPORTS = time.perf_counter() - T0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--disclosure", type=Path, required=True)
    args = parser.parse_args()
    phases: dict[str, float] = {"imports (c2pa, genai_provenance)": IMPORTS}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    # verify_file runs twice inside sign_asset: once (via input_credentials) on the input, once on the output.
    sign_module.input_credentials = timed("input: has credentials? (Reader)", sign_module.input_credentials)
    sign_module.make_thumbnail = timed("thumbnail (ffmpeg, first frame)", sign_module.make_thumbnail)
    real_verify = sign_module.verify_file
    sign_module.verify_file = lambda *a, **k: (
        real_verify(*a, **k) if "display" not in k else timed("read-back verify (Reader)", real_verify)(*a, **k)
    )
    c2pa.Builder.sign = timed("c2pa Builder.sign", c2pa.Builder.sign)  # type: ignore[method-assign]

    ws = open_workspace(args.home)
    req = sign_module.SignRequest(
        args.src, args.dst, args.disclosure, ws.identity(), TrustSettings(ws.trust_anchors()), force=True
    )
    start = time.perf_counter()
    result = sign_module.sign_asset(req)
    phases["sign_asset total"] = time.perf_counter() - start
    accounted = sum(v for k, v in phases.items() if k not in ("sign_asset total", "imports (c2pa, genai_provenance)"))
    phases["other (definition, staging, rename, close)"] = phases["sign_asset total"] - accounted
    print(json.dumps({"status": result.report.status, "phases": phases}))


if __name__ == "__main__":
    main()
