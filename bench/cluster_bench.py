"""Benchmark: `check` on a folder of stills, 2 local worker processes against a 2-worker Dask cluster.

    .venv/bin/python bench/cluster_bench.py [--assets 200] [--runs 3]

Signs one JPEG (the bundled plate) and copies it to --assets names, starts a real `dask scheduler`
and two `dask worker --nthreads 1` processes on 127.0.0.1, then times, round by round, the CLI run
`check FOLDER --format json` with `--workers 2` and with `--cluster tcp://127.0.0.1:PORT`, on the
full folder and on a one-asset folder (the fixed cost: start-up, connecting, the version check).
Wall time around each child process, medians of --runs. Overhead per asset is the cluster's extra
time on the full folder beyond its extra time on one asset, divided by the assets in between.
Writes bench/out/cluster_results.json (bench/out/ is git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distributed import Client

from genai_provenance.credentials.read import TrustSettings
from genai_provenance.credentials.sign_asset import SignRequest, sign_asset
from genai_provenance.workspace import init_workspace

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DASK = Path(sys.executable).with_name("dask")
CLI = Path(sys.executable).with_name("genai-provenance")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(base: Path, assets: int) -> tuple[Path, Path, Path]:
    ws = init_workspace(base / "ws", "Bench Post House").workspace
    signed = base / "plate.jpg"
    request = SignRequest(
        ROOT / "fixtures" / "media" / "plate.jpg",
        signed,
        ROOT / "fixtures" / "disclosures" / "plate.json",
        ws.identity(),
        TrustSettings(ws.trust_anchors()),
    )
    assert sign_asset(request).report.status == "trusted"
    full, one = base / "stills", base / "one"
    for i in range(assets):
        (full / f"SH{i // 20:03d}").mkdir(parents=True, exist_ok=True)
        shutil.copy2(signed, full / f"SH{i // 20:03d}" / f"frame_{i:04d}.jpg")
    one.mkdir()
    shutil.copy2(signed, one / "frame_0000.jpg")
    return ws.home, full, one


def spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(DASK), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(args[:3])} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        home, full, one = prepare(base, opts.assets)
        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        procs.append(spawn(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]))
        for i in range(2):
            args = ["worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard"]
            procs.append(spawn([*args, "--host", "127.0.0.1", "--local-directory", str(base / f"w{i}")]))
        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
        common = ["check", "--home", str(home), "--format", "json", "--intended-use", "temporary"]
        modes = {"local": ["--workers", "2"], "cluster": ["--cluster", address]}
        times: dict[str, list[float]] = {f"{m} {f}": [] for m in modes for f in ("full", "one")}
        timed([str(CLI), *common, str(one), *modes["cluster"]])  # warm the workers' imports
        for _ in range(opts.runs):
            for mode, extra in modes.items():
                for name, folder in (("full", full), ("one", one)):
                    times[f"{mode} {name}"].append(timed([str(CLI), *common, str(folder), *extra]))
        med = {k: statistics.median(v) for k, v in times.items()}
        extra_full = med["cluster full"] - med["local full"]
        extra_one = med["cluster one"] - med["local one"]
        per_asset_ms = (extra_full - extra_one) / max(1, opts.assets - 1) * 1000
        results = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "assets": opts.assets,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "runs": times,
            "median_s": med,
            "cluster_fixed_overhead_s": extra_one,
            "cluster_overhead_per_asset_ms": per_asset_ms,
            "per_asset_ms": {k: med[f"{k} full"] / opts.assets * 1000 for k in modes},
        }
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "cluster_results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        for key, value in med.items():
            print(f"{key:14s} {value:7.2f} s   runs: {', '.join(f'{t:.2f}' for t in times[key])}")
        print(f"cluster fixed overhead {extra_one:.2f} s; overhead per asset {per_asset_ms:.1f} ms")
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
