"""The one database object every part of the directory works through: engine, transactions, clock.

SQLite in WAL mode with ``synchronous=FULL`` so that a committed audit record survives a crash
and the manage CLI can write while the relay runs; write transactions start with
``BEGIN IMMEDIATE`` so a read-then-write transaction never fails on a lock upgrade. Any other
SQLAlchemy URL (PostgreSQL) gets a plain pooled engine: the queries use only portable SQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from relay.store import migrate

# How long a writer waits for another (the relay vs. the manage CLI) before giving up; writes
# take milliseconds, so 30 s only ever runs out if something is badly stuck.
SQLITE_BUSY_TIMEOUT_S = 30.0

# Execution option that marks a connection's transactions as writes (BEGIN IMMEDIATE on SQLite).
_WRITE_OPTION = "telework_write"

# Where the directory takes the time when a caller passes no ``now``: POSIX seconds.
Clock = Callable[[], float]


class Database:
    """A migrated engine, its read and write transactions, and the clock for default times."""

    def __init__(self, engine: sa.Engine, *, clock: Clock = time.time) -> None:
        """``engine`` comes from :func:`migrated_engine`."""
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITE_OPTION: True})
        self._clock = clock

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def now(self, given: float | None = None) -> float:
        """``given`` if the caller said when, else the time on the clock."""
        return self._clock() if given is None else given

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A transaction that only reads (committed on leaving, rolled back on an error)."""
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction that writes; on SQLite it takes the write lock at BEGIN IMMEDIATE."""
        with self._writer.begin() as conn:
            yield conn


def migrated_engine(url: str) -> sa.Engine:
    """An engine for any SQLAlchemy URL (SQLite or PostgreSQL), migrated to the newest schema."""
    engine = _create_engine(url)
    try:
        with engine.execution_options(**{_WRITE_OPTION: True}).begin() as conn:
            migrate.upgrade(conn)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _create_engine(url: str) -> sa.Engine:
    """An engine for ``url``; for SQLite, WAL + FULL sync + foreign keys + explicit BEGINs."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    engine = sa.create_engine(
        parsed,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (its implicit BEGIN comes too
        # late and is never IMMEDIATE); SQLAlchemy's begin event below issues it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if parsed.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it returns, so the audit log survives a crash.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
