"""Handlers for a tenant's live sessions."""

from __future__ import annotations

from typing import Any

from relay.admin import params
from relay.admin.call import Call


async def list_sessions(call: Call) -> Any:
    return {"sessions": await call.service.live_sessions.all_of(call.tenant)}


async def end_session(call: Call) -> Any:
    session_id = params.session_id(call.path("session_id"))
    ended = await call.service.live_sessions.end(call.scope, session_id)
    return {**ended, "ending": True}
