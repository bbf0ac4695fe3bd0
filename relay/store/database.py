"""The one database object every part of the directory works through: engine, transactions, clock.

Two engines, one set of portable queries:

- **SQLite** (the embedded default) in WAL mode with ``synchronous=FULL`` so that a committed
  audit record survives a crash and the manage CLI can write while the relay runs; write
  transactions start with ``BEGIN IMMEDIATE`` so a read-then-write transaction never fails on a
  lock upgrade.
- **PostgreSQL** (the directory several relays share) through psycopg 3.

The store's limit checks and check-then-insert steps (a host's 64 home PCs, a user's grants,
"this host ID is not enrolled yet") read, decide, then write, and are correct only if no other
writer commits in between: SQLite's ``BEGIN IMMEDIATE`` gives exactly that, one writer at a
time. On PostgreSQL every write transaction takes the same single writer lock as its first
statement, a transaction-scoped advisory lock (:data:`PG_WRITE_LOCK_KEY`), released at commit or
rollback. Chosen over the alternatives because:

- SERIALIZABLE needs the whole transaction re-run on a serialisation failure, and the store's
  write transactions are ``with`` blocks that cannot be re-run from the outside;
- ``SELECT ... FOR UPDATE`` on each check's parent row would work, but every present and future
  check would have to lock the right row, and a missed one is a silent race;
- the writes are few and short (logins, admin actions, audit records: milliseconds each), so
  one writer at a time costs nothing at this service's rate, while reads never wait for it.

Transactions stay READ COMMITTED, which matters: each statement sees everything committed
before it, so once a transaction holds the lock it sees every earlier writer's work (under
REPEATABLE READ its snapshot would date from before the wait).

A change and its audit record must be committed together or not at all (a crash between two
commits would leave a change nobody recorded). :meth:`Database.atomic` makes that possible
without the aggregates knowing of each other: inside an atomic block every write transaction a
store method opens is one and the same, committed when the block ends and rolled back if an
error leaves it. The first write opens it (so slow work done before, such as hashing a code,
holds no lock) and takes the writer lock once; later writes join it, each as a savepoint so that
an error it raises undoes its own part only, as a transaction of its own would; reads after the
first write go through it too and see what the block wrote. A block belongs to the thread that
opened it: a write from another thread would wait for the lock the block holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from relay.store import migrate
from relay.store.errors import InvalidInput

# How long a writer waits for another (the relay vs. the manage CLI) before giving up; writes
# take milliseconds, so 30 s only ever runs out if something is badly stuck.
SQLITE_BUSY_TIMEOUT_S = 30.0

# The advisory lock every PostgreSQL write transaction holds (see the module docstring); any
# fixed 64-bit number works as long as nothing else on the database uses it ("TELEWORK").
PG_WRITE_LOCK_KEY = 0x54454C45574F524B

# The engines the directory runs on: the SQLAlchemy backend names.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
# The driver a ``postgresql://`` URL without one gets.
POSTGRESQL_DRIVER = "psycopg"

# Execution option that marks a connection's transactions as writes (BEGIN IMMEDIATE on SQLite).
_WRITE_OPTION = "telework_write"

# Where the directory takes the time when a caller passes no ``now``: POSIX seconds.
Clock = Callable[[], float]


class _AtomicBlock:
    """One thread's :meth:`Database.atomic` block: its write transaction, once opened."""

    def __init__(self) -> None:
        self.stack = ExitStack()  # ends the transaction: commit, or rollback on an error
        self.conn: sa.Connection | None = None
        self.after_commit: list[Callable[[], None]] = []  # see Database.after_commit
        # Whether each write() in the block is a savepoint of its own (see write_group).
        self.savepoints = True


