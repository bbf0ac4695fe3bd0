"""The admin API's route table: every URL, method, handler, success status, body schema and
query parameter in one place, from which both the aiohttp router and the OpenAPI description are
built, so the description always matches what is served.

Every route is JSON in and out (an error body, see :mod:`relay.admin.errors`, with a 4xx status
for anything refused, and then nothing has changed); list routes that say so also answer CSV
with ``?format=csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.admin_api import API_PREFIX
from core.auth.lockout import (
    MAX_TENANT_LOCK_MINUTES,
    MAX_TENANT_LOCKOUT_FAILURES,
    MIN_TENANT_LOCK_MINUTES,
    MIN_TENANT_LOCKOUT_FAILURES,
)
from core.auth.one_time_codes import MAX_CODES_PER_ISSUE
from core.auth.passwords import MIN_CHOSEN_PASSWORD_CHARS
from core.hostpolicy.signed_devices import MAX_SIGNED_PAYLOAD_CHARS
from core.policy import (
    MAX_IDLE_TIMEOUT_S,
    MAX_SESSION_S,
    MAX_SHUTDOWN_WARNING_MIN,
    MAX_WATERMARK_TEXT,
    MIN_IDLE_TIMEOUT_S,
    MIN_SESSION_S,
    MIN_SHUTDOWN_WARNING_MIN,
)
from core.syslog import MAX_SYSLOG_CA_PEM_BYTES
from relay.admin import schema as s
from relay.admin.auth import Role
from relay.admin.call import Handler
from relay.admin.handlers import (
    admins,
    audit,
    grants,
    home_pcs,
    hosts,
    monitoring,
    policies,
    sessions,
    sign_in,
    signed_devices,
    staff,
    syslog,
    tenants,
)
from relay.admin.paging import PAGE_PARAMS
from relay.admin.params import Param
from relay.admin.reports import MAX_REPORT_JOBS, MAX_TENANT_REPORT_JOBS
from relay.admin.services.monitoring import MAX_USAGE_SESSIONS
from relay.admin.usage import MAX_USAGE_DAY, MIN_USAGE_DAY
from relay.store.audit import MAX_AUDIT_LIMIT
from relay.store.bandwidth import MAX_TENANT_BPS
from relay.store.hosts import MAX_ENROLLMENT_TTL_S
from relay.store.schema import (
    MAX_AUDIT_EVENT_LEN,
    MAX_DEPARTMENT_LEN,
    MAX_FULL_NAME_LEN,
    MAX_HOST_NAME_LEN,
    MAX_LOGIN_LEN,
    MAX_MAC_LABEL_LEN,
    MAX_SIGNING_KEY_LEN,
    MAX_SYSLOG_URL_LEN,
    MAX_TENANT_NAME_LEN,
)

# Longest password or OTP looked at when signing in.
MAX_PASSWORD_LEN = 256
MAX_OTP_LEN = 64
# Largest MAC text accepted before normalising ("aa-bb-cc-dd-ee-ff" with spaces around).
MAX_MAC_TEXT = 32
# An Ed25519 signature (64 bytes) in base64 is 88 characters.
MAX_SIGNATURE_TEXT = 88


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler  # its name is the OpenAPI operation's and the telework-ctl command's
    summary: str
    tag: str
    ok: int = 200
    body: dict[str, Any] | None = None
    query: tuple[Param, ...] = ()
    auth: bool = True
    csv: bool = False
    responses: dict[int, str] = field(default_factory=dict)
    # Who may call it: every route decides, here and nowhere else (the server refuses the
    # others with 403 before looking at anything the request names).
    roles: frozenset[Role] = field(kw_only=True)


# The roles of :attr:`Route.roles`, by what they let in.
EVERYONE = frozenset(Role)  # their own sign-in, and the tenants they may see
OPERATORS = frozenset({Role.OPERATOR})  # the relay-wide settings
MANAGERS = frozenset({Role.OPERATOR, Role.TENANT_ADMIN})  # any change to a tenant, its admins
READERS = MANAGERS | {Role.AUDITOR}  # reading anything of a tenant
STAFF_READERS = READERS | {Role.HELPDESK}  # reading its staff list
HELPDESK_WRITERS = MANAGERS | {Role.HELPDESK}  # staff one-time passwords and authenticators


# A report (relay.admin.reports) is made a few at a time.
_REPORT_RESPONSES = {
    429: f"reports_busy: the tenant's report ({MAX_TENANT_REPORT_JOBS} at once) or the relay's "
    f"({MAX_REPORT_JOBS}) are still being made; try again after Retry-After"
}
_FORMAT = Param("format", "string", "json (default) or csv", choices=("json", "csv"))
_TENANT = f"{API_PREFIX}/tenants/{{tenant}}"
_STAFF = f"{_TENANT}/staff/{{login}}"
_HOST = f"{_TENANT}/hosts/{{host_id}}"
_ADMIN = f"{API_PREFIX}/admins/{{admin}}"
_ROLE_NAMES = tuple(role.value for role in Role)
# The policy's numbers and switches are checked here too (core.policy checks the rest), so a
# refusal names the field and its bounds in the error's code and params.
_POLICY_BODY: dict[str, Any] = {
    "type": "object",
    "description": "a policy as core.policy.Policy.to_dict (allowed_hours, shutdown_at, "
    "shutdown_warning_min, idle_timeout_s, max_session_s, watermark, watermark_text, view_only, "
    "the home-PC check's keys; the tenant's alone: login_message, lockout_failures, "
    "lockout_minutes)",
    "properties": {
        "shutdown_warning_min": s.integer(MIN_SHUTDOWN_WARNING_MIN, MAX_SHUTDOWN_WARNING_MIN),
        "idle_timeout_s": s.integer(MIN_IDLE_TIMEOUT_S, MAX_IDLE_TIMEOUT_S, nullable=True),
        "max_session_s": s.integer(MIN_SESSION_S, MAX_SESSION_S, nullable=True),
        "watermark": {"type": "boolean"},
        "watermark_text": {"type": ["string", "null"], "maxLength": MAX_WATERMARK_TEXT},
        "view_only": {"type": "boolean"},
        "lockout_failures": s.integer(
            MIN_TENANT_LOCKOUT_FAILURES, MAX_TENANT_LOCKOUT_FAILURES, nullable=True
        ),
        "lockout_minutes": s.integer(
            MIN_TENANT_LOCK_MINUTES, MAX_TENANT_LOCK_MINUTES, nullable=True
        ),
    },
}

# A staff member's names: printable text ("" for none), checked by the directory too.
_STAFF_NAMES: dict[str, Any] = {
    "full_name": {"type": "string", "maxLength": MAX_FULL_NAME_LEN},
    "department": {"type": "string", "maxLength": MAX_DEPARTMENT_LEN},
}

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        f"{API_PREFIX}/login",
        sign_in.login,
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
        roles=EVERYONE,
    ),
    Route(
        "POST",
        f"{API_PREFIX}/logout",
        sign_in.logout,
        "End this sign-in",
        "session",
        ok=204,
        roles=EVERYONE,
    ),
    Route(
        "GET",
        f"{API_PREFIX}/me",
        sign_in.me,
        "Who this token signs in as",
        "session",
        roles=EVERYONE,
    ),
    Route(
        "POST",
        f"{API_PREFIX}/password",
        sign_in.change_password,
        f"Change this admin's own password (the current one required; the new one of at least "
        f"{MIN_CHOSEN_PASSWORD_CHARS} characters); ends their other sign-ins",
        "session",
        body=s.obj(
            ("current_password", "new_password"),
            current_password=s.text(MAX_PASSWORD_LEN),
            new_password=s.text(MAX_PASSWORD_LEN),
        ),
        responses={429: "locked out after too many failures"},
        roles=EVERYONE,
    ),
    Route(
        "GET",
        f"{API_PREFIX}/tenants",
        tenants.list_tenants,
        "Tenants this admin may see",
        "tenants",
        roles=EVERYONE,
    ),
    Route(
        "POST",
        f"{API_PREFIX}/tenants",
        tenants.add_tenant,
        "Add a tenant (operator only)",
        "tenants",
        ok=201,
        body=s.obj(("name",), name=s.text(MAX_TENANT_NAME_LEN)),
        roles=OPERATORS,
    ),
    Route(
        "GET",
        f"{API_PREFIX}/admins",
        admins.list_admins,
        "Admins this admin may see (an operator: every one; a tenant's admin or auditor: the "
        "tenant's), by login, with role, tenant, disabled and last sign-in",
        "admins",
        roles=READERS,
    ),
    Route(
        "POST",
        f"{API_PREFIX}/admins",
        admins.add_admin,
        "Add an admin with a role no higher than one's own (a tenant admin: to its own tenant "
        "only; an operator has no tenant); returns their initial password and TOTP secret and "
        "otpauth URI (shown once)",
        "admins",
        ok=201,
        body=s.obj(
            ("login", "role"),
            login=s.text(MAX_LOGIN_LEN),
            role=s.choice(_ROLE_NAMES),
            tenant={"type": ["string", "null"], "minLength": 1, "maxLength": MAX_TENANT_NAME_LEN},
        ),
        roles=MANAGERS,
    ),
    Route(
        "PATCH",
        _ADMIN,
        admins.patch_admin,
        "Disable or enable an admin, or give a tenant's admin another tenant role; their "
        "sign-ins end. Not oneself, nor the last enabled operator; at least one field",
        "admins",
        body=s.obj(disabled={"type": "boolean"}, role=s.choice(_ROLE_NAMES)),
        roles=MANAGERS,
    ),
    Route(
        "DELETE",
        _ADMIN,
        admins.delete_admin,
        "Delete an admin (not oneself, nor the last enabled operator); their sign-ins end",
        "admins",
        ok=204,
        roles=MANAGERS,
    ),
    Route(
        "POST",
        f"{_ADMIN}/password",
        admins.reset_admin_password,
        "Give the admin a new random password (shown once); their sign-ins end",
        "admins",
        roles=MANAGERS,
    ),
    Route(
        "POST",
        f"{_ADMIN}/totp",
        admins.reset_admin_totp,
        "Give the admin a new TOTP authenticator (secret and otpauth URI shown once); their "
        "sign-ins end",
        "admins",
        roles=MANAGERS,
    ),
    Route(
        "POST",
        f"{_ADMIN}/sign-out",
        admins.sign_out_admin,
        "End every sign-in of the admin at once, on every relay node",
        "admins",
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/staff",
        staff.list_staff,
        "Staff of the tenant, by login (all, or a page)",
        "staff",
        query=PAGE_PARAMS,
        roles=STAFF_READERS,
    ),
    Route(
        "POST",
        f"{_TENANT}/staff",
        staff.add_staff,
        "Add a staff member (optionally with full name and department); returns their TOTP "
        "secret and otpauth URI (shown once)",
        "staff",
        ok=201,
        body=s.obj(("login",), login=s.text(MAX_LOGIN_LEN), **_STAFF_NAMES),
        roles=MANAGERS,
    ),
    Route(
        "GET",
        _STAFF,
        staff.get_staff,
        "One staff member, with unused codes and office PCs",
        "staff",
        roles=READERS,
    ),
    Route(
        "PATCH",
        _STAFF,
        staff.patch_staff,
        "Disable or enable a staff member, or change their full name or department (empty: "
        "none); at least one field",
        "staff",
        body=s.obj(disabled={"type": "boolean"}, **_STAFF_NAMES),
        roles=MANAGERS,
    ),
    Route(
        "DELETE",
        _STAFF,
        staff.delete_staff,
        "Delete a staff member",
        "staff",
        ok=204,
        roles=MANAGERS,
    ),
    Route(
        "POST",
        f"{_STAFF}/totp",
        staff.issue_totp,
        "Issue a new TOTP authenticator (the old one stops working)",
        "staff",
        roles=HELPDESK_WRITERS,
    ),
    Route(
        "POST",
        f"{_STAFF}/codes",
        staff.issue_codes,
        "Issue single-use codes (replaces unused ones)",
        "staff",
        body=s.obj(("count",), count=s.integer(1, MAX_CODES_PER_ISSUE)),
        roles=HELPDESK_WRITERS,
    ),
    Route(
        "POST",
        f"{_STAFF}/reset",
        staff.reset_staff,
        "Revoke the staff member's TOTP, unused codes and resume tickets",
        "staff",
        roles=HELPDESK_WRITERS,
    ),
    Route(
        "POST",
        f"{_TENANT}/enrollment-tokens",
        hosts.enrollment_token,
        "Issue a single-use, expiring office-PC enrolment token",
        "office PCs",
        ok=201,
        body=s.obj(ttl_s=s.integer(60, int(MAX_ENROLLMENT_TTL_S))),
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/hosts",
        hosts.list_hosts,
        "Office PCs with online state, agent version, last seen and last session, whether each "
        "may wake others and its network card (MAC, IPv4 address/prefix; null if not "
        "reported), by name (all, or a page)",
        "office PCs",
        query=(Param("include_retired", "boolean", "also list retired office PCs"), *PAGE_PARAMS),
        roles=READERS,
    ),
    Route(
        "PATCH",
        _HOST,
        hosts.patch_host,
        "Rename an office PC, let it wake others of its LAN (Wake-on-LAN: one that stays "
        "on), or switch its central MAC check; at least one field. Answers the office PC as "
        "listed",
        "office PCs",
        body=s.obj(
            name=s.text(MAX_HOST_NAME_LEN),
            can_wake={
                "type": "boolean",
                "description": "may send Wake-on-LAN packets to wake other office PCs of the "
                "municipality on its LAN",
            },
            central_macs={
                "type": "boolean",
                "description": "the central MAC check: on once its central list held a home PC; "
                "with it on, an empty list lets nobody in. Off only with an empty list",
            },
        ),
        roles=MANAGERS,
    ),
    Route(
        "DELETE",
        _HOST,
        hosts.retire_host,
        "Retire an office PC for good",
        "office PCs",
        ok=204,
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/grants",
        grants.list_grants,
        "Who may use which office PC, by login (all, or a page)",
        "grants",
        query=PAGE_PARAMS,
        roles=READERS,
    ),
    Route(
        "POST",
        f"{_TENANT}/grants",
        grants.add_grant,
        "Let a staff member use an office PC",
        "grants",
        ok=201,
        body=s.obj(("login", "host_id"), login=s.text(MAX_LOGIN_LEN), host_id=s.text(64)),
        roles=MANAGERS,
    ),
    Route(
        "DELETE",
        f"{_TENANT}/grants/{{login}}/{{host_id}}",
        grants.delete_grant,
        "Withdraw a grant",
        "grants",
        ok=204,
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/home-pcs",
        home_pcs.list_macs,
        "Registered home-PC MAC addresses",
        "home PCs",
        roles=READERS,
    ),
    Route(
        "POST",
        f"{_TENANT}/home-pcs",
        home_pcs.add_mac,
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
        roles=MANAGERS,
    ),
    Route(
        "DELETE",
        f"{_TENANT}/home-pcs/{{registration_id}}",
        home_pcs.delete_mac,
        "Remove a home-PC registration",
        "home PCs",
        ok=204,
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/policy",
        policies.get_tenant_policy,
        "The tenant's policy",
        "policies",
        roles=READERS,
    ),
    Route(
        "PUT",
        f"{_TENANT}/policy",
        policies.put_tenant_policy,
        "Set the tenant's policy; pushed to its online office PCs",
        "policies",
        body=_POLICY_BODY,
        roles=MANAGERS,
    ),
    Route(
        "DELETE",
        f"{_TENANT}/policy",
        policies.delete_tenant_policy,
        "Remove the tenant's policy",
        "policies",
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_HOST}/policy",
        policies.get_host_policy,
        "An office PC's own and effective policy",
        "policies",
        roles=READERS,
    ),
    Route(
        "PUT",
        f"{_HOST}/policy",
        policies.put_host_policy,
        "Set an office PC's own policy (combined with the tenant's, stricter wins)",
        "policies",
        body=_POLICY_BODY,
        roles=MANAGERS,
    ),
    Route(
        "DELETE",
        f"{_HOST}/policy",
        policies.delete_host_policy,
        "Remove an office PC's own policy",
        "policies",
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/signing-key",
        signed_devices.get_signing_key,
        "The public half of the municipality's signing key for central home-PC registration",
        "home PCs",
        roles=READERS,
    ),
    Route(
        "PUT",
        f"{_TENANT}/signing-key",
        signed_devices.put_signing_key,
        "Set the public half of the municipality's signing key (its private half stays on the "
        "admins' PCs); replacing another one needs replace: true, as office PCs pinned it",
        "home PCs",
        body=s.obj(
            ("public_key",),
            public_key=s.text(MAX_SIGNING_KEY_LEN),
            replace={"type": "boolean"},
        ),
        responses={409: "the municipality has another signing key and replace was not true"},
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_HOST}/device-list",
        signed_devices.get_device_list,
        "The office PC's central list of home PCs as an admin signed it (null: none)",
        "home PCs",
        roles=READERS,
    ),
    Route(
        "PUT",
        f"{_HOST}/device-list",
        signed_devices.put_device_list,
        "Store the office PC's central list of home PCs, signed by the municipality's key with "
        "a serial above the stored one, and push it to the office PC, which verifies it",
        "home PCs",
        body=s.obj(
            ("payload", "signature", "public_key"),
            payload=s.text(MAX_SIGNED_PAYLOAD_CHARS),
            signature=s.text(MAX_SIGNATURE_TEXT),
            public_key=s.text(MAX_SIGNING_KEY_LEN),
        ),
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/sessions",
        sessions.list_sessions,
        "Live sessions with bandwidth",
        "sessions",
        roles=READERS,
    ),
    Route(
        "DELETE",
        f"{_TENANT}/sessions/{{session_id}}",
        sessions.end_session,
        "End a live session",
        "sessions",
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/bandwidth",
        monitoring.bandwidth,
        "The tenant's total bandwidth now and recently, against its threshold",
        "monitoring",
        roles=READERS,
    ),
    Route(
        "PUT",
        f"{_TENANT}/bandwidth/limits",
        monitoring.set_limits,
        "Set the tenant's alert threshold and hard cap in bit/s (operator only)",
        "monitoring",
        body=s.obj(
            alert_bps=s.integer(1_000, MAX_TENANT_BPS, nullable=True),
            cap_bps=s.integer(10_000, MAX_TENANT_BPS, nullable=True),
        ),
        roles=OPERATORS,
    ),
    Route(
        "GET",
        f"{_TENANT}/alerts",
        monitoring.alerts,
        "Bandwidth alerts",
        "monitoring",
        roles=READERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/syslog",
        syslog.get_syslog,
        "The tenant's syslog collector",
        "syslog",
        roles=READERS,
    ),
    Route(
        "PUT",
        f"{_TENANT}/syslog",
        syslog.put_syslog,
        "Send copies of the tenant's audit records to its syslog collector: tls://HOST:PORT "
        "(RFC 5425; its certificate checked against ca_pem, or its SHA-256 fingerprint, or the "
        "system's CAs) or udp://HOST:PORT (RFC 5426, unencrypted)",
        "syslog",
        body=s.obj(
            ("url",),
            url=s.text(MAX_SYSLOG_URL_LEN),
            ca_pem={"type": ["string", "null"], "maxLength": MAX_SYSLOG_CA_PEM_BYTES},
            fingerprint={"type": ["string", "null"], "maxLength": 100},
        ),
        roles=MANAGERS,
    ),
    Route(
        "DELETE",
        f"{_TENANT}/syslog",
        syslog.delete_syslog,
        "Stop sending the tenant's audit records to a syslog collector",
        "syslog",
        roles=MANAGERS,
    ),
    Route(
        "GET",
        f"{_TENANT}/usage",
        monitoring.usage,
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
        roles=READERS,
        responses={
            **_REPORT_RESPONSES,
            413: f"more than {MAX_USAGE_SESSIONS} sessions in these days: ask for fewer",
        },
    ),
    Route(
        "GET",
        f"{_TENANT}/audit",
        audit.audit,
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
        roles=READERS,
        responses=_REPORT_RESPONSES,
    ),
)


__all__ = ["ROUTES", "Route"]
