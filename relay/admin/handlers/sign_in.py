"""Handlers for signing in and out of the admin API."""

from __future__ import annotations

from typing import Any

from relay.admin.call import Call


async def login(call: Call) -> Any:
    body = call.body
    return await call.service.sign_in(body["login"], body["password"], body["otp"], call.source)


async def logout(call: Call) -> Any:
    await call.service.sign_out(call.admin, call.token, call.source)
    return None


async def me(call: Call) -> Any:
    return call.service.session_info(call.admin)


async def change_password(call: Call) -> Any:
    body = call.body
    return await call.service.change_password(
        call.admin, call.token, body["current_password"], body["new_password"], call.source
    )
