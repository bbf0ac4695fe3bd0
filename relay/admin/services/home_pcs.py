"""Admin actions on registered home-PC MAC addresses, each owned by a staff member or an office
PC; a change is pushed to the office PCs whose central list it alters."""

from __future__ import annotations

from relay.admin.services.backend import Backend, Scope
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
        registration = await self.backend.db(
            self.directory.add_mac,
            scope.tenant,
            mac,
            login=login,
            host_id=host_id,
            label=label,
            now=self.backend.clock(),
        )
        await self._changed(scope, "home_pc_add", registration)
        return registration

    async def delete(self, scope: Scope, registration_id: int) -> None:
        removed = await self.backend.db(self.directory.delete_mac, scope.tenant, registration_id)
        await self._changed(scope, "home_pc_delete", removed)

    async def _changed(self, scope: Scope, event: str, registration: MacRegistration) -> None:
        """Audit the registration's change, then push it to the office PCs whose list it alters."""
        await self.backend.audit_change(
            scope,
            event,
            user=registration.login,
            host_id=registration.host_id,
            detail={"mac": registration.mac},
        )
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
