"""The relay's directory: one :class:`Directory` made of the store's aggregates over one database.

Synchronous on purpose (SQLAlchemy Core 2.x); the relay calls it from a thread executor. The
records, name helpers and limits are imported from the aggregate modules that define them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import sqlalchemy as sa

from core.crypto.secret_box import SecretBox
from relay.store.admin_tokens import AdminTokens
from relay.store.admins import Admins
from relay.store.audit import AuditLog
from relay.store.bandwidth import BandwidthLimits
from relay.store.database import Clock, Database, migrated_engine
from relay.store.grants import Grants
from relay.store.home_pcs import HomePcs
from relay.store.hosts import Hosts
from relay.store.lockouts import Lockouts
from relay.store.nodes import ClusterNodes
from relay.store.policies import Policies
from relay.store.signed_devices import SignedDevices
from relay.store.staff import Staff
from relay.store.syslog import SyslogSettings
from relay.store.tenants import Tenants
from relay.store.tickets import ResumeTickets
from relay.store.totp_seeds import TotpSeeds
from storage.secret_key import load_or_create_secret_box

# File names inside the data directory.
DB_FILENAME = "directory.sqlite3"
SECRET_KEY_FILENAME = "directory.key"  # noqa: S105 (a file name, not a secret)
# Owner-only permissions: the database holds hashes, sealed seeds and the audit log.
DATA_DIR_MODE = 0o700
DB_FILE_MODE = 0o600


class Directory(
    Tenants,
    Staff,
    Hosts,
    Grants,
    ResumeTickets,
    AuditLog,
    Admins,
    Policies,
    HomePcs,
    BandwidthLimits,
    ClusterNodes,
    Lockouts,
    AdminTokens,
    SyslogSettings,
    SignedDevices,
):
    """Tenants, users, hosts, grants, tickets, the audit log, admins, policies, home PCs,
    bandwidth limits, the relay cluster's nodes, shared lockouts, admin sign-ins and syslog
    collectors, over one :class:`Database`."""

    def __init__(
        self, engine: sa.Engine, secret_box: SecretBox, *, clock: Clock = time.time
    ) -> None:
        """Use :meth:`open` or :meth:`from_url`; this expects a migrated, configured engine.

        ``clock`` gives the time where a caller passes no ``now``.
        """
        self._db = Database(engine, clock=clock)
        self.audit_listeners = []
        self._seeds = TotpSeeds(secret_box)

    @classmethod
    def open(
        cls, data_dir: Path, *, database: str | None = None, clock: Clock = time.time
    ) -> Directory:
        """The relay's store, its key file in ``data_dir`` (created).

        The database is ``directory.sqlite3`` in ``data_dir`` unless ``database`` gives a
        PostgreSQL (or SQLite) URL; relays sharing one database must share the key file too.
        """
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True, mode=DATA_DIR_MODE)
        box = load_or_create_secret_box(data_dir / SECRET_KEY_FILENAME)
        if database is not None:
            return cls.from_url(database, box, clock=clock)
        db_path = data_dir / DB_FILENAME
        # Create the file ourselves so it is private from the start; SQLite gives its -wal and
        # -shm files the same permissions as the database.
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT, DB_FILE_MODE))
        url = sa.URL.create("sqlite", database=str(db_path))
        return cls.from_url(url.render_as_string(hide_password=False), box, clock=clock)

    @classmethod
    def from_url(cls, url: str, secret_box: SecretBox, *, clock: Clock = time.time) -> Directory:
        """A store at any SQLAlchemy URL (SQLite or PostgreSQL), migrated to the newest schema."""
        return cls(migrated_engine(url), secret_box, clock=clock)

    @property
    def shared(self) -> bool:
        """Whether other relays may use this directory's database too."""
        return self._db.shared

    def atomic(self) -> AbstractContextManager[None]:
        """A block whose directory writes (in this thread) are committed together when it ends,
        or not at all if an error leaves it: a change and its audit record, say. See
        :meth:`Database.atomic <relay.store.database.Database.atomic>`."""
        return self._db.atomic()

    def write_group(self, changes: Sequence[Callable[[], None]]) -> list[Exception | None]:
        """Directory writes committed together, each all or nothing on its own: see
        :meth:`Database.write_group <relay.store.database.Database.write_group>`."""
        return self._db.write_group(changes)

    def close(self) -> None:
        """Close every pooled connection."""
        self._db.close()

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
