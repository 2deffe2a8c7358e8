"""Benchmark for studio scale: workers, verify against openssl, and peak memory by file size.

    .venv/bin/python bench/scale_bench.py [--runs 3] [--stills 1000] [--large 8] [--sizes 250,1000,2000,4000]
        [--only workers,size,startup] [--baseline LABEL=SRC_DIR ...]

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
  with the same trust anchors (bench/bare_c2pa.py verify) for each size;
- startup: `genai-provenance verify` of one signed still, `python -c 'import c2pa'` and a bare Reader of it.

`--baseline LABEL=DIR` adds, to the size and startup rows, the same verify run from another copy of
the package (DIR holds `genai_provenance/`, e.g. `git archive COMMIT genai_provenance schemas | tar -x -C DIR`),
put first on PYTHONPATH: before/after in the same run, interleaved.

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


def with_path(src: str) -> list[str]:
    """Our CLI with another copy of the package first on PYTHONPATH (a --baseline), run as `python -P -m`: the
    installed console script names an entry point that an older copy may not have, and without -P the
    current folder (this checkout, where children run) would come before PYTHONPATH."""
    return ["env", f"PYTHONPATH={Path(src).resolve()}", PY, "-P", "-m", "genai_provenance"]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stills", type=int, default=1000)
    parser.add_argument("--large", type=int, default=8, help="copies of the signed 250 MB file")
    parser.add_argument("--sizes", default="250,1000,2000,4000", help="file sizes in MB for the size rows")
    parser.add_argument("--only", default="workers,size,startup", help="row groups: workers, size, startup")
    parser.add_argument(
        "--baseline", action="append", default=[], metavar="LABEL=DIR", help="also verify with this package copy"
    )
    args = parser.parse_args()
    groups = set(args.only.split(","))
    baselines = dict(b.split("=", 1) for b in args.baseline)
    if shutil.which("ffmpeg") is None or shutil.which("openssl") is None:
        sys.exit("bench: ffmpeg and openssl are needed")
    OUT.mkdir(parents=True, exist_ok=True)

    from genai_provenance.workspace import TRUST_ANCHORS, init_workspace

    ws = OUT / "ws"
    if not (ws / TRUST_ANCHORS).exists():
        init_workspace(ws, "Bench Studio", force=True)
    sizes = sorted({int(s) for s in args.sizes.split(",")} | ({250} if "workers" in groups else set()))
    base = make_base(ws)
    signed = {size: _signed(size, base, ws) for size in sizes}
    still = OUT / "signed_still.jpg"
    if not still.exists():
        subprocess.run(
            [*ours(), "sign", str(STILL), "-o", str(still), "--disclosure", str(DISCLOSURE), "--home", str(ws)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    home = ["--home", str(ws)]
    ops: list[Op] = []
    if "workers" in groups:
        stills = folder_of_copies("stills", still, args.stills, 100)
        large = folder_of_copies("large", signed[250], args.large, 4)
        for label, folder in ((f"{args.stills} stills", stills), (f"{args.large} x 250 MB", large)):
            for command in ("verify", "check"):
                for tag, cli in (("", ours()), *((f" ({b})", with_path(src)) for b, src in baselines.items())):
                    for workers in (1, 2):
                        argv = [*cli, command, str(folder), "--workers", str(workers), "--format", "json", *home]
                        ops.append(Op(f"{command} {label}, --workers {workers}{tag}", argv))
    anchors = str(ws / TRUST_ANCHORS)
    bare_verify = [PY, str(ROOT / "bench" / "bare_c2pa.py"), "verify"]
    if "size" in groups:
        for size, path in signed.items():
            ops.append(Op(f"openssl dgst -sha256, {size} MB", ["openssl", "dgst", "-sha256", str(path)]))
            ops.append(Op(f"ours: verify, {size} MB", [*ours(), "verify", str(path), "--format", "json", *home]))
            for label, src in baselines.items():
                argv = [*with_path(src), "verify", str(path), "--format", "json", *home]
                ops.append(Op(f"{label}: verify, {size} MB", argv))
            ops.append(Op(f"bare c2pa Reader, {size} MB", [*bare_verify, str(path), "--trust", anchors]))
    if "startup" in groups:
        ops.append(Op("startup: ours: verify, 1 still", [*ours(), "verify", str(still), "--format", "json", *home]))
        for label, src in baselines.items():
            argv = [*with_path(src), "verify", str(still), "--format", "json", *home]
            ops.append(Op(f"startup: {label}: verify, 1 still", argv))
        ops.append(Op("startup: bare c2pa Reader, 1 still", [*bare_verify, str(still), "--trust", anchors]))
        ops.append(Op("startup: python -c 'import c2pa'", [PY, "-c", "import c2pa"]))

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
    if "workers" in groups:
        for label in (f"{args.stills} stills", f"{args.large} x 250 MB"):
            for command in ("verify", "check"):
                for tag in ("", *(f" ({b})" for b in baselines)):
                    one, two = by[f"{command} {label}, --workers 1{tag}"], by[f"{command} {label}, --workers 2{tag}"]
                    worker_rows.append((f"{command} {label}{tag}", one.wall, two.wall, round(one.wall / two.wall, 2)))
    size_rows = []
    for size, path in signed.items() if "size" in groups else ():
        o, v = by[f"openssl dgst -sha256, {size} MB"], by[f"ours: verify, {size} MB"]
        b = by[f"bare c2pa Reader, {size} MB"]
        size_rows.append(
            {
                "size_mb": round(path.stat().st_size / MB),
                "openssl_s": round(o.wall, 2),
                "ours_verify_s": round(v.wall, 2),
                "bare_reader_s": round(b.wall, 2),
                "ours_over_openssl": round(v.wall / o.wall, 2),
                "bare_over_openssl": round(b.wall / o.wall, 2),
                "baselines": {
                    label: {
                        "verify_s": round(by[f"{label}: verify, {size} MB"].wall, 2),
                        "over_openssl": round(by[f"{label}: verify, {size} MB"].wall / o.wall, 2),
                    }
                    for label in baselines
                },
                "ours_peak_mb": round(v.peak),
                "bare_peak_mb": round(b.peak),
                "ours_minus_bare_peak_mb": round(v.peak - b.peak),
            }
        )
    startup_rows = [(op.name.removeprefix("startup: "), op.wall, op.peak) for op in ops if "startup:" in op.name]
    results = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}",
        "load_average_at_end": os.getloadavg(),
        "runs": args.runs,
        "baselines": baselines,
        "ops": {op.name: {"walls": op.walls, "peaks_mb": op.peaks} for op in ops},
        "workers": worker_rows,
        "sizes": size_rows,
        "startup": startup_rows,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\n{results['machine']}; load average at end {os.getloadavg()[0]:.1f}; medians of {args.runs}\n")
    if worker_rows:
        print("| run | 1 worker s | 2 workers s | speed-up |\n|---|---:|---:|---:|")
        for name, one_s, two_s, gain in worker_rows:
            print(f"| {name} | {one_s:.2f} | {two_s:.2f} | {gain:.2f}x |")
    if size_rows:
        extra = "".join(f" {label} verify s | {label}/openssl |" for label in baselines)
        print("\n| file | openssl s | ours verify s | ours/openssl |" + extra, end="")
        print(" bare Reader s | bare/openssl | ours peak MB | bare peak MB | ours - bare MB |")
        print("|---:" * (9 + 2 * len(baselines)) + "|")
        for r in size_rows:
            cells = "".join(f" {b['verify_s']} | {b['over_openssl']}x |" for b in r["baselines"].values())
            print(
                f"| {r['size_mb']} MB | {r['openssl_s']} | {r['ours_verify_s']} | {r['ours_over_openssl']}x |{cells}"
                f" {r['bare_reader_s']} | {r['bare_over_openssl']}x | {r['ours_peak_mb']} | {r['bare_peak_mb']} |"
                f" {r['ours_minus_bare_peak_mb']} |"
            )
    if startup_rows:
        print("\n| start-up | wall s | peak MB |\n|---|---:|---:|")
        for name, wall, peak in startup_rows:
            print(f"| {name} | {wall:.2f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
