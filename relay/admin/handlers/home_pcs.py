"""Handlers for registered home-PC MAC addresses."""

from __future__ import annotations

from typing import Any

from relay.admin import params
from relay.admin.call import Call
from relay.store.home_pcs import MacRegistration


def _mac_view(m: MacRegistration) -> dict[str, Any]:
    return {
        "id": m.id,
        "mac": m.mac,
        "login": m.login,
        "host_id": m.host_id,
        "label": m.label,
        "created_at": m.created_at,
    }


async def list_macs(call: Call) -> Any:
    macs = await call.service.home_pcs.all_of(call.tenant)
    return {"home_pcs": [_mac_view(m) for m in macs]}


async def add_mac(call: Call) -> Any:
    body = call.body
    host_id = body.get("host_id")
    registration = await call.service.home_pcs.add(
        call.scope,
        body["mac"],
        login=body.get("login"),
        host_id=None if host_id is None else params.host_id(host_id),
        label=body.get("label", ""),
    )
    return _mac_view(registration)


async def delete_mac(call: Call) -> Any:
    registration_id = params.registration_id(call.path("registration_id"))
    await call.service.home_pcs.delete(call.scope, registration_id)
    return None
