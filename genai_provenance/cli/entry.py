"""The console script and `python -m genai_provenance`: the CLI, then a quick exit.

Once a command is done, the interpreter's normal shutdown frees every module and object one by one:
0.1 to 0.15 s per run here, a quarter of checking one still and serial time that no worker count
shortens. `leave` does what matters of that shutdown (exit handlers, which also remove temporary
folders; flushing stdout and stderr) and then ends the process. Whenever a thread that is not a daemon
still runs (normal shutdown would wait for it), it exits the normal way instead.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

from genai_provenance.cli import main


def run() -> NoReturn:
    try:
        main()
    except SystemExit as exc:
        leave(exc.code)
    leave(0)


def leave(code: object) -> NoReturn:
    """Exit with `code` as sys.exit(code) would, without tearing the interpreter down."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others:
        sys.exit(code)  # type: ignore[arg-type]  # normal shutdown waits for them
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader of a pipe went away, or the stream was closed
            status = status or 1
    os._exit(status)
