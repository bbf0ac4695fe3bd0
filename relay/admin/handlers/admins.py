"""Handlers for the console's own admins: their list, roles and lifecycle."""

from __future__ import annotations

from typing import Any

from core.admin_api import ADMIN_TOTP_ISSUER
from core.auth.totp import provisioning_uri
from relay.admin.call import Call
from relay.admin.errors import BadRequest, ErrorCode
from relay.store.admins import Admin

# What a PATCH of an admin may change (at least one of them).
PATCH_FIELDS = ("disabled", "role")


def admin_view(admin: Admin) -> dict[str, Any]:
    return {
        "login": admin.login,
        "role": admin.role.value,
        "tenant": admin.tenant,
        "disabled": admin.disabled,
        "created_at": admin.created_at,
        "last_login_at": admin.last_login_at,
    }


def authenticator_view(admin: Admin, secret: str) -> dict[str, Any]:
    """A new TOTP secret, and the otpauth URI an authenticator app reads from a QR code."""
    account = admin.login if admin.tenant is None else f"{admin.login}@{admin.tenant}"
    return {
        "totp_secret": secret,
        "otpauth_uri": provisioning_uri(secret, account, ADMIN_TOTP_ISSUER),
    }


async def list_admins(call: Call) -> Any:
    return {"admins": [admin_view(a) for a in await call.service.admins.visible(call.admin)]}


async def add_admin(call: Call) -> Any:
    body = call.body
    admin, password, secret = await call.service.admins.add(
        call.admin, call.source, body["login"], body["role"], body.get("tenant")
    )
    return {**admin_view(admin), "password": password, **authenticator_view(admin, secret)}


async def patch_admin(call: Call) -> Any:
    """A new role, then disabled or enabled (each its own audited change)."""
    body, login, admins = call.body, call.path("admin"), call.service.admins
    if not any(field in body for field in PATCH_FIELDS):
        raise BadRequest(
            f"body needs one of {', '.join(PATCH_FIELDS)}",
            ErrorCode.FIELD_MISSING,
            field="disabled",
        )
    admin = None
    if "role" in body:
        admin = await admins.set_role(call.admin, call.source, login, body["role"])
    if "disabled" in body:
        admin = await admins.set_disabled(call.admin, call.source, login, body["disabled"])
    assert admin is not None
    return admin_view(admin)


async def delete_admin(call: Call) -> Any:
    await call.service.admins.delete(call.admin, call.source, call.path("admin"))
    return None


async def reset_admin_password(call: Call) -> Any:
    admin, password = await call.service.admins.reset_password(
        call.admin, call.source, call.path("admin")
    )
    return {"login": admin.login, "password": password}


async def reset_admin_totp(call: Call) -> Any:
    admin, secret = await call.service.admins.reset_totp(
        call.admin, call.source, call.path("admin")
    )
    return {"login": admin.login, **authenticator_view(admin, secret)}


async def sign_out_admin(call: Call) -> Any:
    ended = await call.service.admins.end_sign_ins(call.admin, call.source, call.path("admin"))
    return {"login": call.path("admin"), "sign_ins_ended": ended}
