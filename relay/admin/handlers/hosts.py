"""Handlers for a tenant's office PCs and their enrolment."""

from __future__ import annotations

from typing import Any

from core.crypto.certs import format_host_id
from relay.admin.call import Call
from relay.admin.errors import BadRequest, ErrorCode
from relay.admin.paging import Page
from relay.admin.services.hosts import HostStatus

# Default life of an enrolment token made in the console: until the same time tomorrow.
DEFAULT_ENROLLMENT_TTL_S = 24 * 3600
# What PATCH may change of an office PC (at least one of them).
PATCH_FIELDS = ("name", "can_wake", "central_macs")


def _host_view(status: HostStatus) -> dict[str, Any]:
    host = status.host
    return {
        "host_id": host.host_id,
        "display_id": format_host_id(host.host_id),
        "name": host.name,
        "online": status.online,
        "in_session": status.in_session,
        "agent_version": host.agent_version,
        "created_at": host.created_at,
        "last_seen_at": host.last_seen_at,
        "last_session_at": status.last_session_at,
        "retired": host.retired,
        # Wake-on-LAN: whether it may wake others, and the network card it last reported
        # (null: none yet, or an agent that does not report it).
        "can_wake": host.can_wake,
        # The central MAC check: once on, an empty central list lets nobody in.
        "central_macs": host.central_macs,
        "lan_mac": host.lan.mac if host.lan else None,
        "lan_address": host.lan.wire_address if host.lan else None,
    }


async def enrollment_token(call: Call) -> Any:
    ttl = (
        call.body.get("ttl_s", DEFAULT_ENROLLMENT_TTL_S) if call.body else DEFAULT_ENROLLMENT_TTL_S
    )
    token, expires_at = await call.service.hosts.enrollment_token(call.scope, ttl)
    return {"token": token, "expires_at": expires_at}


async def list_hosts(call: Call) -> Any:
    retired = bool(call.query.get("include_retired"))
    page = Page.of(call.query)
    hosts = await call.service.hosts.all_of(
        call.tenant, include_retired=retired, after=page.after, limit=page.limit
    )
    return page.answer("hosts", hosts, _host_view, lambda status: status.host.host_id)


async def patch_host(call: Call) -> Any:
    """Rename the office PC, let it wake others, switch its central MAC check (the name
    first: each change is its own audited change, and a refused name leaves the state as it
    was); answers the PC as it is."""
    body, host_id = call.body, call.host_id()
    if not any(field in body for field in PATCH_FIELDS):
        raise BadRequest(
            f"body needs one of {', '.join(PATCH_FIELDS)}", ErrorCode.FIELD_MISSING, field="name"
        )
    hosts = call.service.hosts
    if "name" in body:
        await hosts.rename(call.scope, host_id, body["name"])
    if "can_wake" in body:
        await hosts.set_can_wake(call.scope, host_id, body["can_wake"])
    if "central_macs" in body:
        await hosts.set_central_macs(call.scope, host_id, body["central_macs"])
    return _host_view(await hosts.status(call.tenant, host_id))


async def retire_host(call: Call) -> Any:
    await call.service.hosts.retire(call.scope, call.host_id())
    return None
