"""Handlers for grants: who may use which office PC."""

from __future__ import annotations

from typing import Any

from relay.admin import params
from relay.admin.call import Call


async def list_grants(call: Call) -> Any:
    pairs = await call.service.grants.all_of(call.tenant)
    return {"grants": [{"login": login, "host_id": host} for login, host in pairs]}


async def add_grant(call: Call) -> Any:
    host_id = params.host_id(call.body["host_id"])
    login = await call.service.grants.add(call.scope, call.body["login"], host_id)
    return {"login": login, "host_id": host_id}


async def delete_grant(call: Call) -> Any:
    await call.service.grants.revoke(call.scope, call.path("login"), call.host_id())
    return None
