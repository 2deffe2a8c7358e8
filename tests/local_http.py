"""A test responder behind a small HTTP server bound to 127.0.0.1: POST a body, get `answer(body)` back.

Shared by the RFC 3161 time-stamp authority (tsa.py) and the OCSP responder (ocsp.py); each says which
request it takes (`accepts`) and how it answers (`answer`), this class serves, stops and cleans up.
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Self


class LocalResponder:
    """Subclasses set `name`, `reply_type`, `max_body`, `dir`, `_own_dir`, and define `answer`."""

    name = "responder"
    reply_type = "application/octet-stream"
    max_body = 64 * 1024
    dir: Path
    _own_dir: bool

    def __init__(self) -> None:
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def accepts(self, content_type: str) -> bool:
        """Whether a request's Content-Type is one this responder answers (default: any)."""
        return True

    def answer(self, body: bytes) -> bytes:
        raise NotImplementedError

    def serve(self, port: int = 0) -> Self:
        responder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if not responder.accepts(ctype) or not 0 < length <= responder.max_body:
                    self.send_error(400, f"expected a {responder.name} request body")
                    return
                try:
                    body = responder.answer(self.rfile.read(length))
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                    self.send_error(500, str(exc).splitlines()[0])
                    return
                self.send_response(200)
                self.send_header("Content-Type", responder.reply_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    @property
    def bound_port(self) -> int:
        assert self._server is not None, f"{self.name} not started"
        return int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Self:
        return self.serve()
