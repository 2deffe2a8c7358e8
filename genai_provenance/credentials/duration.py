"""How long a piece of media runs (ffprobe), and declared time ranges checked against it."""

from __future__ import annotations

import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from genai_provenance.credentials.disclosure import DEFAULT_FRAME_RATE
from genai_provenance.credentials.timecodes import timecode_seconds
from genai_provenance.errors import InputError
from genai_provenance.model.disclosure import Disclosure


@dataclass(frozen=True)
class DurationCheck:
    checked: bool  # False: ffprobe missing or the duration unknown
    warning: str | None = None


def media_duration(path: Path) -> float | None:
    """Seconds, as ffprobe reads the container; None when ffprobe is missing or cannot tell."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    cmd = [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
        value = float(done.stdout.strip()) if done.returncode == 0 else math.nan
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def check_time_ranges(disclosure: Disclosure, media: Path, disclosure_path: Path) -> DurationCheck:
    """Refuse (exit 2, naming the field) a declared time range that ends after the media does."""
    spans = [(i, u.time_range) for i, u in enumerate(disclosure.uses) if u.time_range is not None]
    if not spans:
        return DurationCheck(checked=True)
    if shutil.which("ffprobe") is None:
        return DurationCheck(False, "ffprobe is not installed: time ranges were not checked against the media")
    duration = media_duration(media)
    if duration is None:
        return DurationCheck(False, f"the duration of {media.name} is unknown: time ranges were not checked")
    rate = disclosure.asset.frame_rate or DEFAULT_FRAME_RATE
    slack = 0.5 / rate  # containers round their duration
    for i, span in spans:
        end = timecode_seconds(span.end, rate, disclosure.asset.start_timecode)
        if end > duration + slack:
            raise InputError(
                f"{disclosure_path}: genai[{i}].time_range.end: {span.end} ({end:.3f} s) is beyond the end of "
                f"{media.name} ({duration:.3f} s)"
            )
    return DurationCheck(checked=True)
