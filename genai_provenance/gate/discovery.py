"""Which files a command considers: one walk for verify, check, package and verify-package.

Every file under a folder is accounted for: checked (media), skipped (not media, listed),
ignored (the default ignore list, listed and counted), in progress (a temporary file of a run
still writing) or removed (a temporary file of a run that died). Hidden files are not skipped
silently: unless they are on the ignore list they are checked (verify, check) or block as
strays (package). Non-regular files (FIFOs, devices, sockets) are never opened.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from genai_provenance.credentials.formats import (
    SIDECAR_SUFFIX as SIDECAR_SUFFIX,
)  # re-exported: commands import it here
from genai_provenance.credentials.formats import is_media
from genai_provenance.credentials.sequence_pattern import FrameSequence, group_frames
from genai_provenance.credentials.sequence_record import signed_as_sequence
from genai_provenance.errors import InputError
from genai_provenance.files import kind_of, os_problem, regular_file_problem, temp_alive, temp_owner
from genai_provenance.gate.imf import imf_document
from genai_provenance.grammar import plural

# Files operating systems drop into folders; never deliverables. `--no-default-ignores` turns this off.
DEFAULT_IGNORES = (".DS_Store", "._*", "Thumbs.db")
STAGING_MARKS = (".genai-provenance-staging-", ".genai-provenance-previous-")


class EntryKind(StrEnum):
    FILE = "file"  # a regular file (or a symbolic link to one)
    SPECIAL = "special"  # FIFO, device, socket: never opened
    BROKEN = "broken"  # a link that leads nowhere (dangling, loop) or a file that cannot be examined
    LINKED_FOLDER = "linked-folder"  # a symbolic link to a folder: not followed
    IGNORED = "ignored"  # on the ignore list
    IN_PROGRESS = "in-progress"  # our temporary file, its writer still running
    REMOVED = "removed"  # our temporary file left by a dead run, now deleted


@dataclass(frozen=True)
class Entry:
    """One name found under a folder."""

    path: Path
    rel: str  # POSIX path relative to the folder walked
    kind: EntryKind
    reason: str = ""


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


class _Housekeeping:
    """The names a discovery left alone: on the ignore list, being written, or removed as dead temporaries."""

    ignored: list[str]
    in_progress: list[str]
    removed: list[str]

    def _housekeeping(self) -> dict[str, object]:
        return {"ignored": list(self.ignored), "in_progress": list(self.in_progress), "removed": list(self.removed)}

    def _housekeeping_lines(self) -> list[str]:
        out = []
        if self.ignored:
            out.append(
                f"ignored {plural(len(self.ignored), 'file')} on the default ignore list: {', '.join(self.ignored)}"
            )
        if self.in_progress:
            out.append(f"in progress (being written by a running genai-provenance): {', '.join(self.in_progress)}")
        if self.removed:
            out.append(
                f"removed {plural(len(self.removed), 'temporary file')} left by a killed run: {', '.join(self.removed)}"
            )
        return out


Target = Path | FrameSequence  # what verify, check and package judge as one asset: a file, or an image sequence


@dataclass
class Discovery(_Housekeeping):
    """What `verify`/`check` will look at, and everything they will not (with why).

    Numbered image files are grouped into `sequences` (one asset each); `media` holds the other files.
    """

    media: list[Path] = field(default_factory=list)
    sequences: list[FrameSequence] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    _order: dict[Path, int] = field(default_factory=dict, repr=False)  # position each file was found at

    def targets(self) -> list[Target]:
        """Files and sequences in the order found (a sequence where its first frame was)."""
        by_frame = {path: seq for seq in self.sequences for _, path in seq.frames}
        out: list[Target] = []
        emitted: set[int] = set()
        for path in sorted([*self.media, *by_frame], key=lambda p: self._order.get(p, 0)):
            seq = by_frame.get(path)
            if seq is None:
                out.append(path)
            elif id(seq) not in emitted:
                emitted.add(id(seq))
                out.append(seq)
        return out

    def files(self) -> list[Path]:
        """Every file checked, frames of sequences included, in the order found."""
        frames = [path for seq in self.sequences for _, path in seq.frames]
        return sorted([*self.media, *frames], key=lambda p: self._order.get(p, 0))

    @property
    def files_checked(self) -> int:
        return len(self.media) + sum(len(s.frames) for s in self.sequences)

    def to_dict(self) -> dict[str, object]:
        return {
            "checked": self.files_checked,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            **self._housekeeping(),
        }

    def lines(self) -> list[str]:
        """The text-report lines about files not checked (empty when every file was checked)."""
        out = []
        if self.skipped:
            out.append(f"skipped {plural(len(self.skipped), 'file')} that are not media:")
            out.extend(f"  {s.path} ({s.reason})" for s in self.skipped)
        return out + self._housekeeping_lines()


def ignored_name(name: str, default_ignores: bool) -> bool:
    return default_ignores and any(fnmatch.fnmatchcase(name, pattern) for pattern in DEFAULT_IGNORES)


def _temp_kind(path: Path) -> EntryKind | None:
    """IN_PROGRESS / REMOVED for one of our temporary files (a dead one is deleted here), else None."""
    pid = temp_owner(path.name)
    if pid is None:
        return None
    if temp_alive(pid):
        return EntryKind.IN_PROGRESS
    with contextlib.suppress(OSError):
        path.unlink()
    return EntryKind.REMOVED


def classify(path: Path, rel: str, *, default_ignores: bool = True) -> Entry:
    """What one file-system name is, without opening it."""
    kind = _temp_kind(path)
    if kind is not None:
        return Entry(path, rel, kind)
    if ignored_name(path.name, default_ignores):
        return Entry(path, rel, EntryKind.IGNORED)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return Entry(path, rel, EntryKind.BROKEN, os_problem(exc))
    except ValueError:
        return Entry(path, rel, EntryKind.BROKEN, "invalid file name")
    if stat.S_ISREG(mode):
        return Entry(path, rel, EntryKind.FILE)
    if stat.S_ISDIR(mode):
        return Entry(path, rel, EntryKind.LINKED_FOLDER, "symbolic link to a folder, not followed")
    return Entry(path, rel, EntryKind.SPECIAL, f"is {kind_of(mode)}")


def walk(root: Path, *, default_ignores: bool = True) -> Iterator[Entry]:
    """Every name under `root`, sorted, hidden ones included; symbolic links to folders not followed.

    Our own package staging folders are not walked; they are reported as in progress.
    """
    errors: list[OSError] = []
    for folder, dirs, files in os.walk(root, onerror=errors.append):
        base = Path(folder)
        kept = []
        for name in sorted(dirs):
            full = base / name
            rel = full.relative_to(root).as_posix()
            if any(mark in name for mark in STAGING_MARKS):  # a package being built or replaced: not walked
                yield Entry(full, rel, EntryKind.IN_PROGRESS, "package staging folder")
                continue
            if full.is_symlink():
                yield classify(full, rel, default_ignores=default_ignores)
            elif ignored_name(name, default_ignores):
                yield Entry(full, rel, EntryKind.IGNORED)
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            full = base / name
            yield classify(full, full.relative_to(root).as_posix(), default_ignores=default_ignores)
    if errors:
        exc = errors[0]
        raise InputError(f"{exc.filename or root}: cannot list folder ({os_problem(exc)})")


def unreadable_entries(root: Path) -> list[Entry]:
    """Everything under `root` that must not be opened: FIFOs, devices, sockets, broken or folder links."""
    bad = (EntryKind.SPECIAL, EntryKind.BROKEN, EntryKind.LINKED_FOLDER)
    return [e for e in walk(root, default_ignores=False) if e.kind in bad]


def discover_paths(paths: Iterable[Path], *, default_ignores: bool = True) -> Discovery:
    """Files and folders (recursively) -> the media files to check, sorted per folder, each once.

    A file named on the command line must be a regular file (else InputError, exit 2). In a folder,
    media are checked (a FIFO named `x.jpg` is reported unreadable, never opened); other files are
    listed as skipped; sidecars (`x.jpg.c2pa`) go with their asset.
    """
    found = Discovery()
    seen: set[str] = set()

    def add(path: Path) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            found.media.append(path)

    for path in paths:
        if path.is_dir():
            skipped = len(found.skipped)
            if not _folder(path, found, add, default_ignores):
                others = len(found.skipped) - skipped
                also = f" ({plural(others, 'other file')} skipped)" if others else ""
                raise InputError(f"{path}: folder holds no media files{also}")
            continue
        problem = regular_file_problem(path)
        if problem == "no such file":
            raise InputError(f"{path}: no such file or folder")
        if problem:
            raise InputError(f"{path}: {problem}")
        add(path)
    for name in ("skipped", "ignored", "in_progress", "removed"):  # overlapping folders list a file once
        setattr(found, name, list(dict.fromkeys(getattr(found, name))))
    found._order = {path: i for i, path in enumerate(found.media)}
    found.sequences, found.media = group_frames(found.media, signed_as_sequence)
    found.media.sort(key=lambda p: found._order[p])
    return found


def _folder(root: Path, found: Discovery, add: Callable[[Path], None], default_ignores: bool) -> int:
    """Sort the entries under `root` into `found`; the number of media files met (seen before or not)."""
    media = 0
    entries = list(walk(root, default_ignores=default_ignores))
    names = {e.rel for e in entries if e.kind == EntryKind.FILE}
    for entry in entries:
        shown = str(entry.path)
        if entry.kind == EntryKind.IGNORED:
            found.ignored.append(shown)
        elif entry.kind == EntryKind.IN_PROGRESS:
            found.in_progress.append(shown)
        elif entry.kind == EntryKind.REMOVED:
            found.removed.append(shown)
        elif entry.kind == EntryKind.LINKED_FOLDER:
            found.skipped.append(Skipped(shown, entry.reason))
        elif entry.rel.endswith(SIDECAR_SUFFIX) and entry.rel.removesuffix(SIDECAR_SUFFIX) in names:
            continue  # read with its asset
        elif is_media(entry.path):
            add(entry.path)  # a FIFO, broken link: verify reports it unreadable
            media += 1
        elif entry.kind == EntryKind.FILE:
            reason = "sidecar without its asset" if entry.rel.endswith(SIDECAR_SUFFIX) else "not a media file"
            found.skipped.append(Skipped(shown, reason))
        else:
            found.skipped.append(Skipped(shown, entry.reason))
    return media


def as_discovery(paths: Iterable[Path] | Discovery) -> Discovery:
    """Accept what a caller already discovered (with its options), or discover with the defaults."""
    return paths if isinstance(paths, Discovery) else discover_paths(paths)


# --------------------------------------------------------------------------- package: the closed allow-list


def _with_sequences(assets: list[Candidate], source: Path) -> list[Candidate]:
    """Numbered image frames grouped into one Candidate per sequence (see sequence_pattern.group_frames)."""
    by_path = {c.path: c for c in assets}
    sequences, rest = group_frames(by_path, signed_as_sequence)
    out = [by_path[p] for p in rest]
    for seq in sequences:
        frames = tuple(by_path[p] for _, p in seq.frames)
        folder = frames[0].rel.rpartition("/")[0]
        rel = f"{folder}/{seq.display}" if folder else seq.display
        out.append(Candidate(rel, source / rel, sequence=seq, frames=frames))
    return sorted(out, key=lambda c: c.rel)


@dataclass(frozen=True)
class Candidate:
    rel: str  # POSIX path relative to the source folder (a sequence: its folder and `name.[first-last].exr`)
    path: Path
    sidecar: str | None = None  # rel path of a paired `<asset>.c2pa`
    sequence: FrameSequence | None = None  # an image sequence checked as one asset
    frames: tuple[Candidate, ...] = ()  # a sequence's frames, each with its sidecar

    @property
    def target(self) -> Target:
        return self.sequence if self.sequence is not None else self.path

    def carried(self) -> list[str]:
        """The files this asset puts in a package."""
        parts = self.frames or (self,)
        return [rel for c in parts for rel in [c.rel] + ([c.sidecar] if c.sidecar else [])]


@dataclass(frozen=True)
class Stray:
    """A file that cannot go into a package as a verified asset: it blocks."""

    rel: str
    reason: str


@dataclass
class FolderDiscovery(_Housekeeping):
    """Every file under a package source: media to check (sidecars paired), strays, exclusions."""

    assets: list[Candidate] = field(default_factory=list)
    stray: list[Stray] = field(default_factory=list)
    structure: list[str] = field(default_factory=list)  # IMF package XML (asset map, PKL, CPL): carried, not media
    excluded: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return self._housekeeping()

    def lines(self) -> list[str]:
        return self._housekeeping_lines()


def _unsafe_name(rel: str) -> str | None:
    if any(ch in rel for ch in "\r\n") or any(part in ("", ".", "..") for part in rel.split("/")):
        return "file name cannot be carried safely in a package"
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8"
    return None


def _matches(rel: str, globs: tuple[str, ...]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(rel, g) or fnmatch.fnmatchcase(name, g) for g in globs)


def discover_folder(source: Path, excludes: tuple[str, ...] = (), *, default_ignores: bool = True) -> FolderDiscovery:
    """Every file under `source` for the package gate: what is not a verifiable asset blocks.

    Refused outright (InputError): a symbolic link leaving the folder or to a folder, a name with a
    line break. A FIFO, device, socket, broken link, non-UTF-8 name, unpaired sidecar or non-media
    file is a stray, except an IMF package's own XML (imf.py), recognised by content and carried as structure.
    """
    found = FolderDiscovery()
    root = source.resolve()
    files: dict[str, Entry] = {}
    for entry in walk(source, default_ignores=default_ignores):
        if entry.kind == EntryKind.IGNORED:
            found.ignored.append(entry.rel)
            continue
        if entry.kind == EntryKind.IN_PROGRESS:
            found.in_progress.append(entry.rel)
            continue
        if entry.kind == EntryKind.REMOVED:
            found.removed.append(entry.rel)
            continue
        if entry.kind == EntryKind.LINKED_FOLDER:
            raise InputError(f"{entry.path}: symbolic link to a folder; packages carry files only")
        if "\r" in entry.rel or "\n" in entry.rel:
            raise InputError(f"{entry.rel!r}: file name cannot be carried safely in a package")
        if entry.path.is_symlink():
            target = entry.path.resolve()
            if not target.is_relative_to(root):
                raise InputError(f"{entry.path}: symbolic link points outside {source}")
            if entry.kind != EntryKind.FILE:
                raise InputError(f"{entry.path}: symbolic link does not point to a file")
        files[entry.rel] = entry
    for rel in sorted(files):
        if _matches(rel, excludes):
            found.excluded.append(rel)
    kept = {rel: e for rel, e in files.items() if rel not in found.excluded}
    paired: set[str] = set()
    for rel, entry in kept.items():
        if rel.endswith(SIDECAR_SUFFIX):
            continue
        problem = _unsafe_name(rel) or (entry.reason if entry.kind != EntryKind.FILE else None)
        if problem:
            found.stray.append(Stray(rel, problem))
        elif is_media(entry.path):
            sidecar = rel + SIDECAR_SUFFIX
            has_sidecar = sidecar in kept and kept[sidecar].kind == EntryKind.FILE
            if has_sidecar:
                paired.add(sidecar)
            found.assets.append(Candidate(rel, entry.path, sidecar if has_sidecar else None))
        elif imf_document(entry.path) is not None:
            found.structure.append(rel)
        else:
            found.stray.append(Stray(rel, "not a media file"))
    found.structure.sort()
    found.assets = _with_sequences(found.assets, source)
    found.stray += [
        Stray(rel, "sidecar without its asset") for rel in kept if rel.endswith(SIDECAR_SUFFIX) and rel not in paired
    ]
    found.stray.sort(key=lambda s: s.rel)
    return found
