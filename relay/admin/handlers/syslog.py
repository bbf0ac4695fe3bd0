"""Handlers for a tenant's syslog collector (copies of its audit records)."""

from __future__ import annotations

from typing import Any

from relay.admin.call import Call


async def get_syslog(call: Call) -> Any:
    return await call.service.syslog.get(call.tenant)


async def put_syslog(call: Call) -> Any:
    body = call.body
    return await call.service.syslog.set(
        call.scope, body["url"], body.get("ca_pem"), body.get("fingerprint")
    )


async def delete_syslog(call: Call) -> Any:
    return await call.service.syslog.clear(call.scope)
