"""Admin actions on tenants: the ones an admin may see, and adding one (operators only)."""

from __future__ import annotations

from relay.admin.auth import AdminSession
from relay.admin.services.backend import Backend, Record, Scope
from relay.store.inputs import canonical_tenant
from relay.store.tenants import Tenant


class TenantService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.directory = backend.directory

    async def visible_to(self, who: AdminSession) -> list[Tenant]:
        tenants = await self.backend.db(self.directory.list_tenants)
        return [t for t in tenants if who.may_see(t.name)]

    async def add(self, who: AdminSession, source: str, name: str) -> Tenant:
        name = canonical_tenant(name)
        return await self.backend.change(
            Scope(who, source, name), Record("tenant_add"), self.directory.add_tenant, name
        )