class Database:
    """A migrated engine, its read and write transactions, and the clock for default times."""

    def __init__(self, engine: sa.Engine, *, clock: Clock = time.time) -> None:
        """``engine`` comes from :func:`migrated_engine`."""
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITE_OPTION: True})
        self._clock = clock
        self._blocks = threading.local()  # .block: the thread's open atomic block, if any
        # SQLite lets one writer in at a time and makes the others poll (sleeping between
        # tries): with the relay's worker threads all writing at once (thousands of office PCs
        # coming online) most of the time went to those sleeps. Our own writers queue here
        # instead; another process (manage) still meets the busy timeout as before.
        self._write_turn: AbstractContextManager[Any] = (
            threading.RLock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    @property
    def shared(self) -> bool:
        """Whether other relays may use this database too (every engine but embedded SQLite)."""
        return self._engine.dialect.name != "sqlite"

    def now(self, given: float | None = None) -> float:
        """``given`` if the caller said when, else the time on the clock."""
        return self._clock() if given is None else given

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A transaction that only reads (committed on leaving, rolled back on an error).

        In an atomic block that has written, the block's transaction: it sees those writes."""
        block = self._block()
        if block is not None and block.conn is not None:
            yield block.conn
            return
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction that writes, the only writer while it runs: on SQLite it takes the
        write lock at BEGIN IMMEDIATE, on PostgreSQL the advisory writer lock.

        In an atomic block, a savepoint in the block's one transaction (opened by the first)."""
        block = self._block()
        if block is None:
            with self._write_turn, self._writer.begin() as conn:
                yield conn
            return
        if block.conn is None:
            block.stack.enter_context(self._write_turn)  # held until the block ends
            block.conn = block.stack.enter_context(self._writer.begin())
        if not block.savepoints:
            yield block.conn
            return
        with block.conn.begin_nested():
            yield block.conn

    @contextmanager
    def bookkeeping(self) -> Iterator[sa.Connection]:
        """A transaction for a relay node's own rows (its heartbeat, the office PCs it holds,
        its live sessions): single-row upserts and deletes that no check reads, so on
        PostgreSQL they skip the writer lock and never queue behind logins. On SQLite (one
        node) it is an ordinary write."""
        if not self.shared:
            with self.write() as conn:
                yield conn
            return
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A block whose writes (in this thread) are one transaction: all of them are
        committed when it ends, none if an error leaves it (see the module docstring).

        A block inside another is part of it: the outer one commits."""
        if self._block() is not None:
            yield
            return
        block = _AtomicBlock()
        self._blocks.block = block
        try:
            with block.stack:
                yield
        finally:
            self._blocks.block = None
        for action in block.after_commit:  # committed: not reached if it rolled back
            action()

    def write_group(self, changes: Sequence[Callable[[], None]]) -> list[Exception | None]:
        """Run ``changes`` in one write transaction, committed once: one disk sync for all
        (group commit). Each change is all or nothing on its own: one that raises is undone
        alone, and its exception takes its place in the list returned (None for each change
        written). A failure of the database itself (``OperationalError``) undoes them all
        and is raised.

        The changes are first run without a savepoint each (a savepoint costs two statements
        more per change); only if one raises are they all undone and run again, each in its
        own savepoint. So a change must be a write that can be run again (as directory writes
        given their time are), and must not catch its own database errors. It commits by
        itself, so it is not for use inside an atomic block."""
        if self._block() is not None:
            raise RuntimeError("write_group commits by itself: not inside an atomic block")
        try:
            with self.atomic():
                block = self._block()
                assert block is not None  # atomic() just opened it
                block.savepoints = False
                for change in changes:
                    change()
            return [None] * len(changes)
        except sa.exc.OperationalError:
            raise
        except Exception:  # noqa: S110 (one change's own error: found below, change by change)
            pass
        outcomes: list[Exception | None] = []
        with self.atomic():
            block = self._block()
            assert block is not None
            for change in changes:
                announced = len(block.after_commit)
                try:
                    with self.write():
                        change()
                except sa.exc.OperationalError:
                    raise
                except Exception as exc:  # this change's own error: the others stand
                    del block.after_commit[announced:]  # what it did is undone: not announced
                    outcomes.append(exc)
                else:
                    outcomes.append(None)
        return outcomes

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once what this thread just wrote is committed: now, or when its
        atomic block commits; never if the block rolls back. ``action`` must not raise."""
        block = self._block()
        if block is None:
            action()
        else:
            block.after_commit.append(action)

    def _block(self) -> _AtomicBlock | None:
        """This thread's open atomic block."""
        block: _AtomicBlock | None = getattr(self._blocks, "block", None)
        return block


def checked_url(url: str) -> sa.URL:
    """``url`` parsed, if it names a supported engine; ``postgresql://`` gets psycopg 3.

    Raises :class:`InvalidInput` (never echoing the URL, which may hold a password).
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise InvalidInput("the database URL is not a valid SQLAlchemy URL") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise InvalidInput(f"unsupported database {backend!r}: use sqlite or postgresql")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername=f"postgresql+{POSTGRESQL_DRIVER}")
    return parsed


def migrated_engine(url: str) -> sa.Engine:
    """An engine for a SQLite or PostgreSQL URL, migrated to the newest schema.

    Several relays starting at once on one PostgreSQL database migrate one after the other:
    the migration runs in a write transaction, under the writer lock.
    """
    engine = _create_engine(url)
    try:
        with engine.execution_options(**{_WRITE_OPTION: True}).begin() as conn:
            migrate.upgrade(conn)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with the writer lock of its backend."""
    parsed = checked_url(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgresql_engine(parsed)
    return _sqlite_engine(parsed)


def _postgresql_engine(url: sa.URL) -> sa.Engine:
    """A pooled engine whose write transactions first take the advisory writer lock."""
    engine = sa.create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # psycopg prepares a query run five times, and PostgreSQL then plans it once for any
        # parameters: for the admin lists of a large municipality that generic plan was 5-10
        # times slower (bench/directory_scale.py) than one made for the tenant at hand.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get(_WRITE_OPTION, False):
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_WRITE_LOCK_KEY)))

    return engine


def _sqlite_engine(parsed: sa.URL) -> sa.Engine:
    """WAL + FULL sync + foreign keys + explicit BEGINs (IMMEDIATE for writes)."""
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
