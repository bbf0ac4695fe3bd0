"""Handlers for grants: who may use which office PC."""

from __future__ import annotations

from typing import Any

from relay.admin import params
from relay.admin.call import Call
from relay.admin.paging import Page, grant_cursor, parse_grant_cursor


async def list_grants(call: Call) -> Any:
    page = Page.of(call.query)
    after = None if page.after is None else parse_grant_cursor(page.after)
    pairs = await call.service.grants.all_of(call.tenant, after=after, limit=page.limit)
    return page.answer(
        "grants",
        pairs,
        lambda pair: {"login": pair[0], "host_id": pair[1]},
        lambda pair: grant_cursor(*pair),
    )


async def add_grant(call: Call) -> Any:
    host_id = params.host_id(call.body["host_id"])
    login = await call.service.grants.add(call.scope, call.body["login"], host_id)
    return {"login": login, "host_id": host_id}


async def delete_grant(call: Call) -> Any:
    await call.service.grants.revoke(call.scope, call.path("login"), call.host_id())
    return None
