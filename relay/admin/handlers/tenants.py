"""Handlers for tenants."""

from __future__ import annotations

from typing import Any

from relay.admin.call import Call
from relay.store.tenants import Tenant


def _tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {"name": tenant.name, "created_at": tenant.created_at}


async def list_tenants(call: Call) -> Any:
    tenants = await call.service.tenants.visible_to(call.admin)
    return {"tenants": [_tenant_view(t) for t in tenants]}


async def add_tenant(call: Call) -> Any:
    tenant = await call.service.tenants.add(call.admin, call.source, call.body["name"])
    return _tenant_view(tenant)
