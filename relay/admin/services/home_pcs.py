"""Admin actions on registered home-PC MAC addresses, each owned by a staff member or an office
PC; a change is pushed to the office PCs whose central list it alters."""

from __future__ import annotations

from relay.admin.services.backend import Backend, Record, Scope
from relay.store.home_pcs import MacRegistration


class HomePcService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.directory = backend.directory

    async def all_of(self, tenant: str) -> list[MacRegistration]:
        return await self.backend.db(self.directory.list_macs, tenant)

    async def add(
        self, scope: Scope, mac: str, *, login: str | None, host_id: str | None, label: str
    ) -> MacRegistration:
        registration = await self.backend.change(
            scope,
            lambda added: _record("home_pc_add", added),
            self.directory.add_mac,
            scope.tenant,
            mac,
            login=login,
            host_id=host_id,
            label=label,
            now=self.backend.clock(),
        )
        await self._push(scope, registration)
        return registration

    async def delete(self, scope: Scope, registration_id: int) -> None:
        removed = await self.backend.change(
            scope,
            lambda gone: _record("home_pc_delete", gone),
            self.directory.delete_mac,
            scope.tenant,
            registration_id,
        )
        await self._push(scope, removed)

    async def _push(self, scope: Scope, registration: MacRegistration) -> None:
        """Push a committed change to the office PCs whose central MAC list it alters."""
        await self.backend.push_policies(await self._hosts_listing(scope.tenant, registration))

    async def _hosts_listing(self, tenant: str, registration: MacRegistration) -> list[str]:
        """The office PCs whose central MAC list holds ``registration``: its own office PC, or
        every office PC its staff member may use."""
        if registration.host_id is not None:
            return [registration.host_id]
        assert registration.login is not None
        return await self.backend.db(
            self.directory.hosts_affected_by_user, tenant, registration.login
        )


def _record(event: str, registration: MacRegistration) -> Record:
    """The audit record of a registration's change."""
    return Record(
        event,
        user=registration.login,
        host_id=registration.host_id,
        detail={"mac": registration.mac},
    )
