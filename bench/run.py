"""Benchmark: sign and verify a >= 200 MB H.264 MP4, side by side with openssl and bare c2pa-python.

    .venv/bin/python bench/run.py [--runs 3] [--seconds 3] [--regenerate] [--keep]     (or: make bench)

Every operation runs in its own child process; wall time is measured around it and peak memory
is the largest maximum resident set size of that child and its own children (ffmpeg), as reported
by GNU time (`/usr/bin/time -f %M`), else by os.wait4 (which also counts the Python parent's pages
the child had before exec, so small tools look bigger). Operations are interleaved round by round,
the page cache is warm, and `sync` runs before each one so the previous one's writes are not
charged to it. Medians of --runs.
Writes bench/out/results.json; bench/out/ is git-ignored (the media is generated, never committed).
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
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import c2pa

from genai_provenance.workspace import SIGNER_CHAIN, SIGNER_KEY, TRUST_ANCHORS, init_workspace

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
DISCLOSURE = ROOT / "fixtures" / "disclosures" / "plate.json"
MIN_BYTES = 200 * 1024 * 1024
PY = sys.executable
LOW_MEMORY = "core.backing_store_memory_threshold_in_mb=16"  # what genai_provenance.credentials.read sets
C2PA_DEFAULT = "core.backing_store_memory_threshold_in_mb=512"  # the c2pa-rs default
GNU_TIME = Path("/usr/bin/time")


def ours_cli() -> list[str]:
    script = Path(sys.executable).with_name("genai-provenance")
    return [str(script)] if script.exists() else [PY, "-m", "genai_provenance"]


def generate(path: Path, seconds: int, regenerate: bool) -> None:
    """Lossless H.264 of a noisy 1080p test pattern: ~80 MB per second of video, made in ~1 s per second."""
    if path.exists() and path.stat().st_size >= MIN_BYTES and not regenerate:
        return
    if shutil.which("ffmpeg") is None:
        sys.exit("bench: ffmpeg is needed to generate the test video (apt-get install ffmpeg)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part.mp4")
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi"]
    cmd += ["-i", f"testsrc2=size=1920x1080:rate=25:duration={seconds}", "-vf", "noise=alls=60:allf=t+u"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", str(tmp)]
    subprocess.run(cmd, check=True)
    os.replace(tmp, path)
    if path.stat().st_size < MIN_BYTES:
        sys.exit(f"bench: {path} is only {path.stat().st_size >> 20} MB; use a larger --seconds")


@dataclass
class Op:
    name: str
    argv: list[str]
    group: str  # "main" rows are compared; "why" rows explain the differences
    output: Path | None = None  # deleted before each run
    walls: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak(self) -> float:
        return statistics.median(self.peaks)


def run_child(argv: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Run one command; return (wall seconds, peak RSS in MB). Fails loudly on an exit code not in `ok`."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as peak_file:
        wrapped = [str(GNU_TIME), "-f", "%M", "-o", peak_file.name, *argv] if GNU_TIME.exists() else argv
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        if proc.returncode not in ok or "Traceback" in stderr:  # exit 1 is a blocked asset, not a crash
            sys.exit(f"bench: {' '.join(argv)} exited {proc.returncode}: {stderr[-800:]}")
        kib = int(peak_file.read().split()[-1]) if GNU_TIME.exists() else usage.ru_maxrss  # KiB on Linux
    return wall, kib / 1024


def build_ops(src: Path, ws: Path) -> list[Op]:
    chain, key, anchors = ws / SIGNER_CHAIN, ws / SIGNER_KEY, ws / TRUST_ANCHORS
    ours, bare = OUT / "signed_ours.mp4", OUT / "signed_bare.mp4"
    bare_py = [PY, str(BENCH / "bare_c2pa.py")]
    ours_sign = ["sign", str(src), "-o", str(ours), "--disclosure", str(DISCLOSURE), "--home", str(ws), "--force"]
    dflt = OUT / "signed_ours_c2pa_default.mp4"
    ours_sign_dflt = ["sign", str(src), "-o", str(dflt), "--disclosure", str(DISCLOSURE), "--home", str(ws), "--force"]
    return [
        Op("openssl dgst -sha256", ["openssl", "dgst", "-sha256", str(src)], "main"),
        Op("ours: sign", [*ours_cli(), *ours_sign], "main", ours),
        Op("bare c2pa: sign", [*bare_py, "sign", str(src), str(bare), "--cert", str(chain), "--key", str(key)], "main"),
        Op("ours: verify", [*ours_cli(), "verify", str(ours), "--home", str(ws), "--format", "json"], "main"),
        Op("bare c2pa: verify", [*bare_py, "verify", str(ours), "--trust", str(anchors)], "main"),
        Op(
            "bare c2pa: sign, backing store 16 MB",
            [*bare_py, "sign", str(src), str(bare), "--cert", str(chain), "--key", str(key), "--setting", LOW_MEMORY],
            "why",
        ),
        Op(
            "ours: sign, c2pa default backing store 512 MB",
            [PY, str(BENCH / "ours_with_settings.py"), "--setting", C2PA_DEFAULT, "--", *ours_sign_dflt],
            "why",
            dflt,
        ),
        Op("startup: genai-provenance --version", [*ours_cli(), "--version"], "why"),
        Op("startup: python -c 'import c2pa'", [PY, "-c", "import c2pa"], "why"),
    ]


def phases_once(src: Path, ws: Path, samples: dict[str, list[float]]) -> None:
    """Seconds per step inside our sign (bench/phases.py in a child), added to `samples`."""
    os.sync()
    argv = [PY, str(BENCH / "phases.py"), str(src), str(OUT / "signed_phases.mp4")]
    done = subprocess.run(
        [*argv, "--home", str(ws), "--disclosure", str(DISCLOSURE)], capture_output=True, text=True, check=True
    )
    for name, seconds in json.loads(done.stdout)["phases"].items():
        samples.setdefault(name, []).append(seconds)


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def tool_version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=3, help="length of the generated video (about 80 MB/s)")
    parser.add_argument("--regenerate", action="store_true", help="make the test video again")
    parser.add_argument("--keep", action="store_true", help="keep the signed copies in bench/out")
    args = parser.parse_args()

    src = OUT / "source_1080p_h264.mp4"
    generate(src, args.seconds, args.regenerate)
    ws = OUT / "ws"
    init_workspace(ws, "Bench Studio", force=True)
    ops = build_ops(src, ws)
    subprocess.run(["openssl", "dgst", "-sha256", str(src)], capture_output=True, check=True)  # warm the cache
    samples: dict[str, list[float]] = {}
    for round_no in range(args.runs):
        for op in ops:
            if op.output is not None:
                op.output.unlink(missing_ok=True)
            os.sync()
            wall, peak = run_child(op.argv)
            op.walls.append(wall)
            op.peaks.append(peak)
        phases_once(src, ws, samples)
        print(f"round {round_no + 1}/{args.runs} done", file=sys.stderr)
    steps = {name: round(statistics.median(values), 3) for name, values in samples.items()}

    by = {op.name: op for op in ops}
    ratios = {
        "sign wall ours/bare": ratio(by["ours: sign"].wall, by["bare c2pa: sign"].wall),
        "sign peak ours/bare": ratio(by["ours: sign"].peak, by["bare c2pa: sign"].peak),
        "sign peak ours/bare-16MB": ratio(by["ours: sign"].peak, by["bare c2pa: sign, backing store 16 MB"].peak),
        "verify wall ours/bare": ratio(by["ours: verify"].wall, by["bare c2pa: verify"].wall),
        "verify peak ours/bare": ratio(by["ours: verify"].peak, by["bare c2pa: verify"].peak),
        "sign wall ours/openssl": ratio(by["ours: sign"].wall, by["openssl dgst -sha256"].wall),
        "verify wall ours/openssl": ratio(by["ours: verify"].wall, by["openssl dgst -sha256"].wall),
        "sign peak ours/openssl": ratio(by["ours: sign"].peak, by["openssl dgst -sha256"].peak),
        "verify peak ours/openssl": ratio(by["ours: verify"].peak, by["openssl dgst -sha256"].peak),
    }
    size_mb = src.stat().st_size / 1e6
    print(f"\n{src.name}: {size_mb:.0f} MB, medians of {args.runs}, {os.cpu_count()} CPUs\n")
    print(f"{'operation':48} {'wall s':>8} {'peak MB':>8}  {'runs (s)'}")
    for group, title in (("main", "compared"), ("why", "explaining the difference")):
        print(f"-- {title}")
        for op in (o for o in ops if o.group == group):
            runs = ", ".join(f"{w:.2f}" for w in op.walls)
            print(f"{op.name:48} {op.wall:8.2f} {op.peak:8.0f}  {runs}")
    print("\nratios")
    for name, value in ratios.items():
        print(f"  {name:28} {value:6.2f}")
    print("\ninside `ours: sign` (medians, s)")
    for name, seconds in steps.items():
        print(f"  {name:44} {seconds:6.3f}")

    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(PY).name, "bench/run.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "c2pa_sdk": c2pa.sdk_version(),
            "openssl": tool_version(["openssl", "version"]),
            "ffmpeg": tool_version(["ffmpeg", "-version"]),
        },
        "file": {"path": str(src.relative_to(ROOT)), "bytes": src.stat().st_size, "codec": "H.264 (lossless), 1080p25"},
        "runs": args.runs,
        "peak_memory_source": "GNU time %M" if GNU_TIME.exists() else "os.wait4 ru_maxrss",
        "operations": [
            {
                "name": op.name,
                "group": op.group,
                "argv": [str(a) for a in op.argv],
                "wall_s_median": round(op.wall, 3),
                "peak_mb_median": round(op.peak, 1),
                "wall_s": [round(w, 3) for w in op.walls],
                "peak_mb": [round(p, 1) for p in op.peaks],
            }
            for op in ops
        ],
        "ratios": ratios,
        "ours_sign_phases_s": steps,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {(OUT / 'results.json').relative_to(ROOT)}")
    if not args.keep:
        for signed in OUT.glob("signed_*.mp4"):
            signed.unlink()


if __name__ == "__main__":
    main()
