"""Benchmark: sidecar signing at disk speed, against hashing the same bytes with standard tools.

    .venv/bin/python bench/sidecar_bench.py [--runs 3] [--gib 1] [--frames 500] [--regenerate]

1. Sidecar sign of one large file (random bytes, --gib GiB) against `openssl dgst -sha256` of it.
   Goal: wall within 1.3x, peak RSS under 256 MB.
2. A 2K (2048x1080) OpenEXR sequence (--frames frames, ffmpeg) signed as a folder batch
   (`sign DIR --workers CORES`) against `sha256sum` of the same frames in parallel (xargs -P CORES).
   Goal: wall within 1.5x.
Operations are interleaved round by round, the page cache is warm, `sync` runs before each one;
medians of --runs; wall time around the child, peak RSS from GNU time (%M) as bench/run.py does
(for the batch: the largest single process, parent or worker). Writes bench/out/sidecar_results.json.
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
from dataclasses import dataclass, field
from pathlib import Path

from run import GNU_TIME, OUT, ROOT, ours_cli, run_child, tool_version

from genai_provenance.gate.pool import default_workers
from genai_provenance.workspace import init_workspace

DISCLOSURE = ROOT / "fixtures" / "disclosures" / "plate.json"
CHUNK = 8 << 20


@dataclass
class Op:
    name: str
    argv: list[str]
    clean: list[Path] = field(default_factory=list)  # sidecars removed before each run (never timed)
    walls: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak(self) -> float:
        return statistics.median(self.peaks)


def random_file(path: Path, gib: int, regenerate: bool) -> None:
    if path.exists() and path.stat().st_size == gib << 30 and not regenerate:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        for _ in range((gib << 30) // CHUNK):
            fh.write(os.urandom(CHUNK))
    os.replace(tmp, path)


def exr_sequence(folder: Path, frames: int, regenerate: bool) -> list[Path]:
    existing = sorted(folder.glob("*.exr"))
    if len(existing) == frames and not regenerate:
        return existing
    if shutil.which("ffmpeg") is None:
        sys.exit("bench: ffmpeg is needed to generate the EXR sequence")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    src = "testsrc2=size=2048x1080:rate=24,noise=alls=20:allf=t+u"
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", src, "-frames:v", str(frames)]
    cmd += ["-pix_fmt", "gbrpf32le", "-format", "half", "-compression", "zip1", str(folder / "SH010_comp.%04d.exr")]
    subprocess.run(cmd, check=True)
    return sorted(folder.glob("*.exr"))


def sidecars(paths: list[Path]) -> list[Path]:
    return [p.with_name(p.name + ".c2pa") for p in paths]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gib", type=int, default=1)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--no-thumbnail-only", action="store_true", help="skip the (slow) batch with thumbnails")
    args = parser.parse_args()
    cores = default_workers()

    big = OUT / "sidecar" / "master.ari"
    random_file(big, args.gib, args.regenerate)
    seq_dir = OUT / "sidecar" / "exr"
    frames = exr_sequence(seq_dir, args.frames, args.regenerate)
    ws = OUT / "ws_sidecar"
    init_workspace(ws, "Bench Studio", force=True)
    sign = [*ours_cli(), "sign"]
    common = ["--disclosure", str(DISCLOSURE), "--home", str(ws)]
    xargs = f"find {seq_dir} -name '*.exr' -print0 | xargs -0 -P {cores} -n 25 sha256sum > /dev/null"
    ops = [
        Op("openssl dgst -sha256 (large file)", ["openssl", "dgst", "-sha256", str(big)]),
        Op("ours: sign large file (sidecar)", [*sign, str(big), *common], sidecars([big])),
        Op(f"sha256sum of the frames, xargs -P {cores}", ["sh", "-c", xargs]),
        Op(
            f"ours: sign frames folder, --workers {cores}",
            [*sign, str(seq_dir), *common, "--workers", str(cores)],
            sidecars(frames),
        ),
        Op(
            f"ours: sign frames folder, --workers {cores} --no-thumbnail",
            [*sign, str(seq_dir), *common, "--workers", str(cores), "--no-thumbnail"],
            sidecars(frames),
        ),
    ]
    if args.no_thumbnail_only:
        ops[3].argv = []
    for op in ops:  # warm the page cache
        if op.name.startswith(("openssl", "sha256sum")):
            subprocess.run(op.argv, capture_output=True, check=True)
    for round_no in range(args.runs):
        for op in ops:
            if not op.argv:
                continue
            for path in op.clean:
                path.unlink(missing_ok=True)
            os.sync()
            wall, peak = run_child(op.argv)
            op.walls.append(wall)
            op.peaks.append(peak)
        print(f"round {round_no + 1}/{args.runs} done", file=sys.stderr)
    for op in ops:
        for path in op.clean:
            path.unlink(missing_ok=True)

    by = {op.name: op for op in ops}
    large_ratio = by["ours: sign large file (sidecar)"].wall / by["openssl dgst -sha256 (large file)"].wall
    seq_ratio = ops[3].wall / ops[2].wall if ops[3].walls else float("nan")
    bare_ratio = ops[4].wall / ops[2].wall
    seq_bytes = sum(p.stat().st_size for p in frames)
    print(f"\nlarge file: {big.stat().st_size / 1e9:.2f} GB; sequence: {len(frames)} frames, {seq_bytes / 1e9:.2f} GB")
    print(f"medians of {args.runs}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end\n")
    print(f"{'operation':48} {'wall s':>8} {'peak MB':>8}  runs (s)")
    for op in (o for o in ops if o.walls):
        print(f"{op.name:48} {op.wall:8.2f} {op.peak:8.0f}  {', '.join(f'{w:.2f}' for w in op.walls)}")
    print(
        f"\nlarge file, ours/openssl wall: {large_ratio:.2f} (goal 1.30); ours peak {ops[1].peak:.0f} MB (goal < 256)"
    )
    print(f"sequence, ours/sha256sum wall: {seq_ratio:.2f}; --no-thumbnail: {bare_ratio:.2f} (goal 1.50)")
    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "bench/sidecar_bench.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_end": os.getloadavg(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "openssl": tool_version(["openssl", "version"]),
        },
        "large_file_bytes": big.stat().st_size,
        "sequence": {"frames": len(frames), "bytes": seq_bytes, "size": "2048x1080 half-float EXR, zip1"},
        "runs": args.runs,
        "peak_memory_source": "GNU time %M" if GNU_TIME.exists() else "os.wait4 ru_maxrss",
        "operations": [
            {
                "name": op.name,
                "wall_s_median": round(op.wall, 3),
                "peak_mb_median": round(op.peak, 1),
                "wall_s": [round(w, 3) for w in op.walls],
            }
            for op in ops
            if op.walls
        ],
        "ratios": {
            "large_file_ours_over_openssl": round(large_ratio, 2),
            "sequence_ours_over_sha256sum": round(seq_ratio, 2),
            "sequence_no_thumbnail_over_sha256sum": round(bare_ratio, 2),
        },
    }
    (OUT / "sidecar_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {(OUT / 'sidecar_results.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
