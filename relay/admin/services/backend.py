"""What every admin action shares: the directory (called off the event loop), the audit log,
and the live relay's sessions and policy pushes.

A change and its audit record are one transaction (:meth:`Backend.change`): both are committed
or neither is, whatever stops the relay between them. What is not a directory write (ending live
sessions, pushing policies to office PCs, the monitor's caps) happens after the commit; where
the record names what it will do (``sessions_ended``), that is decided first, read only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from core.protocol.notices import CloseReason
from relay.admin.auth import AdminSession
from relay.admin.errors import ErrorCode, NotFoundError
from relay.admin.reports import ReportJobs
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


@dataclass(frozen=True)
class Record:
    """An admin change's audit record: ``admin.<event>`` about ``user`` and/or ``host_id``."""

    event: str
    user: str | None = None
    host_id: str | None = None
    detail: dict[str, Any] | None = None


class Backend:
    """The relay and its directory, shared by every per-resource service."""

    def __init__(self, server: RelayServer, clock: Callable[[], float]) -> None:
        self.server = server
        self.directory = server.directory
        self.clock = clock
        self.reports = ReportJobs()

    async def visible_tenant(self, who: AdminSession, name: str) -> str:
        """The tenant's name as stored, if ``who`` may see it; else :class:`NotFoundError`,
        the same for a tenant that exists and one that does not."""
        if not who.may_see(name):
            raise NotFoundError("no such tenant", ErrorCode.NO_SUCH_TENANT)
        tenant = await self.db(self.directory.get_tenant, name)
        if tenant is None:
            raise NotFoundError("no such tenant", ErrorCode.NO_SUCH_TENANT)
        return tenant.name

    async def db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking directory call off the event loop."""
        return await asyncio.to_thread(partial(function, *args, **kwargs))

    async def change(
        self,
        scope: Scope,
        record: Record | Callable[[T], Record],
        function: Callable[..., T],
        *args: Any,
        **kwargs: Any,
    ) -> T:
        """Run the blocking directory change ``function(*args, **kwargs)`` and write its audit
        record in one transaction, off the event loop: both are committed or neither is.

        ``record`` is the record, or makes it from the change's result (a name as stored)."""

        def change_and_record() -> T:
            result = function(*args, **kwargs)
            made = record if isinstance(record, Record) else record(result)
            self.record(
                scope.admin,
                made.event,
                scope.source,
                tenant=scope.tenant,
                user=made.user,
                host_id=made.host_id,
                detail=made.detail,
            )
            return result

        return await self.atomic(change_and_record)

    async def atomic(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking directory calls off the event loop as one transaction: every write
        ``function`` makes is committed when it returns, none if it raises."""

        def in_one_transaction() -> T:
            with self.directory.atomic():
                return function(*args, **kwargs)

        return await self.db(in_one_transaction)

    def record(
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
        """Write the record of ``event`` as done by the admin ``who`` (blocking: in a thread;
        in :meth:`atomic`, it commits with the calls around it)."""
        self.directory.audit(
            f"admin.{event}",
            tenant=tenant,
            user=user,
            host_id=host_id,
            source=source,
            detail={"admin": who.login, **(detail or {})},
            now=self.clock(),
        )

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
        """Record ``event``, done by the admin ``who``, that changes nothing in the directory
        (a sign-out, a request to end a session): a change is recorded by :meth:`change`."""
        await self.db(
            self.record,
            who,
            event,
            source,
            tenant=tenant,
            user=user,
            host_id=host_id,
            detail=detail,
        )

    def live_sessions(
        self, tenant: str, *, user: str | None = None, host_id: str | None = None
    ) -> list[str]:
        """The IDs of the tenant's live sessions of ``user`` (a login as stored) and/or on
        ``host_id``: those a change taking that access away will end (read only)."""
        return [
            session.session_id
            for session in self.server.sessions.values()
            if session.tenant == tenant
            and (user is None or session.user == user)
            and (host_id is None or session.host_id == host_id)
        ]

    def access_sessions(self, scope: Scope, user: str, host_id: str | None = None) -> list[str]:
        """The live sessions :meth:`end_access` would end now, for the change's record."""
        return self.live_sessions(scope.tenant, user=user, host_id=host_id)

    async def take_access(
        self,
        scope: Scope,
        event: str,
        user: str,
        function: Callable[..., T],
        *args: Any,
        host_id: str | None = None,
    ) -> T:
        """A change that takes ``user``'s access away (to ``host_id`` only, if given): the
        change and its record ``event``, naming the live sessions it ends, commit together
        (:meth:`change`); then those sessions end (:meth:`end_access`)."""
        ending = self.access_sessions(scope, user, host_id)
        ending += [
            row.session_id
            for row in await self.server.sessions_elsewhere(scope.tenant)
            if row.user == user and (host_id is None or row.host_id == host_id)
        ]
        record = Record(event, user=user, host_id=host_id, detail={"sessions_ended": ending})
        result = await self.change(scope, record, function, *args)
        self.end_access(scope, user, host_id)
        await self.server.end_sessions_elsewhere(
            scope.tenant, END_REASON_ADMIN, user=user, host_id=host_id
        )
        return result

    def end_sessions(
        self, tenant: str, reason: str, *, user: str | None = None, host_id: str | None = None
    ) -> list[str]:
        """End the tenant's live sessions of ``user`` (a login as stored) and/or on ``host_id``,
        telling the viewer ``reason``; returns their IDs (an admin took the access away).

        Called after the change is committed: it also ends a session that joined while the
        change was being written (its login's grant check came just before the commit)."""
        return [
            session_id
            for session_id in self.live_sessions(tenant, user=user, host_id=host_id)
            if self.server.end_session(session_id, reason)
        ]

    def end_access(self, scope: Scope, user: str, host_id: str | None = None) -> list[str]:
        """End ``user``'s live sessions (on ``host_id`` only, if given): an admin has just taken
        that access away (committed). The viewer is told an admin ended it."""
        return self.end_sessions(scope.tenant, END_REASON_ADMIN, user=user, host_id=host_id)

    async def push_policies(self, host_ids: list[str]) -> list[str]:
        """Push the effective policy to those of ``host_ids`` that are online; returns them."""
        pushed = []
        online = await self.server.hosts_online_anywhere(host_ids)
        for host_id in host_ids:
            if host_id in self.server.hosts:
                policy = await self.db(self.directory.effective_policy, host_id)
                if policy and await self.server.push_policy(host_id, policy):
                    pushed.append(host_id)
            elif host_id in online and await self.server.cluster.push_policy(host_id):
                pushed.append(host_id)  # the node holding it reads and pushes the policy
        return pushed
