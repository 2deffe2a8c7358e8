"""A throwaway PostgreSQL server for the shared-ledger tests: initdb in a temporary folder, listening
on 127.0.0.1 only (and a socket in that folder), stopped at the end of the session.

When PostgreSQL is not installed or will not start, `start` raises Unavailable saying why, and the
PostgreSQL-parametrised tests skip with that reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class Unavailable(Exception):
    """PostgreSQL cannot be run here."""


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise Unavailable(f"PostgreSQL is not installed ({name} not found; make system-deps installs it)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    folder: Path
    port: int
    user: str
    pg_ctl: str
    as_user: list[str]  # runuser prefix when running as root (initdb and postgres refuse root)

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        auth = f"{self.user}:{password}" if password else self.user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"ledger_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as db:
            for statement in statements:
                db.execute(statement)  # type: ignore[arg-type]

    def _kick(self, name: str) -> str:
        return f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"

    def copy_database(self, url: str) -> str:
        """A copy of the database at `url` (what a backup keeps); its URL."""
        source, name = urlsplit(url).path.lstrip("/"), f"copy_{uuid.uuid4().hex[:12]}"
        self._admin(self._kick(source), f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return self.url(name)

    def replace_database(self, url: str, by: str | None) -> None:
        """Drop the database at `url`, then re-create it empty or as a copy of `by` (a restore)."""
        name = urlsplit(url).path.lstrip("/")
        template = f' TEMPLATE "{urlsplit(by).path.lstrip("/")}"' if by else ""
        self._admin(self._kick(name), f'DROP DATABASE "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"{template}')

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )


def start(folder: Path) -> PgServer:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    as_user: list[str] = []
    user = os.environ.get("USER") or "postgres"
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            raise Unavailable("running as root and runuser is missing (initdb refuses root)")
        as_user, user = ["runuser", "-u", "postgres", "--"], "postgres"
        folder.chmod(0o755)
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    init = subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", user], capture_output=True, text=True
    )
    if init.returncode != 0:
        raise Unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    run = subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "-t", "60", "start"],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        log = (folder / "log").read_text(errors="replace")[-300:] if (folder / "log").exists() else run.stderr
        raise Unavailable(f"PostgreSQL would not start: {log.strip()}")
    return PgServer(folder, port, user, pg_ctl, as_user)
