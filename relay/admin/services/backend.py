"""What every admin action shares: the directory (called off the event loop), the audit log,
and the live relay's sessions and policy pushes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from core.protocol.notices import CloseReason
from relay.admin.auth import AdminSession
from relay.server import RelayServer

T = TypeVar("T")

# How an admin's ending of a session is named to the host and in the audit log.
END_REASON_ADMIN = CloseReason.ENDED_BY_ADMIN.value  # the viewer shows why


@dataclass(frozen=True)
class Scope:
    """Who acts on which tenant, and from where: what each change is audited with."""

    admin: AdminSession
    source: str
    tenant: str


class Backend:
    """The relay and its directory, shared by every per-resource service."""

    def __init__(self, server: RelayServer, clock: Callable[[], float]) -> None:
        self.server = server
        self.directory = server.directory
        self.clock = clock

    async def db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking directory call off the event loop."""
        return await asyncio.to_thread(partial(function, *args, **kwargs))

    async def audit(
        self,
        who: AdminSession,
        event: str,
        source: str,
        *,
        tenant: str | None = None,
        user: str | None = None,
        host_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record ``event`` as done by the admin ``who``."""
        await self.db(
            self.directory.audit,
            f"admin.{event}",
            tenant=tenant,
            user=user,
            host_id=host_id,
            source=source,
            detail={"admin": who.login, **(detail or {})},
            now=self.clock(),
        )

    async def audit_change(
        self,
        scope: Scope,
        event: str,
        *,
        user: str | None = None,
        host_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record ``event`` as done by the scope's admin in the scope's tenant."""
        await self.audit(
            scope.admin,
            event,
            scope.source,
            tenant=scope.tenant,
            user=user,
            host_id=host_id,
            detail=detail,
        )

    def end_sessions(
        self, tenant: str, reason: str, *, user: str | None = None, host_id: str | None = None
    ) -> list[str]:
        """End the tenant's live sessions of ``user`` (a login as stored) and/or on ``host_id``,
        telling the viewer ``reason``; returns their IDs (an admin took the access away)."""
        ended = []
        for session in list(self.server.sessions.values()):
            if (
                session.tenant == tenant
                and (user is None or session.user == user)
                and (host_id is None or session.host_id == host_id)
                and self.server.end_session(session.session_id, reason)
            ):
                ended.append(session.session_id)
        return ended

    def end_access(self, scope: Scope, user: str, host_id: str | None = None) -> list[str]:
        """End ``user``'s live sessions (on ``host_id`` only, if given): an admin has just taken
        that access away. The viewer is told an admin ended it."""
        return self.end_sessions(scope.tenant, END_REASON_ADMIN, user=user, host_id=host_id)

    async def push_policies(self, host_ids: list[str]) -> list[str]:
        """Push the effective policy to those of ``host_ids`` that are online; returns them."""
        pushed = []
        for host_id in host_ids:
            if host_id in self.server.hosts:
                policy = await self.db(self.directory.effective_policy, host_id)
                if policy and await self.server.push_policy(host_id, policy):
                    pushed.append(host_id)
        return pushed
