"""Direct access to a test ledger's tables, whichever backend holds them (what an attacker with
database rights can do): SQLite through sqlite3, PostgreSQL through psycopg. SQL uses `?`."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from genai_provenance.clearances.ledger_store import LedgerLocation, redact
from genai_provenance.settings import ENV_LEDGER
from genai_provenance.workspace import MARKER, Workspace

__all__ = ["ENV_LEDGER", "LedgerDb"]


@dataclass
class LedgerDb:
    ws: Workspace
    url: str | None  # None: the workspace's SQLite file

    @property
    def backend(self) -> str:
        return "postgresql" if self.url else "sqlite"

    @property
    def location(self) -> LedgerLocation:
        return LedgerLocation.parse(self.url, self.ws.home) if self.url else LedgerLocation.sqlite(self.ws.ledger_path)

    @property
    def where(self) -> str:
        """How messages name the ledger."""
        return redact(self.url) if self.url else str(self.ws.ledger_path)

    @property
    def args(self) -> list[str]:
        return ["--ledger", self.url] if self.url else []

    def configure(self) -> LedgerDb:
        """Name the ledger in the workspace's workspace.json, so every command with --home uses it."""
        if self.url:
            marker = self.ws.home / MARKER
            marker.write_text(json.dumps({**json.loads(marker.read_text()), "ledger": self.url}))
        return self

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.url is None:
            db = sqlite3.connect(self.ws.ledger_path)
            try:
                with db:
                    return db.execute(sql, params).fetchall()
            finally:
                db.close()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as pg:
            cursor = pg.execute(sql.replace("?", "%s"), params or None)  # type: ignore[arg-type]
            return list(cursor.fetchall()) if cursor.description else []

    def sql(self, *statements: str) -> None:
        """Run statements in one transaction."""
        if self.url is None:
            db = sqlite3.connect(self.ws.ledger_path)
            with db:
                for statement in statements:
                    db.execute(statement)
            db.close()
            return
        import psycopg

        with psycopg.connect(self.url) as pg, pg.transaction():
            for statement in statements:
                pg.execute(statement)  # type: ignore[arg-type]
