"""The relay cluster's shared state: the live nodes, which node holds each online office PC,
and every node's live sessions.

A node's row is its lease: it renews it every heartbeat, and once its expiry passes the node
is dead for everyone — the office PCs it held are offline until they come back elsewhere,
and the first live node that notices ends the sessions it was running (their records say so).
A node writes only its own rows, outside the writer lock (:meth:`Database.bookkeeping`); ending a
dead node's sessions is a change with audit records, under the lock like every change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from relay.store.database import Database
from relay.store.errors import InvalidInput
from relay.store.schema import (
    MAX_NODE_ADDRESS_LEN,
    MAX_NODE_ID_LEN,
    cluster_sessions,
    host_locations,
    relay_nodes,
)


@dataclass(frozen=True)
class NodeInfo:
    """A relay node as the cluster sees it."""

    node_id: str
    address: str
    hosts: int
    sessions: int
    max_hosts: int
    draining: bool
    heartbeat_at: float

    @property
    def full(self) -> bool:
        return self.hosts >= self.max_hosts


@dataclass(frozen=True)
class ClusterSession:
    """A live session on some node, as the admin API of any node lists it."""

    session_id: str
    node_id: str
    tenant: str
    user: str
    host_id: str
    source: str
    started_at: float
    bytes_to_viewer: int
    bytes_to_host: int
    updated_at: float


def check_node_id(node_id: str) -> str:
    """A node ID as the cluster stores it; InvalidInput if it cannot be one."""
    if not node_id or len(node_id) > MAX_NODE_ID_LEN or not node_id.isprintable():
        raise InvalidInput(f"a node ID is 1 to {MAX_NODE_ID_LEN} printable characters")
    if not node_id.isascii() or any(c.isspace() for c in node_id):
        raise InvalidInput("a node ID is ASCII without spaces")
    return node_id


def _upsert(
    conn: sa.Connection, table: sa.Table, values: dict[str, Any], key: str, where: Any = None
) -> None:
    """Insert ``values`` or, if a row with the same ``key`` exists, overwrite it (only where
    ``where`` holds, if given)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table).values(**values)
    update = {name: value for name, value in values.items() if name != key}
    conn.execute(insert.on_conflict_do_update(index_elements=[key], set_=update, where=where))


def _node(row: Any) -> NodeInfo:
    return NodeInfo(
        row.node_id,
        row.address,
        row.hosts,
        row.sessions,
        row.max_hosts,
        row.draining,
        row.heartbeat_at,
    )


def _live(now: float) -> Any:
    return relay_nodes.c.expires_at > now


