"""The admin API's endpoints: one table of routes from which both the aiohttp router and the
OpenAPI description are built, so the description always matches what is served.

Every route is JSON in and out (``{"error": "..."}`` with a 4xx status for anything refused,
and then nothing has changed); list routes that say so also answer CSV with ``?format=csv``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from core.auth.one_time_codes import MAX_CODES_PER_ISSUE
from relay.admin import params
from relay.admin import schema as s
from relay.admin.auth import AdminSession
from relay.admin.errors import NotFoundError
from relay.admin.params import Param
from relay.admin.service import END_REASON_ADMIN, AdminService, session_info, uri_for
from relay.admin.usage import MAX_USAGE_DAY, MAX_USAGE_DAYS, MIN_USAGE_DAY, to_csv
from relay.store.directory import (
    MAX_AUDIT_LIMIT,
    MAX_ENROLLMENT_TTL_S,
    MAX_TENANT_BPS,
    AuditRecord,
    canonical_login,
)
from relay.store.schema import (
    MAX_AUDIT_EVENT_LEN,
    MAX_HOST_NAME_LEN,
    MAX_LOGIN_LEN,
    MAX_MAC_LABEL_LEN,
    MAX_TENANT_NAME_LEN,
)

API = "/api/v1"
# Default life of an enrolment token made in the console: until the same time tomorrow.
DEFAULT_ENROLLMENT_TTL_S = 24 * 3600
# Longest password or OTP looked at when signing in.
MAX_PASSWORD_LEN = 256
MAX_OTP_LEN = 64
# Audit records one query returns by default.
DEFAULT_AUDIT_ROWS = 1000
# Largest MAC text accepted before normalising ("aa-bb-cc-dd-ee-ff" with spaces around).
MAX_MAC_TEXT = 32


@dataclass
class Call:
    """One request as a handler sees it: who, which tenant, the checked body and query."""

    request: web.Request
    service: AdminService
    who: AdminSession | None
    token: str
    tenant: str
    body: Any
    query: dict[str, Any]

    @property
    def source(self) -> str:
        return self.request.remote or "unknown"

    @property
    def admin(self) -> AdminSession:
        assert self.who is not None
        return self.who

    def path(self, name: str) -> str:
        return self.request.match_info[name]

    def host_id(self) -> str:
        return params.host_id(self.path("host_id"))

    async def audit(self, event: str, **fields: Any) -> None:
        await self.service.audit(self.admin, event, self.source, tenant=self.tenant, **fields)


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    ok: int = 200
    body: dict[str, Any] | None = None
    query: tuple[Param, ...] = ()
    auth: bool = True
    operator_only: bool = False
    csv: bool = False
    responses: dict[int, str] = field(default_factory=dict)


class Csv:
    """A handler's answer when the client asked for CSV."""

    def __init__(self, filename: str, header: list[str], rows: list[list[Any]]) -> None:
        self.filename = filename
        self.text = to_csv(header, rows)


# --- sign-in ------------------------------------------------------------------------------------


async def login(call: Call) -> Any:
    body = call.body
    return await call.service.sign_in(body["login"], body["password"], body["otp"], call.source)


async def logout(call: Call) -> Any:
    call.service.sessions.close(call.token)
    await call.service.audit(call.admin, "logout", call.source, tenant=call.admin.tenant)
    return None


async def me(call: Call) -> Any:
    return session_info(call.admin)


# --- tenants ------------------------------------------------------------------------------------


async def list_tenants(call: Call) -> Any:
    tenants = await call.service.db(call.service.directory.list_tenants)
    return {
        "tenants": [
            {"name": t.name, "created_at": t.created_at}
            for t in tenants
            if call.admin.may_see(t.name)
        ]
    }


async def add_tenant(call: Call) -> Any:
    tenant = await call.service.db(call.service.directory.add_tenant, call.body["name"])
    await call.service.audit(call.admin, "tenant_add", call.source, tenant=tenant.name)
    return {"name": tenant.name, "created_at": tenant.created_at}


# --- staff --------------------------------------------------------------------------------------


