"""Handlers for a tenant's staff and their one-time passwords."""

from __future__ import annotations

from typing import Any

from core.auth.totp import provisioning_uri
from relay.admin.call import Call
from relay.admin.errors import BadRequest, ErrorCode
from relay.admin.paging import Page
from relay.store.staff import User

# Issuer shown next to the account in authenticator apps (the same as the manage CLI's).
TOTP_ISSUER = "Telework"
# What a PATCH of a staff member may change (at least one of them).
PATCH_FIELDS = ("disabled", "full_name", "department")


def _user_view(user: User) -> dict[str, Any]:
    return {
        "login": user.login,
        "full_name": user.full_name,
        "department": user.department,
        "disabled": user.disabled,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


def _authenticator_view(call: Call, user: User, secret: str) -> dict[str, Any]:
    """A new TOTP secret, and the otpauth URI an authenticator app reads from a QR code."""
    return {
        "totp_secret": secret,
        "otpauth_uri": provisioning_uri(secret, f"{user.login}@{call.tenant}", TOTP_ISSUER),
    }


async def list_staff(call: Call) -> Any:
    page = Page.of(call.query)
    users = await call.service.staff.all_of(call.tenant, after=page.after, limit=page.limit)
    return page.answer("staff", users, _user_view, lambda user: user.login)


async def add_staff(call: Call) -> Any:
    body = call.body
    user, secret = await call.service.staff.add(
        call.scope,
        body["login"],
        full_name=body.get("full_name", ""),
        department=body.get("department", ""),
    )
    return {**_user_view(user), **_authenticator_view(call, user, secret)}


async def get_staff(call: Call) -> Any:
    user, codes, hosts = await call.service.staff.details(call.tenant, call.path("login"))
    return {**_user_view(user), "unused_codes": codes, "hosts": hosts}


async def patch_staff(call: Call) -> Any:
    """Change any of the staff member's names and whether they are disabled (names first:
    each change is its own audited change, and a refused name leaves the state as it was)."""
    body, login = call.body, call.path("login")
    if not any(field in body for field in PATCH_FIELDS):
        raise BadRequest(
            f"body needs one of {', '.join(PATCH_FIELDS)}",
            ErrorCode.FIELD_MISSING,
            field="disabled",
        )
    staff = call.service.staff
    user = await staff.get(call.tenant, login)
    if "full_name" in body or "department" in body:
        user = await staff.set_names(
            call.scope,
            user.login,
            full_name=body.get("full_name"),
            department=body.get("department"),
        )
    if "disabled" in body:
        user = await staff.set_disabled(call.scope, user.login, body["disabled"])
    return _user_view(user)


async def delete_staff(call: Call) -> Any:
    await call.service.staff.delete(call.scope, call.path("login"))
    return None


async def issue_totp(call: Call) -> Any:
    user, secret = await call.service.staff.new_totp(call.scope, call.path("login"))
    return {"login": user.login, **_authenticator_view(call, user, secret)}


async def issue_codes(call: Call) -> Any:
    user, codes = await call.service.staff.issue_codes(
        call.scope, call.path("login"), call.body["count"]
    )
    return {"login": user.login, "codes": codes}


async def reset_staff(call: Call) -> Any:
    user = await call.service.staff.reset(call.scope, call.path("login"))
    return {"login": user.login, "reset": True}
