"""Where a ledger's rows live: SQLite (the embedded default) or PostgreSQL (a studio's shared ledger).

One interface, two backends. Both keep the same tables; the hash chain, the signed head and the
rollback guard are checked above this layer (genai_provenance.clearances.ledger), so tamper
evidence is the same whatever holds the rows. Writers serialise: SQLite takes BEGIN IMMEDIATE,
PostgreSQL a transaction-level advisory lock, and the chain append happens inside that transaction.
The schema is versioned (`schema_version`): numbered migrations are applied in order on open, in
one transaction, and a database newer than this code is refused.
"""

from __future__ import annotations

import atexit
import sqlite3
import uuid
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit, urlunsplit

from genai_provenance.errors import InputError

POSTGRES_SCHEMES = ("postgresql", "postgres")
POSTGRES_GUARD = "ledger.postgresql.head.json"  # the rollback guard for a PostgreSQL ledger, in the workspace
_LOCK_KEY = 0x6770_6C65_6467_6572  # pg_advisory_xact_lock key ("gpledger"): one per database


def state_path(ledger: Path) -> Path:
    """The rollback-guard file beside an SQLite ledger."""
    return ledger.with_name(ledger.name + ".head.json")


class LedgerError(InputError):
    """A ledger operation that cannot be done as asked."""


def is_postgres_url(value: str) -> bool:
    return value.split("://", 1)[0].lower() in POSTGRES_SCHEMES and "://" in value


def redact(url: str) -> str:
    """A PostgreSQL URL without its password (user, host, port and database stay)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hostinfo = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{hostinfo}"
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("password="))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _password(url: str) -> str | None:
    parts = urlsplit(url)
    found = [unquote(parts.password)] if parts.password else []
    found += [unquote(p.split("=", 1)[1]) for p in parts.query.split("&") if p.lower().startswith("password=")]
    return found[0] if found else None


@dataclass(frozen=True)
class LedgerLocation:
    """A ledger's database (an SQLite file or a postgresql:// URL) and its rollback-guard file."""

    target: str
    guard: Path

    @classmethod
    def sqlite(cls, path: Path) -> LedgerLocation:
        return cls(str(path), state_path(path))

    @classmethod
    def parse(cls, value: str, home: Path) -> LedgerLocation:
        """A postgresql:// URL (guard kept in `home`), else an SQLite file (relative to `home`)."""
        if is_postgres_url(value):
            return cls(value, home / POSTGRES_GUARD)
        path = Path(value).expanduser()
        return cls.sqlite(path if path.is_absolute() else home / path)

    @property
    def is_postgres(self) -> bool:
        return is_postgres_url(self.target)

    @property
    def display(self) -> str:
        """How messages name the ledger: its file, or its URL without the password."""
        return redact(self.target) if self.is_postgres else self.target

    def exists(self) -> bool:
        """An SQLite ledger exists once created; a PostgreSQL ledger is always there to ask."""
        return self.is_postgres or Path(self.target).exists()


Row = tuple[int, str, str, str | None, str, str, str]  # seq, id, kind, revokes, envelope, prev_hash, entry_hash

_RECORDS_V1 = """
CREATE TABLE IF NOT EXISTS ledger_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq {seq} PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('approval', 'consent', 'waiver', 'revocation')),
    revokes TEXT,
    envelope TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS one_revocation ON records (revokes) WHERE revokes IS NOT NULL;
CREATE TABLE IF NOT EXISTS head (one INTEGER PRIMARY KEY CHECK (one = 1), document TEXT NOT NULL)
"""


def _statements(script: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in script.split(";") if s.strip())


