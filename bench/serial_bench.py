"""What bounds `--workers`: CPU seconds of each phase of `verify DIR` / `check DIR` run in one process.

    .venv/bin/python bench/serial_bench.py DIR --home WS [--runs 3]

The phases are the CLI's own steps (imports, settings and discovery, checking every asset, building and
writing the JSON report), timed with CPU time (time.process_time: this process, every thread), so the
numbers hold on a machine other jobs are loading, where wall times do not. Only "checking" is spread
over workers; the rest is serial, so on 2 cores no worker count does better than
(serial + checking) / (serial + checking / 2) (Amdahl), before pickling and worker start-up.
Prints one JSON object: per command, the median CPU seconds of each phase and that bound.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from genai_provenance.cli import main as _cli  # noqa: F401  (the CLI's imports, as a run pays them)
from genai_provenance.gate.discovery import discover_paths
from genai_provenance.gate.pool import check_many, verify_many
from genai_provenance.gate.results import CheckResult, VerifyResult
from genai_provenance.reports.console import View
from genai_provenance.reports.renderers import check_renderer, verify_renderer
from genai_provenance.settings import check_config, verify_config
from genai_provenance.trust.config import TrustFlags

IMPORTS = time.process_time()  # interpreter start-up and the CLI's imports


def phases(command: str, folder: Path, home: Path) -> dict[str, float]:
    out = {"imports": IMPORTS}
    start = time.process_time()
    config = (
        verify_config(home, False, TrustFlags()) if command == "verify" else check_config(None, None, home, None, None)
    )
    found = discover_paths((folder,))
    targets = found.targets()
    out["settings and discovery"] = time.process_time() - start
    start = time.process_time()
    if command == "verify":
        assets = verify_many(targets, config, 1)
        out["checking"] = time.process_time() - start
        start = time.process_time()
        text = verify_renderer("json", View()).render(VerifyResult(assets, found, anchors_configured=True))
    else:
        verdicts = check_many([(t, None) for t in targets], config, 1)
        out["checking"] = time.process_time() - start
        start = time.process_time()
        text = check_renderer("json", View()).render(CheckResult(verdicts, config.policy(), found))
    out["report"] = time.process_time() - start
    assert text
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for command in ("verify", "check"):
        runs = [phases(command, args.folder, args.home) for _ in range(args.runs)]
        median = {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}
        serial = median["imports"] + median["settings and discovery"] + median["report"]
        median["serial"] = round(serial, 3)
        median["serial_fraction"] = round(serial / (serial + median["checking"]), 3)
        median["bound_2_workers"] = round((serial + median["checking"]) / (serial + median["checking"] / 2), 2)
        results[command] = median
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
