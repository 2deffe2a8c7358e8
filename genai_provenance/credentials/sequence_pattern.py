"""Image-sequence names as DCC tools write them, and the frames they name on disk.

A pattern names its frame number with one token: `%04d` (printf, `%d` unpadded), `####` or `@@@@`
(one digit of padding per character). `--frames` takes `1001-1100`, `1001`, or a comma list of both.
In a folder, files `<prefix><digits><suffix>` (the number after `.` or `_`, before an image
extension) sharing prefix, suffix and padding form a sequence when there are two or more of them.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from genai_provenance.credentials.formats import media_format
from genai_provenance.errors import InputError

_TOKEN = re.compile(r"%0?(\d*)d|#+|@+")
_FRAME_NAME = re.compile(r"^(?P<prefix>.*[._])(?P<digits>\d+)(?P<suffix>\.[A-Za-z0-9]+)$", re.DOTALL)
MAX_FRAMES = 1_000_000
MAX_WIDTH = 12


@dataclass(frozen=True)
class FramePattern:
    """The file names of one sequence: `<prefix><number padded to width><suffix>` in `folder`."""

    folder: Path
    prefix: str
    width: int  # minimum digits (1: unpadded)
    suffix: str

    def name(self, frame: int) -> str:
        return f"{self.prefix}{frame:0{self.width}d}{self.suffix}"

    def path(self, frame: int) -> Path:
        return self.folder / self.name(frame)

    @property
    def printf(self) -> str:
        """The file name in printf form (`shot.%04d.exr`): how the signed record names the pattern."""
        return f"{self.prefix}%{'' if self.width == 1 else f'0{self.width}'}d{self.suffix}"

    def display(self, first: int, last: int) -> str:
        """`shot.[1001-1100].exr`: how reports name the sequence as one asset."""
        return f"{self.prefix}[{first}-{last}]{self.suffix}"

    def number(self, name: str) -> int | None:
        """The frame number `name` holds under this pattern, or None when it is not one of its frames."""
        if not (name.startswith(self.prefix) and name.endswith(self.suffix)):
            return None
        digits = name[len(self.prefix) : len(name) - len(self.suffix)]
        if not digits.isascii() or not digits.isdigit() or len(digits) < self.width:
            return None
        if len(digits) > self.width and digits.startswith("0"):
            return None  # over-padded: another pattern's name
        return int(digits)


def is_pattern(path: Path) -> bool:
    """The name carries a frame token (`%04d`, `####`, `@`): sign the sequence, not one file."""
    return _TOKEN.search(path.name) is not None


def parse_pattern(path: Path) -> FramePattern:
    """`shots/EP101.%04d.exr` -> FramePattern; one token in the file name, none in the folder."""
    tokens = list(_TOKEN.finditer(path.name))
    if len(tokens) != 1:
        raise InputError(f"{path}: a sequence pattern names its frame number once (%04d, #### or @)")
    token = tokens[0]
    text = token.group(0)
    width = int(token.group(1) or 1) if text.startswith("%") else len(text)
    if not 1 <= width <= MAX_WIDTH:
        raise InputError(f"{path}: frame padding must be 1 to {MAX_WIDTH} digits")
    prefix, suffix = path.name[: token.start()], path.name[token.end() :]
    if media_format(Path("x" + suffix)) is None or "/" in suffix:
        raise InputError(f"{path}: a sequence pattern ends in a media extension (.exr, .dpx ...)")
    return FramePattern(path.parent, prefix, width, suffix)


def pattern_from_printf(folder: Path, printf: str) -> FramePattern | None:
    """The pattern a signed record names (printf form), in `folder`; None when it is not one."""
    try:
        return parse_pattern(folder / printf) if "/" not in printf and printf.count("%") == 1 else None
    except InputError:
        return None


def parse_frames(spec: str) -> tuple[int, ...]:
    """`1001-1100`, `1001`, `1001-1010,1020-1030` -> the frame numbers, sorted, each once."""
    numbers: set[int] = set()
    for part in spec.split(","):
        first, sep, last = part.strip().partition("-")
        if not first.isdigit() or (sep and not last.isdigit()):
            raise InputError(f"--frames {spec!r}: expected FIRST-LAST, a frame number, or a comma list of them")
        lo, hi = int(first), int(last) if sep else int(first)
        if hi < lo:
            raise InputError(f"--frames {spec!r}: range {lo}-{hi} runs backwards")
        if hi - lo + 1 + len(numbers) > MAX_FRAMES:
            raise InputError(f"--frames {spec!r}: more than {MAX_FRAMES} frames")
        numbers.update(range(lo, hi + 1))
    return tuple(sorted(numbers))


def frames_on_disk(pattern: FramePattern) -> dict[int, Path]:
    """The frames of `pattern` present in its folder (regular files or not: verify says which are unreadable)."""
    try:
        names = os.listdir(pattern.folder)
    except FileNotFoundError:
        raise InputError(f"{pattern.folder}: no such folder") from None
    except OSError as exc:
        raise InputError(f"{pattern.folder}: cannot list folder ({exc.strerror})") from None
    found: dict[int, Path] = {}
    for name in names:
        number = pattern.number(name)
        if number is not None and number not in found:
            found[number] = pattern.folder / name
    return dict(sorted(found.items()))


def gaps(numbers: Iterable[int]) -> list[int]:
    """The numbers missing between the first and the last of `numbers`."""
    ordered = sorted(set(numbers))
    have = set(ordered)
    return [n for n in range(ordered[0], ordered[-1] + 1) if n not in have] if ordered else []


@dataclass(frozen=True)
class FrameSequence:
    """Frames found together on disk: one asset for verify, check and package."""

    pattern: FramePattern
    frames: tuple[tuple[int, Path], ...]  # (number, path), by number

    @property
    def display(self) -> str:
        return self.pattern.display(self.frames[0][0], self.frames[-1][0])

    @property
    def path(self) -> Path:
        """Where reports place the sequence: its folder and display name."""
        return self.pattern.folder / self.display


def group_frames(
    paths: Iterable[Path], keep: Callable[[list[Path]], bool] | None = None
) -> tuple[list[FrameSequence], list[Path]]:
    """Numbered image files -> sequences (two frames or more, and `keep(frames)` true); everything else is
    returned as it came.

    Padding: the shortest zero-padded number of a group sets it (else the shortest number), so
    `0998 0999 1000` is one `%04d` sequence; a name that does not fit it stays a file of its own.
    """
    candidates: dict[tuple[Path, str, str], list[tuple[str, Path]]] = defaultdict(list)
    rest: list[Path] = []
    for path in paths:
        match = _FRAME_NAME.match(path.name)
        fmt = media_format(path)
        if match is None or fmt is None or fmt.kind != "image" or len(match["digits"]) > MAX_WIDTH:
            rest.append(path)
            continue
        candidates[(path.parent, match["prefix"], match["suffix"])].append((match["digits"], path))
    sequences: list[FrameSequence] = []
    for (folder, prefix, suffix), found in candidates.items():
        padded = [len(d) for d, _ in found if d.startswith("0") and len(d) > 1]
        width = min(padded) if padded else min(len(d) for d, _ in found)
        pattern = FramePattern(folder, prefix, width, suffix)
        frames: dict[int, Path] = {}
        for _, path in found:
            number = pattern.number(path.name)
            if number is None or number in frames:
                rest.append(path)
            else:
                frames[number] = path
        if len(frames) < 2 or (keep is not None and not keep(list(frames.values()))):
            rest.extend(frames.values())
            continue
        sequences.append(FrameSequence(pattern, tuple(sorted(frames.items()))))
    sequences.sort(key=lambda s: (str(s.pattern.folder), s.display))
    return sequences, rest
