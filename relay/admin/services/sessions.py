"""Admin actions on a tenant's live sessions: the list with their bandwidth, and ending one."""

from __future__ import annotations

from typing import Any

from relay.admin.errors import ErrorCode, NotFoundError
from relay.admin.monitor import BandwidthMonitor
from relay.admin.services.backend import END_REASON_ADMIN, Backend, Scope
from relay.sessions import LiveSession
from relay.store.nodes import ClusterSession


class LiveSessionService:
    def __init__(self, backend: Backend, monitor: BandwidthMonitor) -> None:
        self.backend = backend
        self.monitor = monitor

    async def all_of(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's live sessions on every node (another node's as of its last heartbeat:
        its current rate is its average)."""
        out = [
            _elsewhere(row, self.backend.server.context.wall())
            for row in await self.backend.server.sessions_elsewhere(tenant)
        ]
        for session in self.backend.server.sessions.values():
            if session.tenant != tenant:
                continue
            duration = max(session.duration_s, 1e-3)
            moved = session.bytes_to_viewer + session.bytes_to_host
            out.append(
                {
                    "session_id": session.session_id,
                    "user": session.user,
                    "host_id": session.host_id,
                    "source": session.source,
                    "started_at": session.started_at,
                    "duration_s": round(session.duration_s, 3),
                    "bytes_to_viewer": session.bytes_to_viewer,
                    "bytes_to_host": session.bytes_to_host,
                    "current_kbps": round(
                        self.monitor.session_bps.get(session.session_id, 0) / 1000, 1
                    ),
                    "average_kbps": round(moved * 8 / duration / 1000, 1),
                }
            )
        return sorted(out, key=lambda s: s["started_at"])

    async def end(self, scope: Scope, session_id: str) -> dict[str, Any]:
        """Ask the session to end; returns its ID, user and office PC."""
        server = self.backend.server
        session: LiveSession | ClusterSession | None = server.sessions.get(session_id)
        if session is None:  # on another node of a cluster (a lone relay has none)
            session = await server.context.db(
                server.directory.find_cluster_session, session_id, server.context.wall()
            )
        if session is None or session.tenant != scope.tenant:
            raise NotFoundError("no such live session", ErrorCode.NO_SUCH_SESSION)
        await self.backend.audit(
            scope.admin,
            "session_end_request",
            scope.source,
            tenant=scope.tenant,
            user=session.user,
            host_id=session.host_id,
            detail={"session": session_id},
        )
        # After its record, like a change; on the node running it.
        if not server.end_session(session_id, END_REASON_ADMIN):
            await server.cluster.end_session(session_id, END_REASON_ADMIN)
        return {"session_id": session_id, "user": session.user, "host_id": session.host_id}


def _elsewhere(row: ClusterSession, now: float) -> dict[str, Any]:
    """Another node's live session as the list shows it."""
    duration = max(now - row.started_at, 1e-3)
    moved = row.bytes_to_viewer + row.bytes_to_host
    average_kbps = round(moved * 8 / max(row.updated_at - row.started_at, 1e-3) / 1000, 1)
    return {
        "session_id": row.session_id,
        "user": row.user,
        "host_id": row.host_id,
        "source": row.source,
        "started_at": row.started_at,
        "duration_s": round(duration, 3),
        "bytes_to_viewer": row.bytes_to_viewer,
        "bytes_to_host": row.bytes_to_host,
        "current_kbps": average_kbps,
        "average_kbps": average_kbps,
        "node": row.node_id,
    }
