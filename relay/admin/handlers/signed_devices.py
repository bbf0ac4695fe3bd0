"""Handlers for central home-PC registration: the tenant's signing key, each office PC's
signed list of home PCs."""

from __future__ import annotations

from typing import Any

from relay.admin.call import Call


async def get_signing_key(call: Call) -> Any:
    return await call.service.signed_devices.signing_key(call.tenant)


async def put_signing_key(call: Call) -> Any:
    body = call.body
    return await call.service.signed_devices.set_signing_key(
        call.scope, body["public_key"], bool(body.get("replace", False))
    )


async def get_device_list(call: Call) -> Any:
    return await call.service.signed_devices.device_list(call.tenant, call.host_id())


async def put_device_list(call: Call) -> Any:
    return await call.service.signed_devices.set_device_list(call.scope, call.host_id(), call.body)
