"""SMPTE time codes as post uses them, read with the `timecode` library.

Rates: 23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60. `HH:MM:SS;FF` is drop-frame (29.97 and 59.94 only),
`HH:MM:SS:FF` non-drop. A time code that does not exist (frame 30 at 25 fps, 00:01:00;00 in drop-frame)
is refused: the library's reading is written back and must give the same label. With a start time code
(`asset.start_timecode`, programmes start at 01:00:00:00) time codes are counted from it. Plain
numbers are seconds from the start of the media.
"""

from __future__ import annotations

from fractions import Fraction

from timecode.timecode import Timecode, TimecodeError

from genai_provenance.safe_text import quote

# nominal rate (as written in a disclosure) -> frames per second in real time
RATES: dict[float, Fraction] = {
    23.976: Fraction(24000, 1001),
    24.0: Fraction(24),
    25.0: Fraction(25),
    29.97: Fraction(30000, 1001),
    30.0: Fraction(30),
    48.0: Fraction(48),
    50.0: Fraction(50),
    59.94: Fraction(60000, 1001),
    60.0: Fraction(60),
}
DROP_FRAME_RATES = frozenset({29.97, 59.94})


def _rate(frame_rate: float) -> float:
    for nominal in RATES:
        if abs(frame_rate - nominal) < 0.005:  # 23.98 is 23.976
            return nominal
    listed = ", ".join(f"{r:g}" for r in RATES)
    raise ValueError(f"frame rate {frame_rate:g} is not one of {listed}")


def _frame(value: str, rate: float) -> int:
    """The frame number (from 00:00:00:00) a time code names."""
    drop = ";" in value
    if drop and rate not in DROP_FRAME_RATES:
        raise ValueError(f"{quote(value)}: drop-frame (;) time codes exist only at 29.97 and 59.94 fps, not {rate:g}")
    try:
        tc = Timecode(f"{rate:g}", value, force_non_drop_frame=not drop)
        back = str(Timecode(f"{rate:g}", frames=tc.frames, force_non_drop_frame=not drop))
    except (ValueError, TypeError, ZeroDivisionError, TimecodeError):
        back = ""
    parts = value.replace(";", ":").split(":")
    if back.replace(";", ":") != ":".join(parts) or int(parts[1]) >= 60 or int(parts[2]) >= 60:
        kind = "drop-frame" if drop else "non-drop"
        raise ValueError(f"{quote(value)} is not a valid {kind} time code at {rate:g} fps")
    return int(tc.frame_number)


def timecode_seconds(value: str, frame_rate: float, start_timecode: str | None = None) -> float:
    """`HH:MM:SS:FF` / `HH:MM:SS;FF` (counted from `start_timecode`) or plain seconds -> seconds into the media."""
    if ":" not in value and ";" not in value:
        return float(value)
    rate = _rate(frame_rate)
    frames = _frame(value, rate)
    if start_timecode is not None:
        first = _frame(start_timecode, rate)
        if frames < first:
            raise ValueError(f"{quote(value)} is before the start time code {start_timecode}")
        frames -= first
    return float(frames / RATES[rate])
