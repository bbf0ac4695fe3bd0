"""Admin actions on policies, the tenant's and each office PC's own (the stricter of the two
wins); a change is pushed at once to the office PCs it applies to that are online."""

from __future__ import annotations

from typing import Any

from relay.admin.services.backend import Backend, Record, Scope

Policy = dict[str, Any]


class PolicyService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.directory = backend.directory

    async def tenant_policy(self, tenant: str) -> Policy | None:
        return await self.backend.db(self.directory.get_tenant_policy, tenant)

    async def set_tenant_policy(
        self, scope: Scope, policy: Policy | None
    ) -> tuple[Policy | None, list[str]]:
        """Store the tenant's policy (None: remove it); returns it as stored and the office PCs
        it was pushed to."""
        stored = await self.backend.change(
            scope,
            lambda stored: (
                Record("policy_clear")
                if policy is None
                else Record("policy_set", detail={"policy": stored})
            ),
            self.directory.set_tenant_policy,
            scope.tenant,
            policy,
            now=self.backend.clock(),
        )
        hosts = await self.backend.db(self.directory.list_hosts, scope.tenant)
        pushed = await self.backend.push_policies([h.host_id for h in hosts])
        return stored, pushed

    async def host_policy(self, tenant: str, host_id: str) -> tuple[Policy | None, Policy]:
        """The office PC's own policy and the effective one it obeys."""
        own = await self.backend.db(self.directory.get_host_policy, tenant, host_id)
        effective = await self.backend.db(self.directory.effective_policy, host_id)
        return own, effective

    async def set_host_policy(
        self, scope: Scope, host_id: str, policy: Policy | None
    ) -> tuple[Policy | None, list[str]]:
        """Store the office PC's own policy (None: remove it); returns it as stored and whether
        it was pushed (the PC's ID, or nothing)."""
        stored = await self.backend.change(
            scope,
            lambda stored: (
                Record("host_policy_clear", host_id=host_id)
                if policy is None
                else Record("host_policy_set", host_id=host_id, detail={"policy": stored})
            ),
            self.directory.set_host_policy,
            scope.tenant,
            host_id,
            policy,
            now=self.backend.clock(),
        )
        pushed = await self.backend.push_policies([host_id])
        return stored, pushed
