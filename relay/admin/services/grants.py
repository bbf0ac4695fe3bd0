"""Admin actions on grants, which say who may use which office PC; a change reaches that PC at
once, since its central list of home-PC MACs follows its grants."""

from __future__ import annotations

from relay.admin.errors import ErrorCode, NotFoundError
from relay.admin.services.backend import Backend, Record, Scope
from relay.store.inputs import canonical_login


class GrantService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.directory = backend.directory

    async def all_of(
        self, tenant: str, *, after: tuple[str, str] | None = None, limit: int | None = None
    ) -> list[tuple[str, str]]:
        """(login, host ID) pairs (a page of them: see :mod:`relay.admin.paging`)."""
        return await self.backend.db(self.directory.list_grants, tenant, after=after, limit=limit)

    async def add(self, scope: Scope, login: str, host_id: str) -> str:
        """Let ``login`` use ``host_id``; returns the login as stored."""
        login = canonical_login(login)
        # The store refuses a grant that would take the office PC's central list past MAX_MACS.
        await self.backend.change(
            scope,
            Record("grant", user=login, host_id=host_id),
            self.directory.grant,
            scope.tenant,
            login,
            host_id,
            now=self.backend.clock(),
        )
        await self.backend.push_policies([host_id])
        return login

    async def revoke(self, scope: Scope, login: str, host_id: str) -> None:
        """Withdraw the grant and end the sessions it allowed."""
        login = canonical_login(login)

        def revoke() -> None:
            if not self.directory.revoke(scope.tenant, login, host_id):
                raise NotFoundError("no such grant", ErrorCode.NO_SUCH_GRANT)  # nothing recorded

        await self.backend.take_access(scope, "revoke", login, revoke, host_id=host_id)
        await self.backend.push_policies([host_id])