class LedgerStore(ABC):
    """The tables of one ledger. Placeholders are written `?`; a backend translates them."""

    migrations: ClassVar[tuple[tuple[str, ...], ...]]  # migration N is migrations[N - 1]

    def __init__(self, location: LedgerLocation) -> None:
        self.location = location

    @abstractmethod
    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Execute one statement; its rows (empty when it returns none)."""

    @abstractmethod
    def write(self) -> AbstractContextManager[None]:
        """A transaction that excludes every other writer, committed on success."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[None]:
        """A read transaction: a concurrent writer's commit is seen whole or not at all."""

    @abstractmethod
    def has_table(self, name: str) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...

    @property
    def version(self) -> int:
        """The schema version the code knows (the number of migrations)."""
        return len(self.migrations)

    def migrate(self) -> None:
        """Apply the missing migrations in order, in one writer transaction; refuse a newer database."""
        with self.write():
            current = 0
            if self.has_table("schema_version"):
                current = int(self.run("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0])
            if current > self.version:
                raise LedgerError(
                    f"{self.location.display}: ledger schema version {current} is newer than this "
                    f"genai-provenance supports ({self.version}); upgrade genai-provenance"
                )
            if current == self.version:
                return
            self.before_migrations()
            self.run(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            for number in range(current + 1, self.version + 1):
                for statement in self.migrations[number - 1]:
                    self.run(statement)
                if number == 1:
                    self.run(
                        "INSERT INTO ledger_info VALUES ('ledger_id', ?) ON CONFLICT DO NOTHING", (str(uuid.uuid4()),)
                    )
                self.run("INSERT INTO schema_version VALUES (?, CURRENT_TIMESTAMP)", (number,))

    @abstractmethod
    def before_migrations(self) -> None:
        """A backend's check on what it is about to migrate (inside the migration transaction)."""

    # --------------------------------------------------------------------------------- the queries

    def ledger_id(self) -> str:
        rows = self.run("SELECT value FROM ledger_info WHERE key = 'ledger_id'")
        return str(rows[0][0]) if rows else ""

    def rows(self) -> list[Row]:
        found = self.run("SELECT seq, id, kind, revokes, envelope, prev_hash, entry_hash FROM records ORDER BY seq")
        return [(int(r[0]), str(r[1]), str(r[2]), r[3], str(r[4]), str(r[5]), str(r[6])) for r in found]

    def head_document(self) -> str | None:
        rows = self.run("SELECT document FROM head WHERE one = 1")
        return str(rows[0][0]) if rows else None

    def tail(self) -> tuple[int, str] | None:
        rows = self.run("SELECT seq, entry_hash FROM records ORDER BY seq DESC LIMIT 1")
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def append(self, row: Row, added_at: str) -> None:
        self.run("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*row, added_at))

    def set_head(self, document: str) -> None:
        self.run(
            "INSERT INTO head VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET document = excluded.document", (document,)
        )

    def bump(self, key: str) -> int:
        """Increase the counter `key` by one (inside `write`) and return it."""
        rows = self.run("SELECT value FROM ledger_info WHERE key = ?", (key,))
        value = (int(rows[0][0]) if rows else 0) + 1
        self.run(
            "INSERT INTO ledger_info VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, str(value)),
        )
        return value


class SqliteStore(LedgerStore):
    """The embedded default: one file in the workspace (WAL, busy timeout)."""

    migrations = (_statements(_RECORDS_V1.format(seq="INTEGER")),)

    def __init__(self, location: LedgerLocation) -> None:
        super().__init__(location)
        path = Path(location.target)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout = 30000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{path}: not a usable ledger database ({exc})") from None

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()

    @contextmanager
    def write(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def has_table(self, name: str) -> bool:
        return bool(self.run("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def before_migrations(self) -> None:
        columns = {row[1] for row in self.run("PRAGMA table_info(records)")}
        if columns and "entry_hash" not in columns:
            raise LedgerError(
                f"{self.location.target}: created by an older version of genai-provenance (no hash chain); "
                "re-create it: move it away, then grant or import the records again"
            )

    def close(self) -> None:
        self._db.close()


class PostgresStore(LedgerStore):
    """A shared ledger on a PostgreSQL server (psycopg 3, the `postgres` extra)."""

    migrations = (_statements(_RECORDS_V1.format(seq="BIGINT")),)

    def __init__(self, location: LedgerLocation) -> None:
        super().__init__(location)
        try:
            import psycopg
        except ImportError:
            raise LedgerError(
                f"{location.display}: a PostgreSQL ledger needs the driver: pip install 'genai-provenance[postgres]'"
            ) from None
        self._errors: type[Exception] = psycopg.Error
        host = urlsplit(location.target).hostname or "the local socket"
        try:
            self._db = psycopg.connect(location.target, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            raise LedgerError(f"{location.display}: cannot connect to PostgreSQL at {host}: {self._say(exc)}") from None
        try:
            self.migrate()
        except BaseException:
            self._db.close()
            raise

    def _say(self, exc: Exception) -> str:
        """A driver message on one line, never with the password in it."""
        text = " ".join(str(exc).split()) or exc.__class__.__name__
        password = _password(self.location.target)
        return text.replace(password, "***") if password else text

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            cursor = self._db.execute(sql.replace("?", "%s"), params or None)
            return list(cursor.fetchall()) if cursor.description else []
        except self._errors as exc:
            raise LedgerError(f"{self.location.display}: {self._say(exc)}") from None

    @contextmanager
    def write(self) -> Iterator[None]:
        self.run("BEGIN")
        try:
            self.run("SELECT pg_advisory_xact_lock(?)", (_LOCK_KEY,))
            yield
        except BaseException:
            with suppress(Exception):
                self._db.execute("ROLLBACK")
            raise
        self.run("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            with suppress(Exception):
                self._db.execute("COMMIT")

    def has_table(self, name: str) -> bool:
        return self.run("SELECT to_regclass(?)", (name,))[0][0] is not None

    def before_migrations(self) -> None:
        """Nothing to check: PostgreSQL ledgers began at schema version 1."""

    def close(self) -> None:
        self._db.close()


_OPEN: weakref.WeakSet[LedgerStore] = weakref.WeakSet()


def open_store(location: LedgerLocation) -> LedgerStore:
    store = PostgresStore(location) if location.is_postgres else SqliteStore(location)
    _OPEN.add(store)
    return store


def _close_still_open() -> None:
    """Close the stores still open as the process ends, as the interpreter's teardown would have: SQLite
    then checkpoints its write-ahead log into the ledger file and removes it, and PostgreSQL sees a clean
    disconnect. (The CLI ends without that teardown: cli/entry.py.)"""
    for store in list(_OPEN):
        with suppress(Exception):
            store.close()
    _OPEN.clear()


atexit.register(_close_still_open)
