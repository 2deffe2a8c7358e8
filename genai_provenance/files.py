"""Files in and out: only regular files are read; outputs are written whole or not at all.

Outputs go to a temporary file beside the target, then a rename. Our temporary files are named
`.NAME.genai-provenance-<host>-<pid>-<hex>.part` so that a run killed mid-write leaves something we
recognise: the next write into that folder (and discovery) removes those whose process is dead, when
it was this machine that wrote them.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import os
import re
import secrets
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from genai_provenance.errors import InputError

NAME_MAX = 255
TEMP_MARK = ".genai-provenance-"
TEMP_SUFFIX = ".part"
_TEMP_NAME = re.compile(r"^\..*\.genai-provenance-([0-9a-f]{8})-(\d+)-[0-9a-f]{8}\.part\Z", re.DOTALL)


@functools.cache
def host_tag() -> str:
    """Eight hex digits naming this machine: a pid means something only on the machine that wrote it
    (on storage shared by several machines, another machine's live writer must not look dead)."""
    try:
        machine = Path("/etc/machine-id").read_text(encoding="ascii").strip()
    except OSError:
        machine = ""
    return hashlib.sha256(f"{socket.gethostname()}|{machine}".encode()).hexdigest()[:8]


_OS_PROBLEMS = {
    errno.ENOENT: "no such file",
    errno.ENOTDIR: "no such file (a part of the path is not a folder)",
    errno.ELOOP: "symbolic link loop",
    errno.ENAMETOOLONG: "file name too long",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EIO: "input/output error",
}


def os_problem(exc: OSError) -> str:
    """A short phrase for an OSError (no path, no traceback)."""
    if exc.errno in _OS_PROBLEMS:
        return _OS_PROBLEMS[exc.errno]
    return (exc.strerror or exc.__class__.__name__).lower()


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def regular_file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a regular file (without opening it), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return os_problem(exc)
    except ValueError:  # an embedded NUL
        return "invalid file name"
    if stat.S_ISREG(mode):
        return None
    return f"is {kind_of(mode)}, expected a regular file"


def require_regular(path: Path, what: str = "") -> None:
    """Raise InputError naming `path` unless it is a regular file (a FIFO or device would hang a read)."""
    problem = regular_file_problem(path)
    if problem:
        label = f"{what} " if what else ""
        raise InputError(f"{path}: {label}{problem}")


def open_regular(path: Path, what: str = "") -> io.BufferedReader:
    """Open a regular file for reading; checked again after opening (no swap for a FIFO in between)."""
    require_regular(path, what)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"{path}: {what + ' ' if what else ''}{os_problem(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{path}: {what + ' ' if what else ''}is {kind_of(mode)}, expected a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, what: str = "") -> bytes:
    with open_regular(path, what) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({os_problem(exc)})") from None


# --------------------------------------------------------------------------- our temporary files


@dataclass(frozen=True)
class TempFile:
    """One of our temporary files found in a folder."""

    path: Path
    pid: int
    alive: bool


def pid_alive(pid: int) -> bool:
    """Whether process `pid` still runs; a zombie (exited, not yet reaped: a worker whose forkserver died) does
    not, and never writes again."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:  # no /proc (macOS), or it just went
        return False
    return stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] == "Z"  # the state follows "(comm) "


def temp_owner(name: str) -> int | None:
    """The pid in one of our temporary file names when this machine wrote it; -1 for another machine's
    (its writer cannot be checked from here: treat it as alive); None when `name` is not one of ours."""
    match = _TEMP_NAME.match(name)
    if not match:
        return None
    return int(match.group(2)) if match.group(1) == host_tag() else -1


def temp_alive(pid: int) -> bool:
    return pid == -1 or pid_alive(pid)


def temp_name(target_name: str) -> str:
    """`.NAME.genai-provenance-<pid>-<hex>.part`, NAME shortened so the whole fits NAME_MAX bytes."""
    return hidden_sibling(target_name, f"{TEMP_MARK}{host_tag()}-{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")


def hidden_sibling(target_name: str, tail: str) -> str:
    """`.NAME<tail>`, NAME cut so the whole name fits NAME_MAX bytes (a 255-byte target name still works)."""
    room = NAME_MAX - len(os.fsencode(tail)) - 1  # the leading dot
    short = os.fsencode(target_name)[:room]  # a cut inside a UTF-8 sequence round-trips as surrogateescape
    return f".{os.fsdecode(short)}{tail}"


def temp_files(folder: Path) -> list[TempFile]:
    """Our temporary files directly in `folder`, with whether their writer is still running."""
    found = []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        pid = temp_owner(name)
        if pid is not None:
            found.append(TempFile(folder / name, pid, temp_alive(pid)))
    return sorted(found, key=lambda t: t.path.name)


def sweep_dead_temps(folder: Path) -> list[Path]:
    """Remove our temporary files in `folder` left by processes that no longer exist."""
    removed = []
    for temp in temp_files(folder):
        if not temp.alive:
            with contextlib.suppress(OSError):
                temp.path.unlink()
                removed.append(temp.path)
    return removed


def refuse_existing(target: Path, force: bool) -> None:
    """An output that exists is replaced only with --force."""
    if target.exists() and not force:
        raise InputError(f"{target}: already exists (use --force to replace it)")


def check_target_name(target: Path) -> None:
    if len(os.fsencode(target.name)) > NAME_MAX:
        raise InputError(f"{target}: file name too long (more than {NAME_MAX} bytes)")


@contextlib.contextmanager
def staged_path(target: Path, *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success rename it into place, else delete it."""
    check_target_name(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{target.parent}: cannot create folder ({os_problem(exc)})") from None
    sweep_dead_temps(target.parent)
    tmp = target.parent / temp_name(target.name)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise InputError(f"{target}: cannot write ({os_problem(exc)})") from None
    os.close(fd)
    try:
        os.chmod(tmp, mode)
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes(target: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Atomically write `data`; `mode` is applied before any byte is written (0600 for keys)."""
    try:
        with staged_path(target, mode=mode) as tmp, open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise InputError(f"{target}: cannot write ({os_problem(exc)}); nothing was written") from None


def write_text(target: Path, text: str, *, mode: int = 0o644) -> None:
    write_bytes(target, text.encode("utf-8"), mode=mode)
