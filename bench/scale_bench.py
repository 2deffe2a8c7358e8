"""Benchmark for studio scale: workers, verify against openssl, and peak memory by file size.

    .venv/bin/python bench/scale_bench.py [--runs 3] [--stills 1000] [--large 8] [--sizes 250,1000,2000,4000]
        [--only workers|sizes] [--baseline DIR]

--baseline DIR adds the workers rows run with the code in DIR (for example
`git archive REV genai_provenance | tar -x -C DIR`) first on PYTHONPATH, interleaved with this tree's,
so a before/after ratio comes from one run on the same machine load.

All media is generated under bench/out/scale/ (git-ignored, never committed):
- a lossless 1080p H.264 MP4 of about 250 MB made by ffmpeg, then longer files made from it by
  `ffmpeg -stream_loop N -c copy` (so a 4 GB file takes seconds to make), each signed once with
  `genai-provenance sign` (embedded);
- --stills copies of one signed still (fixtures/media/plate.jpg) in nested folders;
- --large copies of the signed 250 MB file.

Every operation runs in its own child process (start-up included), page cache warm, operations
interleaved round by round, medians of --runs. Peak memory is the child's maximum resident set
size from GNU `time -f %M` (as bench/run.py measures it).

Rows:
- workers: `verify DIR --workers 1|2` and `check DIR --workers 1|2` on the stills and on the large files;
- size: `openssl dgst -sha256 FILE`, `genai-provenance verify FILE`, and a bare c2pa `Reader` on the same file
  with the same trust anchors (bench/bare_c2pa.py verify) for each size.

Writes bench/out/scale/results.json and prints Markdown tables for bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from run import run_child
from sidecar_bench import Op

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "scale"
STILL = ROOT / "fixtures" / "media" / "plate.jpg"
DISCLOSURE = ROOT / "fixtures" / "disclosures" / "plate.json"
PY = sys.executable
MB = 1_000_000


def ours() -> list[str]:
    script = Path(PY).with_name("genai-provenance")
    return [str(script)] if script.exists() else [PY, "-m", "genai_provenance"]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def _signed(size: int, base: Path, ws: Path) -> Path:
    signed = OUT / f"signed_{size}.mp4"
    if signed.exists():
        return signed
    loops = max(1, -(-size * MB // base.stat().st_size))
    plain = OUT / f"plain_{size}.mp4"
    ffmpeg("-stream_loop", str(loops - 1), "-i", str(base), "-c", "copy", str(plain))
    subprocess.run(
        [*ours(), "sign", str(plain), "-o", str(signed), "--disclosure", str(DISCLOSURE), "--home", str(ws)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    plain.unlink()
    return signed


def make_base(ws: Path) -> Path:
    base = OUT / "base_250.mp4"
    if base.exists():
        return base
    tmp = OUT / "base.part.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=3.3",
        "-vf", "noise=alls=60:allf=t+u", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
        "-pix_fmt", "yuv420p", str(tmp),
    )  # fmt: skip
    os.replace(tmp, base)
    return base


def folder_of_copies(name: str, source: Path, count: int, per_folder: int) -> Path:
    folder = OUT / name
    marker = folder / f".complete-{count}"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    for i in range(count):
        sub = folder / f"reel{i // per_folder:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, sub / f"asset_{i:05d}{source.suffix}")
    marker.touch()
    return folder


def _baseline(folder: Path | None) -> list[tuple[str, list[str]]]:
    """(row suffix, argv prefix) running the CLI with the code in `folder` first on PYTHONPATH."""
    if folder is None:
        return []
    if not (folder / "genai_provenance" / "__init__.py").exists():
        sys.exit(f"bench: {folder} holds no genai_provenance package")
    return [(" (baseline)", ["env", f"PYTHONPATH={folder.resolve()}"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stills", type=int, default=1000)
    parser.add_argument("--large", type=int, default=8, help="copies of the signed 250 MB file")
    parser.add_argument("--sizes", default="250,1000,2000,4000", help="file sizes in MB for the size rows")
    parser.add_argument("--only", choices=("workers", "sizes"), help="run only the workers rows or the size rows")
    parser.add_argument("--baseline", type=Path, help="also run the workers rows with the code in this folder")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None or shutil.which("openssl") is None:
        sys.exit("bench: ffmpeg and openssl are needed")
    OUT.mkdir(parents=True, exist_ok=True)

    from genai_provenance.workspace import TRUST_ANCHORS, init_workspace

    ws = OUT / "ws"
    if not (ws / TRUST_ANCHORS).exists():
        init_workspace(ws, "Bench Studio", force=True)
    sizes = [250] if args.only == "workers" else sorted({int(s) for s in args.sizes.split(",")} | {250})
    base = make_base(ws)
    signed = {size: _signed(size, base, ws) for size in sizes}
    still = OUT / "signed_still.jpg"
    if not still.exists():
        subprocess.run(
            [*ours(), "sign", str(STILL), "-o", str(still), "--disclosure", str(DISCLOSURE), "--home", str(ws)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    stills = folder_of_copies("stills", still, args.stills, 100)
    large = folder_of_copies("large", signed[250], args.large, 4)

    home = ["--home", str(ws)]
    ops: list[Op] = []
    trees = [("", [])] if args.only == "sizes" else [("", []), *_baseline(args.baseline)]
    for label, folder in ((f"{args.stills} stills", stills), (f"{args.large} x 250 MB", large)):
        for command in ("verify", "check"):
            for tag, env in trees if args.only != "sizes" else ():
                for workers in (1, 2):
                    argv = [*env, *ours(), command, str(folder), "--workers", str(workers), "--format", "json", *home]
                    ops.append(Op(f"{command} {label}, --workers {workers}{tag}", argv))
    anchors = str(ws / TRUST_ANCHORS)
    for size, path in signed.items() if args.only != "workers" else ():
        ops.append(Op(f"openssl dgst -sha256, {size} MB", ["openssl", "dgst", "-sha256", str(path)]))
        ops.append(Op(f"ours: verify, {size} MB", [*ours(), "verify", str(path), "--format", "json", *home]))
        bare = [PY, str(ROOT / "bench" / "bare_c2pa.py"), "verify", str(path), "--trust", anchors]
        ops.append(Op(f"bare c2pa Reader, {size} MB", bare))

    for path in (*signed.values(),):
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    for round_no in range(args.runs):
        for op in ops:
            os.sync()
            wall, peak = run_child(op.argv, ok=(0, 1))  # check exits 1 when a policy finding blocks
            op.walls.append(wall)
            op.peaks.append(peak)
        print(f"round {round_no + 1}/{args.runs} done", file=sys.stderr)

    by = {op.name: op for op in ops}
    worker_rows = []
    for label in (f"{args.stills} stills", f"{args.large} x 250 MB"):
        for command in ("verify", "check"):
            for tag, _env in trees if args.only != "sizes" else ():
                one, two = by[f"{command} {label}, --workers 1{tag}"], by[f"{command} {label}, --workers 2{tag}"]
                worker_rows.append((f"{command} {label}{tag}", one.wall, two.wall, round(one.wall / two.wall, 2)))
    size_rows = []
    for size, path in signed.items() if args.only != "workers" else ():
        o, v = by[f"openssl dgst -sha256, {size} MB"], by[f"ours: verify, {size} MB"]
        b = by[f"bare c2pa Reader, {size} MB"]
        size_rows.append(
            {
                "size_mb": round(path.stat().st_size / MB),
                "openssl_s": round(o.wall, 2),
                "ours_verify_s": round(v.wall, 2),
                "bare_reader_s": round(b.wall, 2),
                "ours_over_openssl": round(v.wall / o.wall, 2),
                "ours_peak_mb": round(v.peak),
                "bare_peak_mb": round(b.peak),
                "ours_minus_bare_peak_mb": round(v.peak - b.peak),
            }
        )
    results = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}",
        "load_average_at_end": os.getloadavg(),
        "runs": args.runs,
        "ops": {op.name: {"walls": op.walls, "peaks_mb": op.peaks} for op in ops},
        "workers": worker_rows,
        "sizes": size_rows,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\n{results['machine']}; load average at end {os.getloadavg()[0]:.1f}; medians of {args.runs}\n")
    print("| run | 1 worker s | 2 workers s | speed-up |\n|---|---:|---:|---:|")
    for name, one_s, two_s, gain in worker_rows:
        print(f"| {name} | {one_s:.2f} | {two_s:.2f} | {gain:.2f}x |")
    print("\n| file | openssl s | ours verify s | bare Reader s | ours/openssl | ours peak MB | bare peak MB", end="")
    print(" | ours - bare MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in size_rows:
        print(
            f"| {r['size_mb']} MB | {r['openssl_s']} | {r['ours_verify_s']} | {r['bare_reader_s']} | "
            f"{r['ours_over_openssl']}x | {r['ours_peak_mb']} | {r['bare_peak_mb']} | {r['ours_minus_bare_peak_mb']} |"
        )


if __name__ == "__main__":
    main()