def _user_view(user: Any) -> dict[str, Any]:
    return {
        "login": user.login,
        "disabled": user.disabled,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


def _end_sessions(call: Call, login: str, host_id: str | None = None) -> list[str]:
    """End the staff member's live sessions (on ``host_id`` only, if given): an admin has just
    taken that access away. The viewer is told an admin ended it."""
    return call.service.end_sessions(call.tenant, END_REASON_ADMIN, user=login, host_id=host_id)


async def list_staff(call: Call) -> Any:
    users = await call.service.db(call.service.directory.list_users, call.tenant)
    return {"staff": [_user_view(u) for u in users]}


async def add_staff(call: Call) -> Any:
    user, secret = await call.service.db(
        call.service.directory.add_user, call.tenant, call.body["login"], now=call.service.clock()
    )
    await call.audit("staff_add", user=user.login)
    return {
        **_user_view(user),
        "totp_secret": secret,
        "otpauth_uri": uri_for(secret, user.login, call.tenant),
    }


async def _user(call: Call) -> Any:
    user = await call.service.db(call.service.directory.get_user, call.tenant, call.path("login"))
    if user is None:
        raise NotFoundError("no such staff member")
    return user


async def get_staff(call: Call) -> Any:
    user = await _user(call)
    directory = call.service.directory
    codes = await call.service.db(directory.unused_code_count, call.tenant, user.login)
    grants = await call.service.db(directory.hosts_affected_by_user, call.tenant, user.login)
    return {**_user_view(user), "unused_codes": codes, "hosts": grants}


async def patch_staff(call: Call) -> Any:
    user = await _user(call)
    disabled = call.body["disabled"]
    await call.service.db(
        call.service.directory.set_user_disabled, call.tenant, user.login, disabled
    )
    if disabled:
        ended = _end_sessions(call, user.login)
        await call.audit("staff_disable", user=user.login, detail={"sessions_ended": ended})
    else:
        await call.audit("staff_enable", user=user.login)
    return {**_user_view(user), "disabled": disabled}


async def delete_staff(call: Call) -> Any:
    user = await _user(call)
    hosts = await call.service.db(
        call.service.directory.hosts_affected_by_user, call.tenant, user.login
    )
    await call.service.db(call.service.directory.delete_user, call.tenant, user.login)
    ended = _end_sessions(call, user.login)
    await call.audit("staff_delete", user=user.login, detail={"sessions_ended": ended})
    await call.service.push_policies(hosts)  # their home PCs leave those lists
    return None


async def issue_totp(call: Call) -> Any:
    user = await _user(call)
    secret = await call.service.db(call.service.directory.reset_totp, call.tenant, user.login)
    await call.audit("staff_totp", user=user.login)
    return {
        "login": user.login,
        "totp_secret": secret,
        "otpauth_uri": uri_for(secret, user.login, call.tenant),
    }


async def issue_codes(call: Call) -> Any:
    user = await _user(call)
    count = call.body["count"]
    codes = await call.service.db(
        call.service.directory.issue_codes,
        call.tenant,
        user.login,
        count,
        now=call.service.clock(),
    )
    await call.audit("staff_codes", user=user.login, detail={"count": count})
    return {"login": user.login, "codes": codes}


async def reset_staff(call: Call) -> Any:
    user = await _user(call)
    await call.service.db(call.service.directory.revoke_staff_credentials, call.tenant, user.login)
    ended = _end_sessions(call, user.login)
    await call.audit("staff_reset", user=user.login, detail={"sessions_ended": ended})
    return {"login": user.login, "reset": True}


# --- office PCs ---------------------------------------------------------------------------------


async def enrollment_token(call: Call) -> Any:
    ttl = (
        call.body.get("ttl_s", DEFAULT_ENROLLMENT_TTL_S) if call.body else DEFAULT_ENROLLMENT_TTL_S
    )
    now = call.service.clock()
    token = await call.service.db(
        call.service.directory.issue_enrollment_token, call.tenant, ttl, now
    )
    await call.audit("enrollment_token", detail={"expires_at": now + ttl})
    return {"token": token, "expires_at": now + ttl}


async def list_hosts(call: Call) -> Any:
    directory = call.service.directory
    retired = bool(call.query.get("include_retired"))
    hosts = await call.service.db(directory.list_hosts, call.tenant, include_retired=retired)
    last = await call.service.db(directory.last_session_by_host, call.tenant)
    return {"hosts": [{**call.service.host_view(h, last), "retired": h.retired} for h in hosts]}


async def rename_host(call: Call) -> Any:
    host_id = call.host_id()
    name = await call.service.db(
        call.service.directory.rename_host, call.tenant, host_id, call.body["name"]
    )
    await call.audit("host_rename", host_id=host_id, detail={"name": name})
    return {"host_id": host_id, "name": name}


async def retire_host(call: Call) -> Any:
    host_id = call.host_id()
    await call.service.db(call.service.directory.retire_host, call.tenant, host_id)
    await call.audit("host_retire", host_id=host_id)
    call.service.end_sessions(call.tenant, "host_retired", host_id=host_id)
    channel = call.service.server.hosts.get(host_id)
    if channel is not None:  # a retired host may not stay connected
        await channel.stream.close()
    return None


# --- grants -------------------------------------------------------------------------------------


async def list_grants(call: Call) -> Any:
    pairs = await call.service.db(call.service.directory.list_grants, call.tenant)
    return {"grants": [{"login": login, "host_id": host} for login, host in pairs]}


async def add_grant(call: Call) -> Any:
    host_id = params.host_id(call.body["host_id"])
    login_name = canonical_login(call.body["login"])
    # The store refuses a grant that would take the office PC's central list past MAX_MACS.
    await call.service.db(
        call.service.directory.grant, call.tenant, login_name, host_id, now=call.service.clock()
    )
    await call.audit("grant", user=login_name, host_id=host_id)
    await call.service.push_policies([host_id])
    return {"login": login_name, "host_id": host_id}


async def delete_grant(call: Call) -> Any:
    host_id = call.host_id()
    login_name = canonical_login(call.path("login"))
    removed = await call.service.db(call.service.directory.revoke, call.tenant, login_name, host_id)
    if not removed:
        raise NotFoundError("no such grant")
    ended = _end_sessions(call, login_name, host_id)
    await call.audit("revoke", user=login_name, host_id=host_id, detail={"sessions_ended": ended})
    await call.service.push_policies([host_id])
    return None


# --- home PCs -----------------------------------------------------------------------------------


def _mac_view(m: Any) -> dict[str, Any]:
    return {
        "id": m.id,
        "mac": m.mac,
        "login": m.login,
        "host_id": m.host_id,
        "label": m.label,
        "created_at": m.created_at,
    }


async def list_macs(call: Call) -> Any:
    macs = await call.service.db(call.service.directory.list_macs, call.tenant)
    return {"home_pcs": [_mac_view(m) for m in macs]}


async def _mac_hosts(call: Call, login: str | None, host_id: str | None) -> list[str]:
    if host_id is not None:
        return [host_id]
    assert login is not None
    return await call.service.db(call.service.directory.hosts_affected_by_user, call.tenant, login)


async def add_mac(call: Call) -> Any:
    body = call.body
    host_id = body.get("host_id")
    if host_id is not None:
        host_id = params.host_id(host_id)
    registration = await call.service.db(
        call.service.directory.add_mac,
        call.tenant,
        body["mac"],
        login=body.get("login"),
        host_id=host_id,
        label=body.get("label", ""),
        now=call.service.clock(),
    )
    await call.audit(
        "home_pc_add",
        user=registration.login,
        host_id=registration.host_id,
        detail={"mac": registration.mac},
    )
    await call.service.push_policies(
        await _mac_hosts(call, registration.login, registration.host_id)
    )
    return _mac_view(registration)


async def delete_mac(call: Call) -> Any:
    registration_id = params.registration_id(call.path("registration_id"))
    removed = await call.service.db(call.service.directory.delete_mac, call.tenant, registration_id)
    await call.audit(
        "home_pc_delete", user=removed.login, host_id=removed.host_id, detail={"mac": removed.mac}
    )
    await call.service.push_policies(await _mac_hosts(call, removed.login, removed.host_id))
    return None


# --- policies -----------------------------------------------------------------------------------


async def _tenant_hosts(call: Call) -> list[str]:
    hosts = await call.service.db(call.service.directory.list_hosts, call.tenant)
    return [h.host_id for h in hosts]


async def get_tenant_policy(call: Call) -> Any:
    policy = await call.service.db(call.service.directory.get_tenant_policy, call.tenant)
    return {"policy": policy}


async def put_tenant_policy(call: Call) -> Any:
    policy = await call.service.db(
        call.service.directory.set_tenant_policy, call.tenant, call.body, now=call.service.clock()
    )
    await call.audit("policy_set", detail={"policy": policy})
    pushed = await call.service.push_policies(await _tenant_hosts(call))
    return {"policy": policy, "pushed_to": pushed}


async def delete_tenant_policy(call: Call) -> Any:
    await call.service.db(
        call.service.directory.set_tenant_policy, call.tenant, None, now=call.service.clock()
    )
    await call.audit("policy_clear")
    pushed = await call.service.push_policies(await _tenant_hosts(call))
    return {"policy": None, "pushed_to": pushed}


async def get_host_policy(call: Call) -> Any:
    host_id = call.host_id()
    directory = call.service.directory
    policy = await call.service.db(directory.get_host_policy, call.tenant, host_id)
    effective = await call.service.db(directory.effective_policy, host_id)
    return {"host_id": host_id, "policy": policy, "effective": effective}


async def put_host_policy(call: Call) -> Any:
    host_id = call.host_id()
    policy = await call.service.db(
        call.service.directory.set_host_policy,
        call.tenant,
        host_id,
        call.body,
        now=call.service.clock(),
    )
    await call.audit("host_policy_set", host_id=host_id, detail={"policy": policy})
    pushed = await call.service.push_policies([host_id])
    return {"host_id": host_id, "policy": policy, "pushed_to": pushed}


async def delete_host_policy(call: Call) -> Any:
    host_id = call.host_id()
    await call.service.db(
        call.service.directory.set_host_policy,
        call.tenant,
        host_id,
        None,
        now=call.service.clock(),
    )
    await call.audit("host_policy_clear", host_id=host_id)
    pushed = await call.service.push_policies([host_id])
    return {"host_id": host_id, "policy": None, "pushed_to": pushed}


# --- live sessions and monitoring ---------------------------------------------------------------


async def list_sessions(call: Call) -> Any:
    return {"sessions": call.service.live_sessions(call.tenant)}


async def end_session(call: Call) -> Any:
    session_id = params.session_id(call.path("session_id"))
    ended = call.service.end_session(call.tenant, session_id)
    await call.audit(
        "session_end_request",
        user=ended["user"],
        host_id=ended["host_id"],
        detail={"session": ended["session_id"]},
    )
    return {**ended, "ending": True}


async def bandwidth(call: Call) -> Any:
    return call.service.bandwidth(call.tenant)


async def set_limits(call: Call) -> Any:
    alert_bps, cap_bps = call.body.get("alert_bps"), call.body.get("cap_bps")
    await call.service.set_limits(call.tenant, alert_bps, cap_bps)
    await call.audit("bandwidth_limits", detail={"alert_bps": alert_bps, "cap_bps": cap_bps})
    return {"tenant": call.tenant, "alert_bps": alert_bps, "cap_bps": cap_bps}


async def alerts(call: Call) -> Any:
    return {
        "alerting": call.service.bandwidth(call.tenant)["alerting"],
        "alerts": await call.service.alerts(call.tenant),
    }


async def usage(call: Call) -> Any:
    days = await call.service.usage(call.tenant, call.query.get("since"), call.query.get("until"))
    if call.query.get("format") == "csv":
        header = list(days[0]) if days else ["day"]
        return Csv(f"usage-{call.tenant}.csv", header, [list(d.values()) for d in days])
    return {"tenant": call.tenant, "days": days}


# --- audit --------------------------------------------------------------------------------------

AUDIT_COLUMNS = ["id", "time", "event", "tenant", "user", "host_id", "source", "detail"]


def _audit_view(r: AuditRecord) -> dict[str, Any]:
    return dataclasses.asdict(r)


async def audit(call: Call) -> Any:
    q = call.query
    records = await call.service.db(
        call.service.directory.list_audit,
        tenant=call.tenant,
        since=q.get("since"),
        until=q.get("until"),
        user=q.get("user"),  # the store matches it however it is typed
        host_id=None if q.get("host_id") is None else params.host_id(q["host_id"]),
        event=q.get("event"),
        limit=q.get("limit") or DEFAULT_AUDIT_ROWS,
    )
    if q.get("format") == "csv":
        rows = [
            [
                r.id,
                dt.datetime.fromtimestamp(r.ts).astimezone().isoformat(timespec="seconds"),
                r.event,
                r.tenant,
                r.user,
                r.host_id,
                r.source,
                json.dumps(r.detail, ensure_ascii=False, sort_keys=True),
            ]
            for r in records
        ]
        return Csv(f"audit-{call.tenant}.csv", AUDIT_COLUMNS, rows)
    return {"records": [_audit_view(r) for r in records]}


# --- the table ----------------------------------------------------------------------------------

_FORMAT = Param("format", "string", "json (default) or csv", choices=("json", "csv"))
_TENANT = f"{API}/tenants/{{tenant}}"
_STAFF = f"{_TENANT}/staff/{{login}}"
_HOST = f"{_TENANT}/hosts/{{host_id}}"
_POLICY_BODY: dict[str, Any] = {
    "type": "object",
    "description": "a policy as core.policy.Policy.to_dict (allowed_hours, shutdown_at, "
    "shutdown_warning_min, idle_timeout_s, max_session_s, watermark, view_only)",
}

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        f"{API}/login",
        login,
        "Sign in with login, password and TOTP; returns a short-lived bearer token",
        "session",
        body=s.obj(
            ("login", "password", "otp"),
            login=s.text(MAX_LOGIN_LEN),
            password=s.text(MAX_PASSWORD_LEN),
            otp=s.text(MAX_OTP_LEN),
        ),
        auth=False,
        responses={429: "locked out after too many failures"},
    ),
    Route("POST", f"{API}/logout", logout, "End this sign-in", "session", ok=204),
    Route("GET", f"{API}/me", me, "Who this token signs in as", "session"),
    Route("GET", f"{API}/tenants", list_tenants, "Tenants this admin may see", "tenants"),
    Route(
        "POST",
        f"{API}/tenants",
        add_tenant,
        "Add a tenant (operator only)",
        "tenants",
        ok=201,
        body=s.obj(("name",), name=s.text(MAX_TENANT_NAME_LEN)),
        operator_only=True,
    ),
    Route("GET", f"{_TENANT}/staff", list_staff, "Staff of the tenant", "staff"),
    Route(
        "POST",
        f"{_TENANT}/staff",
        add_staff,
        "Add a staff member; returns their TOTP secret and otpauth URI (shown once)",
        "staff",
        ok=201,
        body=s.obj(("login",), login=s.text(MAX_LOGIN_LEN)),
    ),
    Route("GET", _STAFF, get_staff, "One staff member, with unused codes and office PCs", "staff"),
    Route(
        "PATCH",
        _STAFF,
        patch_staff,
        "Disable or enable a staff member",
        "staff",
        body=s.obj(("disabled",), disabled={"type": "boolean"}),
    ),
    Route("DELETE", _STAFF, delete_staff, "Delete a staff member", "staff", ok=204),
    Route(
        "POST",
        f"{_STAFF}/totp",
        issue_totp,
        "Issue a new TOTP authenticator (the old one stops working)",
        "staff",
    ),
    Route(
        "POST",
        f"{_STAFF}/codes",
        issue_codes,
        "Issue single-use codes (replaces unused ones)",
        "staff",
        body=s.obj(("count",), count=s.integer(1, MAX_CODES_PER_ISSUE)),
    ),
    Route(
        "POST",
        f"{_STAFF}/reset",
        reset_staff,
        "Revoke the staff member's TOTP, unused codes and resume tickets",
        "staff",
    ),
    Route(
        "POST",
        f"{_TENANT}/enrollment-tokens",
        enrollment_token,
        "Issue a single-use, expiring office-PC enrolment token",
        "office PCs",
        ok=201,
        body=s.obj(ttl_s=s.integer(60, int(MAX_ENROLLMENT_TTL_S))),
    ),
    Route(
        "GET",
        f"{_TENANT}/hosts",
        list_hosts,
        "Office PCs with online state, agent version, last seen and last session",
        "office PCs",
        query=(Param("include_retired", "boolean", "also list retired office PCs"),),
    ),
    Route(
        "PATCH",
        _HOST,
        rename_host,
        "Rename an office PC",
        "office PCs",
        body=s.obj(("name",), name=s.text(MAX_HOST_NAME_LEN)),
    ),
    Route("DELETE", _HOST, retire_host, "Retire an office PC for good", "office PCs", ok=204),
    Route("GET", f"{_TENANT}/grants", list_grants, "Who may use which office PC", "grants"),
    Route(
        "POST",
        f"{_TENANT}/grants",
        add_grant,
        "Let a staff member use an office PC",
        "grants",
        ok=201,
        body=s.obj(("login", "host_id"), login=s.text(MAX_LOGIN_LEN), host_id=s.text(64)),
    ),
    Route(
        "DELETE",
        f"{_TENANT}/grants/{{login}}/{{host_id}}",
        delete_grant,
        "Withdraw a grant",
        "grants",
        ok=204,
    ),
    Route("GET", f"{_TENANT}/home-pcs", list_macs, "Registered home-PC MAC addresses", "home PCs"),
    Route(
        "POST",
        f"{_TENANT}/home-pcs",
        add_mac,
        "Register a home PC's MAC for a staff member or an office PC (pushed to the PCs)",
        "home PCs",
        ok=201,
        body=s.obj(
            ("mac",),
            mac=s.text(MAX_MAC_TEXT),
            login=s.text(MAX_LOGIN_LEN),
            host_id=s.text(64),
            label={"type": "string", "maxLength": MAX_MAC_LABEL_LEN},
        ),
    ),
    Route(
        "DELETE",
        f"{_TENANT}/home-pcs/{{registration_id}}",
        delete_mac,
        "Remove a home-PC registration",
        "home PCs",
        ok=204,
    ),
    Route("GET", f"{_TENANT}/policy", get_tenant_policy, "The tenant's policy", "policies"),
    Route(
        "PUT",
        f"{_TENANT}/policy",
        put_tenant_policy,
        "Set the tenant's policy; pushed to its online office PCs",
        "policies",
        body=_POLICY_BODY,
    ),
    Route(
        "DELETE",
        f"{_TENANT}/policy",
        delete_tenant_policy,
        "Remove the tenant's policy",
        "policies",
    ),
    Route(
        "GET",
        f"{_HOST}/policy",
        get_host_policy,
        "An office PC's own and effective policy",
        "policies",
    ),
    Route(
        "PUT",
        f"{_HOST}/policy",
        put_host_policy,
        "Set an office PC's own policy (combined with the tenant's, stricter wins)",
        "policies",
        body=_POLICY_BODY,
    ),
    Route(
        "DELETE",
        f"{_HOST}/policy",
        delete_host_policy,
        "Remove an office PC's own policy",
        "policies",
    ),
    Route("GET", f"{_TENANT}/sessions", list_sessions, "Live sessions with bandwidth", "sessions"),
    Route(
        "DELETE",
        f"{_TENANT}/sessions/{{session_id}}",
        end_session,
        "End a live session",
        "sessions",
    ),
    Route(
        "GET",
        f"{_TENANT}/bandwidth",
        bandwidth,
        "The tenant's total bandwidth now and recently, against its threshold",
        "monitoring",
    ),
    Route(
        "PUT",
        f"{_TENANT}/bandwidth/limits",
        set_limits,
        "Set the tenant's alert threshold and hard cap in bit/s (operator only)",
        "monitoring",
        body=s.obj(
            alert_bps=s.integer(1_000, MAX_TENANT_BPS, nullable=True),
            cap_bps=s.integer(10_000, MAX_TENANT_BPS, nullable=True),
        ),
        operator_only=True,
    ),
    Route("GET", f"{_TENANT}/alerts", alerts, "Bandwidth alerts", "monitoring"),
    Route(
        "GET",
        f"{_TENANT}/usage",
        usage,
        "Daily usage: office PCs used, staff, sessions, peak concurrent sessions, hours",
        "monitoring",
        query=(
            Param(
                "since",
                "date",
                f"first day, YYYY-MM-DD, from {MIN_USAGE_DAY} (default: six days before until)",
            ),
            Param("until", "date", f"last day, YYYY-MM-DD, up to {MAX_USAGE_DAY} (default: today)"),
            _FORMAT,
        ),
        csv=True,
    ),
    Route(
        "GET",
        f"{_TENANT}/audit",
        audit,
        "Search the audit log (newest records matching, oldest first)",
        "audit",
        query=(
            Param("since", "number", "from this POSIX time (inclusive)", 0, 1e11),
            Param("until", "number", "before this POSIX time", 0, 1e11),
            Param("user", "string", "staff login", max_length=MAX_LOGIN_LEN),
            Param("host_id", "string", "office PC (dashes optional)", max_length=64),
            Param("event", "string", "event code", max_length=MAX_AUDIT_EVENT_LEN),
            Param("limit", "integer", "most records returned", 1, MAX_AUDIT_LIMIT),
            _FORMAT,
        ),
        csv=True,
    ),
)


__all__ = ["API", "MAX_USAGE_DAYS", "ROUTES", "Call", "Csv", "Route"]
