"""Admin actions on a tenant's office PCs: enrolment tokens, the list with live state, renaming,
letting one wake others (Wake-on-LAN, :mod:`core.wake`) and retiring (which ends the PC's
sessions and drops its control channel)."""

from __future__ import annotations

from dataclasses import dataclass

from relay.admin.errors import ErrorCode, NotFoundError
from relay.admin.services.backend import Backend, Record, Scope
from relay.store.hosts import Host
from relay.store.inputs import canonical_tenant

# How a retirement's ending of a session is named to the host and in the audit log.
END_REASON_RETIRED = "host_retired"


@dataclass(frozen=True)
class HostStatus:
    """An office PC's record with what the live relay knows of it."""

    host: Host
    online: bool
    in_session: bool
    last_session_at: float | None


class HostService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.directory = backend.directory

    async def enrollment_token(self, scope: Scope, ttl_s: float) -> tuple[str, float]:
        """A single-use enrolment token for the tenant and when it expires."""
        now = self.backend.clock()
        token = await self.backend.change(
            scope,
            Record("enrollment_token", detail={"expires_at": now + ttl_s}),
            self.directory.issue_enrollment_token,
            scope.tenant,
            ttl_s,
            now,
        )
        return token, now + ttl_s

    async def all_of(
        self,
        tenant: str,
        *,
        include_retired: bool,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[HostStatus]:
        """The tenant's office PCs by name (a page of them: see :mod:`relay.admin.paging`)."""
        hosts = await self.backend.db(
            self.directory.list_hosts,
            tenant,
            include_retired=include_retired,
            after=after,
            limit=limit,
        )
        # A page's own office PCs; the whole list's in one pass over the tenant's records.
        return await self._with_live_state(tenant, hosts, whole=limit is None)

    async def status(self, tenant: str, host_id: str) -> HostStatus:
        """One office PC of ``tenant`` (retired or not) with its live state."""
        host = await self.backend.db(self.directory.get_host, host_id)
        if host is None or host.tenant != canonical_tenant(tenant):
            raise NotFoundError("no such office PC", ErrorCode.NOT_FOUND)
        (status,) = await self._with_live_state(tenant, [host], whole=False)
        return status

    async def _with_live_state(
        self, tenant: str, hosts: list[Host], *, whole: bool
    ) -> list[HostStatus]:
        """``hosts`` with what the relay (all its nodes) knows of them now; ``whole``: they are
        all the tenant's, so their last sessions are looked up without naming them."""
        page = None if whole else [host.host_id for host in hosts]
        last_session = await self.backend.db(self.directory.last_session_by_host, tenant, page)
        server = self.backend.server
        busy = {s.host_id for s in server.sessions.values()}
        busy |= {s.host_id for s in await server.sessions_elsewhere(tenant)}
        online = await server.hosts_online_anywhere([host.host_id for host in hosts])
        return [
            HostStatus(
                host,
                online=host.host_id in online,
                in_session=host.host_id in busy,
                last_session_at=last_session.get(host.host_id),
            )
            for host in hosts
        ]

    async def rename(self, scope: Scope, host_id: str, name: str) -> str:
        """The office PC's new name as stored."""
        return await self.backend.change(
            scope,
            lambda stored: Record("host_rename", host_id=host_id, detail={"name": stored}),
            self.directory.rename_host,
            scope.tenant,
            host_id,
            name,
        )

    async def set_can_wake(self, scope: Scope, host_id: str, can_wake: bool) -> None:
        """Let the office PC wake others of its LAN (it stays on: a counter PC, a server), or
        stop it; the relay asks only such PCs to send a magic packet."""
        await self.backend.change(
            scope,
            Record("host_can_wake", host_id=host_id, detail={"can_wake": can_wake}),
            self.directory.set_host_can_wake,
            scope.tenant,
            host_id,
            can_wake,
        )

    async def set_central_macs(self, scope: Scope, host_id: str, on: bool) -> None:
        """Switch the office PC's central MAC check on or off (off only with an empty central
        list), and push its policy: with the check on and an empty list, nobody passes."""
        await self.backend.change(
            scope,
            Record("host_central_macs", host_id=host_id, detail={"central_macs": on}),
            self.directory.set_host_central_macs,
            scope.tenant,
            host_id,
            on,
        )
        await self.backend.push_policies([host_id])

    async def retire(self, scope: Scope, host_id: str) -> None:
        await self.backend.change(
            scope,
            Record("host_retire", host_id=host_id),
            self.directory.retire_host,
            scope.tenant,
            host_id,
        )
        self.backend.end_sessions(scope.tenant, END_REASON_RETIRED, host_id=host_id)
        await self.backend.server.end_sessions_elsewhere(
            scope.tenant, END_REASON_RETIRED, host_id=host_id
        )
        channel = self.backend.server.hosts.get(host_id)
        if channel is not None:  # a retired host may not stay connected
            await channel.stream.close()