class ClusterNodes:
    """Registering nodes, their heartbeats, office PC locations and live sessions."""

    _db: Database

    # -- nodes ---------------------------------------------------------------------------------

    def register_node(
        self, node_id: str, address: str, max_hosts: int, lease_s: float, now: float
    ) -> None:
        """Write this node's row, with a lease of ``lease_s`` (call :meth:`expire_node` and
        end what a previous run under this ID left first)."""
        check_node_id(node_id)
        if not address or len(address) > MAX_NODE_ADDRESS_LEN:
            raise InvalidInput(f"a node address is 1 to {MAX_NODE_ADDRESS_LEN} characters")
        with self._db.bookkeeping() as conn:
            conn.execute(sa.delete(host_locations).where(host_locations.c.node_id == node_id))
            _upsert(
                conn,
                relay_nodes,
                {
                    "node_id": node_id,
                    "address": address,
                    "started_at": now,
                    "heartbeat_at": now,
                    "expires_at": now + lease_s,
                    "hosts": 0,
                    "sessions": 0,
                    "max_hosts": max_hosts,
                    "draining": False,
                },
                "node_id",
            )

    def node_heartbeat(
        self,
        node_id: str,
        *,
        hosts: int,
        sessions: int,
        draining: bool,
        lease_s: float,
        now: float,
        session_bytes: Iterable[tuple[str, int, int]] = (),
    ) -> bool:
        """Renew this node's lease with its load, and its live sessions' byte counts
        (session ID, to viewer, to host). False if the row was gone (another node found this
        one dead meanwhile): the caller must register again."""
        with self._db.bookkeeping() as conn:
            renewed = conn.execute(
                sa.update(relay_nodes)
                .where(relay_nodes.c.node_id == node_id)
                .values(
                    heartbeat_at=now,
                    expires_at=now + lease_s,
                    hosts=hosts,
                    sessions=sessions,
                    draining=draining,
                )
            ).rowcount
            counts = [
                {"sid": sid, "to_viewer": to_viewer, "to_host": to_host, "now": now}
                for sid, to_viewer, to_host in session_bytes
            ]
            if counts:
                conn.execute(
                    sa.update(cluster_sessions)
                    .where(cluster_sessions.c.session_id == sa.bindparam("sid"))
                    .values(
                        bytes_to_viewer=sa.bindparam("to_viewer"),
                        bytes_to_host=sa.bindparam("to_host"),
                        updated_at=sa.bindparam("now"),
                    ),
                    counts,
                )
        return bool(renewed)

    def expire_node(self, node_id: str) -> None:
        """End ``node_id``'s lease now: a node starting under the ID of a run that was killed
        calls this first, so that run's sessions are ended like any dead node's."""
        with self._db.bookkeeping() as conn:
            conn.execute(
                sa.update(relay_nodes).where(relay_nodes.c.node_id == node_id).values(expires_at=0)
            )

    def any_dead_node(self, now: float) -> bool:
        """Whether some node's lease ran out (a read: :meth:`take_dead_nodes` locks)."""
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(relay_nodes.c.node_id).where(relay_nodes.c.expires_at <= now).limit(1)
            ).first()
        return row is not None

    def remove_node(self, node_id: str) -> None:
        """A node leaving cleanly: its row, locations and session rows go."""
        with self._db.bookkeeping() as conn:
            for table in (host_locations, cluster_sessions, relay_nodes):
                conn.execute(sa.delete(table).where(table.c.node_id == node_id))

    def live_nodes(self, now: float) -> list[NodeInfo]:
        """Every node whose lease runs, by ID."""
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(relay_nodes).where(_live(now)).order_by(relay_nodes.c.node_id)
            ).all()
        return [_node(row) for row in rows]

    def take_dead_nodes(self, now: float, only: str | None = None) -> list[ClusterSession]:
        """Remove every node whose lease ran out (only the node ``only``, if given), with its
        office PC locations; returns the sessions it was running, removed too, for the caller
        to record their end (call it in an atomic block with those records). A change under
        the writer lock: two nodes noticing at once end each session once."""
        query = sa.select(relay_nodes.c.node_id).where(relay_nodes.c.expires_at <= now)
        if only is not None:
            query = query.where(relay_nodes.c.node_id == only)
        with self._db.write() as conn:
            dead = [row.node_id for row in conn.execute(query)]
            if not dead:
                return []
            rows = conn.execute(
                sa.select(cluster_sessions).where(cluster_sessions.c.node_id.in_(dead))
            ).all()
            for table in (host_locations, cluster_sessions, relay_nodes):
                conn.execute(sa.delete(table).where(table.c.node_id.in_(dead)))
        return [_session(row) for row in rows]

    # -- where office PCs are ---------------------------------------------------------------------

    def set_host_location(self, host_id: str, node_id: str, since: float) -> None:
        """The office PC's control channel is on ``node_id`` since ``since`` (when it came
        online there), unless a newer channel is on record: a node slow to write must not
        overwrite where the office PC went after."""
        with self._db.bookkeeping() as conn:
            _upsert(
                conn,
                host_locations,
                {"host_id": host_id, "node_id": node_id, "since": since},
                "host_id",
                where=host_locations.c.since <= since,
            )

    def clear_host_location(self, host_id: str, node_id: str) -> None:
        """The office PC left ``node_id`` (a location another node wrote since stays)."""
        with self._db.bookkeeping() as conn:
            conn.execute(
                sa.delete(host_locations).where(
                    host_locations.c.host_id == host_id, host_locations.c.node_id == node_id
                )
            )

    def host_node(self, host_id: str, now: float) -> NodeInfo | None:
        """The live node holding the office PC's control channel; None if none does."""
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(relay_nodes)
                .join(host_locations, host_locations.c.node_id == relay_nodes.c.node_id)
                .where(host_locations.c.host_id == host_id, _live(now))
            ).first()
        return None if row is None else _node(row)

    def hosts_online(self, host_ids: Iterable[str], now: float) -> set[str]:
        """Those of ``host_ids`` held by a live node."""
        wanted = list(host_ids)
        if not wanted:
            return set()
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(host_locations.c.host_id)
                .join(relay_nodes, host_locations.c.node_id == relay_nodes.c.node_id)
                .where(host_locations.c.host_id.in_(wanted), _live(now))
            ).all()
        return {row.host_id for row in rows}

    # -- live sessions ---------------------------------------------------------------------------

    def add_cluster_session(self, session: ClusterSession) -> None:
        with self._db.bookkeeping() as conn:
            conn.execute(sa.insert(cluster_sessions).values(**_session_values(session)))

    def remove_cluster_session(self, session_id: str) -> None:
        with self._db.bookkeeping() as conn:
            conn.execute(
                sa.delete(cluster_sessions).where(cluster_sessions.c.session_id == session_id)
            )

    def find_cluster_session(self, session_id: str, now: float) -> ClusterSession | None:
        """A live node's live session by its ID."""
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(cluster_sessions)
                .join(relay_nodes, cluster_sessions.c.node_id == relay_nodes.c.node_id)
                .where(cluster_sessions.c.session_id == session_id, _live(now))
            ).first()
        return None if row is None else _session(row)

    def list_cluster_sessions(self, now: float, tenant: str | None = None) -> list[ClusterSession]:
        """The live sessions of every live node (of ``tenant`` if given), oldest first."""
        query = (
            sa.select(cluster_sessions)
            .join(relay_nodes, cluster_sessions.c.node_id == relay_nodes.c.node_id)
            .where(_live(now))
            .order_by(cluster_sessions.c.started_at)
        )
        if tenant is not None:
            query = query.where(cluster_sessions.c.tenant == tenant)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [_session(row) for row in rows]


def _session(row: Any) -> ClusterSession:
    return ClusterSession(
        row.session_id,
        row.node_id,
        row.tenant,
        row.login,
        row.host_id,
        row.source,
        row.started_at,
        row.bytes_to_viewer,
        row.bytes_to_host,
        row.updated_at,
    )


def _session_values(session: ClusterSession) -> dict[str, Any]:
    return {
        "session_id": session.session_id,
        "node_id": session.node_id,
        "tenant": session.tenant,
        "login": session.user,
        "host_id": session.host_id,
        "source": session.source,
        "started_at": session.started_at,
        "bytes_to_viewer": session.bytes_to_viewer,
        "bytes_to_host": session.bytes_to_host,
        "updated_at": session.updated_at,
    }
