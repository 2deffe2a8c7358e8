"""Benchmark: assets per second for verify, package and verify-package over 1,000 small signed stills.

    .venv/bin/python bench/package_bench.py [--assets 1000] [--runs 3] [--regenerate]

One still (fixtures/media/plate.jpg) is signed once with a non-GenAI disclosure and copied to
--assets names in nested folders under bench/out/package/ (git-ignored, never committed). Side by
side, each in its own child process (so interpreter start and imports count for every row), page
cache warm, operations interleaved round by round, medians of --runs:

- `genai-provenance verify DIR` (verify has no --workers: one process)
- `genai-provenance check DIR` (verify + clearances + policy, one process)
- `genai-provenance package DIR -o PKG --workers 1|2` (check, copy, BagIt SHA-256 + SHA-512,
  signed report, full re-verification of the staged bag, rename)
- `genai-provenance verify-package PKG --workers 1|2`
- a bare c2pa-python loop: c2pa.Reader with the same trust anchors over the same files
  (validation state + manifest JSON), in 1 and in 2 processes.

Writes bench/out/package/results.json and prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "package"
STILL = ROOT / "fixtures" / "media" / "plate.jpg"
DISCLOSURE = ROOT / "fixtures" / "disclosures" / "plate.json"
PY = sys.executable


def ours() -> list[str]:
    script = Path(PY).with_name("genai-provenance")
    return [str(script)] if script.exists() else [PY, "-m", "genai_provenance"]


# --------------------------------------------------------------------------- the bare loop (child mode)

_CONTEXT = None


def _bare_init(anchors: str) -> None:
    global _CONTEXT
    import c2pa

    settings = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}, "trust": {"trust_anchors": anchors}}
    _CONTEXT = c2pa.Context.from_dict(settings)


def _bare_one(path: str) -> bool:
    import c2pa

    with open(path, "rb") as stream:
        reader = c2pa.Reader("image/jpeg", stream, context=_CONTEXT)
        trusted = reader.get_validation_state() == "Trusted"
        json.loads(reader.json())
    return trusted


def bare_loop(folder: Path, anchors_file: Path, workers: int) -> int:
    """Read every .jpg under `folder` with c2pa.Reader; exit 0 only if all are Trusted."""
    anchors = anchors_file.read_text(encoding="utf-8")
    files = sorted(str(p) for p in folder.rglob("*.jpg"))
    if workers <= 1:
        _bare_init(anchors)
        ok = all([_bare_one(f) for f in files])
    else:
        with ProcessPoolExecutor(workers, initializer=_bare_init, initargs=(anchors,)) as pool:
            ok = all(pool.map(_bare_one, files, chunksize=max(1, len(files) // (workers * 8))))
    return 0 if ok and files else 1


# --------------------------------------------------------------------------- setup


def generate(count: int, regenerate: bool) -> tuple[Path, Path]:
    """A workspace and `count` copies of one signed still in nested folders."""
    from genai_provenance.credentials.read import TrustSettings
    from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
    from genai_provenance.workspace import init_workspace, open_workspace

    home, source = OUT / "ws", OUT / f"stills-{count}"
    if regenerate:
        shutil.rmtree(OUT, ignore_errors=True)
    if source.is_dir() and sum(1 for _ in source.rglob("*.jpg")) == count and home.is_dir():
        return home, source
    shutil.rmtree(source, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    ws = (
        open_workspace(home)
        if (home / "workspace.json").exists()
        else init_workspace(home, "Bench Post House").workspace
    )
    signed = OUT / "signed.jpg"
    signed.unlink(missing_ok=True)
    result = sign_asset(SignRequest(STILL, signed, DISCLOSURE, ws.identity(), TrustSettings(ws.trust_anchors())))
    if result.report.status != "trusted":
        sys.exit(f"bench: the signed still is {result.report.status}, expected trusted")
    for i in range(count):
        folder = source / f"EP{101 + i % 4}" / f"SH{(i // 4) % 25 * 10:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(signed, folder / f"frame_{i:04d}.jpg")
    return home, source


# --------------------------------------------------------------------------- measuring


@dataclass
class Op:
    name: str
    argv: list[str]
    workers: int
    output: Path | None = None  # removed before every run
    walls: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)


def run_once(op: Op) -> float:
    if op.output is not None:
        shutil.rmtree(op.output, ignore_errors=True)
    subprocess.run(["sync"], check=False)
    start = time.perf_counter()
    done = subprocess.run(op.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench: {op.name} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall


def table(ops: list[Op], count: int) -> list[str]:
    bare = {op.workers: op for op in ops if op.name.startswith("bare")}
    lines = [
        "| operation | workers | wall (s) | assets/s | time vs bare c2pa loop, same workers |",
        "|---|---:|---:|---:|---:|",
    ]
    for op in ops:
        base = bare.get(op.workers)
        ratio = "1.00x (baseline)" if op in bare.values() else f"{op.wall / base.wall:.2f}x" if base else "n/a"
        lines.append(f"| {op.name} | {op.workers} | {op.wall:.2f} | {count / op.wall:.0f} | {ratio} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--bare-loop", nargs=3, metavar=("DIR", "ANCHORS", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_loop:
        folder, anchors, workers = args.bare_loop
        sys.exit(bare_loop(Path(folder), Path(anchors), int(workers)))

    home, source = generate(args.assets, args.regenerate)
    anchors = home / "trust" / "anchors.pem"
    cli, ws = ours(), ["--home", str(home)]
    pkg1, pkg2 = OUT / "pkg-w1", OUT / "pkg-w2"
    ops = [
        Op("bare c2pa-python loop", [PY, __file__, "--bare-loop", str(source), str(anchors), "1"], 1),
        Op("bare c2pa-python loop", [PY, __file__, "--bare-loop", str(source), str(anchors), "2"], 2),
        Op("genai-provenance verify", [*cli, "verify", str(source), *ws], 1),
        Op("genai-provenance check", [*cli, "check", str(source), *ws], 1),
        Op("genai-provenance package", [*cli, "package", str(source), "-o", str(pkg1), "--workers", "1", *ws], 1, pkg1),
        Op("genai-provenance package", [*cli, "package", str(source), "-o", str(pkg2), "--workers", "2", *ws], 2, pkg2),
    ]
    verify_pkg = [
        Op("genai-provenance verify-package", [*cli, "verify-package", str(pkg1), "--workers", "1", *ws], 1),
        Op("genai-provenance verify-package", [*cli, "verify-package", str(pkg1), "--workers", "2", *ws], 2),
    ]
    for op in ops:  # warm-up: page cache, pyc files; not counted
        run_once(op)
    load_before = os.getloadavg()[0]
    for _ in range(args.runs):
        for op in ops + verify_pkg:  # pkg1 exists (left by the package row) when verify-package runs
            op.walls.append(run_once(op))
    ordered = [ops[0], ops[1], ops[2], ops[3], ops[4], ops[5], *verify_pkg]
    lines = table(ordered, args.assets)
    load = (load_before, os.getloadavg()[0])
    print("\n".join(lines))
    print(f"\n1-minute load average before / after the measured rounds: {load[0]:.2f} / {load[1]:.2f}")
    by = {(op.name, op.workers): op for op in ordered}
    w1, w2 = by[("genai-provenance package", 1)], by[("genai-provenance package", 2)]
    print(f"\npackage --workers 2 vs --workers 1: {w1.wall / w2.wall:.2f}x the throughput")
    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load_average_1min": {"before": load[0], "after": load[1]},
        "assets": args.assets,
        "asset_bytes": (next(source.rglob("*.jpg"))).stat().st_size,
        "runs": args.runs,
        "operations": [
            {
                "name": op.name,
                "workers": op.workers,
                "walls": op.walls,
                "median": op.wall,
                "per_second": args.assets / op.wall,
            }
            for op in ordered
        ],
        "table": lines,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
