"""Handlers for a tenant's office PCs and their enrolment."""

from __future__ import annotations

from typing import Any

from core.crypto.certs import format_host_id
from relay.admin.call import Call
from relay.admin.paging import Page
from relay.admin.services.hosts import HostStatus

# Default life of an enrolment token made in the console: until the same time tomorrow.
DEFAULT_ENROLLMENT_TTL_S = 24 * 3600


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


async def rename_host(call: Call) -> Any:
    host_id = call.host_id()
    name = await call.service.hosts.rename(call.scope, host_id, call.body["name"])
    return {"host_id": host_id, "name": name}


async def retire_host(call: Call) -> Any:
    await call.service.hosts.retire(call.scope, call.host_id())
    return None
