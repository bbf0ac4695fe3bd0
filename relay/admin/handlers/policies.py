"""Handlers for policies: the tenant's, and each office PC's own."""

from __future__ import annotations

from typing import Any

from relay.admin.call import Call


async def get_tenant_policy(call: Call) -> Any:
    return {"policy": await call.service.policies.tenant_policy(call.tenant)}


async def put_tenant_policy(call: Call) -> Any:
    policy, pushed = await call.service.policies.set_tenant_policy(call.scope, call.body)
    return {"policy": policy, "pushed_to": pushed}


async def delete_tenant_policy(call: Call) -> Any:
    policy, pushed = await call.service.policies.set_tenant_policy(call.scope, None)
    return {"policy": policy, "pushed_to": pushed}


async def get_host_policy(call: Call) -> Any:
    host_id = call.host_id()
    policy, effective = await call.service.policies.host_policy(call.tenant, host_id)
    return {"host_id": host_id, "policy": policy, "effective": effective}


async def put_host_policy(call: Call) -> Any:
    host_id = call.host_id()
    policy, pushed = await call.service.policies.set_host_policy(call.scope, host_id, call.body)
    return {"host_id": host_id, "policy": policy, "pushed_to": pushed}


async def delete_host_policy(call: Call) -> Any:
    host_id = call.host_id()
    policy, pushed = await call.service.policies.set_host_policy(call.scope, host_id, None)
    return {"host_id": host_id, "policy": policy, "pushed_to": pushed}
