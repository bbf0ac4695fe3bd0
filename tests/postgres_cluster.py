"""A throwaway PostgreSQL server for tests and benches: ``initdb`` and ``pg_ctl`` into a temp dir.

The server listens only on a unix socket inside its own directory (no TCP port, so several test
sessions on one machine never collide) and trusts local connections. As root it runs as the
``postgres`` system user, because PostgreSQL refuses to run as root. Durability is switched
off (``fsync=off``): the data is thrown away at the end, and it keeps a test database cheap.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

# Debian keeps initdb and pg_ctl out of PATH, under /usr/lib/postgresql/<major>/bin.
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# The system user the Debian package creates; the server runs as it when we are root.
SERVER_USER = "postgres"
# Seconds pg_ctl waits for the server to start or stop.
PG_CTL_TIMEOUT_S = 60
# Test-only settings: no durability, few resources.
SERVER_OPTIONS = (
    "-c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=200 -c shared_buffers=32MB"
)


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None if PostgreSQL is not installed."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    versions = sorted(glob.glob(DEBIAN_BIN_GLOB), key=lambda p: int(Path(p).parent.name))
    for candidate in reversed(versions):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def missing_reason() -> str | None:
    """Why a cluster cannot be started here (for a skip message), or None if it can."""
    if find_bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root but there is no {SERVER_USER!r} system user to run PostgreSQL"
    return None


class PostgresCluster:
    """One running server; :meth:`empty_schema` hands out empty places for a directory."""

    def __init__(self, bin_dir: Path, base_dir: Path, options: str = "") -> None:
        self._bin_dir = bin_dir
        self._options = options
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.socket_dir = base_dir
        self._names = itertools.count(1)

    def _run(self, tool: str, *args: str) -> None:
        user = SERVER_USER if os.geteuid() == 0 else None
        done = subprocess.run(
            [str(self._bin_dir / tool), *args],
            user=user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.base_dir,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {args[0]} failed: {done.stderr.strip()}")

    def start(self) -> None:
        self._run(
            "initdb",
            "-D", str(self.data_dir),
            "-U", SERVER_USER,
            "-A", "trust",
            "-E", "UTF8",
            # C collation sorts by code point, as SQLite does; docs/postgresql.md says the same.
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        self._run(
            "pg_ctl",
            "start",
            "-D", str(self.data_dir),
            "-l", str(self.base_dir / "server.log"),
            "-w", "-t", str(PG_CTL_TIMEOUT_S),
            "-o",
            f"{SERVER_OPTIONS} {self._options} -c unix_socket_directories='{self.socket_dir}'",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once (the data is thrown away anyway)."""
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w")

    def url(self, database: str = "postgres", *, schema: str | None = None) -> str:
        """A SQLAlchemy URL (psycopg 3) for ``database`` on this server, over its socket;
        with ``schema``, connections put that schema first on their search path."""
        query = {"host": str(self.socket_dir)}
        if schema is not None:
            query["options"] = f"-csearch_path={schema}"
        return sa.URL.create(
            "postgresql+psycopg", username=SERVER_USER, database=database, query=query
        ).render_as_string(hide_password=False)

    @contextmanager
    def empty_schema(self, prefix: str = "test") -> Iterator[str]:
        """The URL of a new empty schema, dropped on leaving with everything in it.

        A schema rather than a database per test: CREATE DATABASE forces a checkpoint and takes
        a second or more on a busy machine, a schema takes milliseconds. The directory's SQL
        names no schema, so to it a schema on the search path is a database of its own.
        """
        name = f"{prefix}_{next(self._names)}"
        # NullPool: each statement's connection is closed at once, none is left to the GC.
        admin = sa.create_engine(
            self.url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
            yield self.url(schema=name)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
        finally:
            admin.dispose()


@contextmanager
def running_cluster(options: str = "") -> Iterator[PostgresCluster]:
    """A started cluster in a new temp dir, stopped and deleted on leaving. ``options`` are
    more ``-c name=value`` server settings, after (so overriding) :data:`SERVER_OPTIONS`.

    Raises RuntimeError with :func:`missing_reason` where PostgreSQL cannot run.
    """
    reason = missing_reason()
    bin_dir = find_bin_dir()
    if reason is not None or bin_dir is None:
        raise RuntimeError(reason)
    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    base_dir = Path(tempfile.mkdtemp(prefix="telework-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base_dir, SERVER_USER)
    cluster = PostgresCluster(bin_dir, base_dir, options)
    try:
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)
