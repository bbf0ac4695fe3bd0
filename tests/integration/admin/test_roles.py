"""Every admin API route, called by each role: the route table lets in exactly the roles this
test's table names, and refuses the others with 403 and a code naming why, before anything
is looked at or changed. A route added without a decision here fails the test.

O: operator, T: tenant admin, A: auditor (reads its tenant), H: helpdesk (its tenant's staff
list, one-time passwords and authenticators).
"""

from __future__ import annotations

from relay.admin.routes import ROUTES
from tests.integration.admin.conftest import ADMINS, TENANT, snapshot

ROLE_OF_LETTER = {"O": "operator", "T": "tenant_admin", "A": "auditor", "H": "helpdesk"}
# A signed-in admin of each role, in TENANT (the operator sees every tenant).
SIGNED_IN = {ADMINS[login][1]: login for login in ("root", "alice", "audrey", "helen")}

ALLOWED = {
    # Their own sign-in, and the tenants they may see.
    "logout": "OTAH",
    "me": "OTAH",
    "change_password": "OTAH",
    "list_tenants": "OTAH",
    "add_tenant": "O",
    # The console's admins.
    "list_admins": "OTA",
    "add_admin": "OT",
    "patch_admin": "OT",
    "delete_admin": "OT",
    "reset_admin_password": "OT",
    "reset_admin_totp": "OT",
    "sign_out_admin": "OT",
    # Staff: helpdesk reads the list and issues one-time passwords and authenticators.
    "list_staff": "OTAH",
    "add_staff": "OT",
    "get_staff": "OTA",
    "patch_staff": "OT",
    "delete_staff": "OT",
    "issue_totp": "OTH",
    "issue_codes": "OTH",
    "reset_staff": "OTH",
    # Everything else of the tenant: the auditor reads it, tenant admins change it.
    "enrollment_token": "OT",
    "list_hosts": "OTA",
    "patch_host": "OT",
    "retire_host": "OT",
    "list_grants": "OTA",
    "add_grant": "OT",
    "delete_grant": "OT",
    "list_macs": "OTA",
    "add_mac": "OT",
    "delete_mac": "OT",
    # Central registration of home PCs (the lists are signed on the admin's PC).
    "get_signing_key": "OTA",
    "put_signing_key": "OT",
    "get_device_list": "OTA",
    "put_device_list": "OT",
    "get_tenant_policy": "OTA",
    "put_tenant_policy": "OT",
    "delete_tenant_policy": "OT",
    "get_host_policy": "OTA",
    "put_host_policy": "OT",
    "delete_host_policy": "OT",
    "list_sessions": "OTA",
    "end_session": "OT",
    "bandwidth": "OTA",
    "set_limits": "O",
    "alerts": "OTA",
    "get_syslog": "OTA",
    "put_syslog": "OT",
    "delete_syslog": "OT",
    "usage": "OTA",
    "audit": "OTA",
}
REFUSAL_CODES = {"role_not_allowed", "operator_only"}


def allowed_roles(name: str) -> set[str]:
    return {ROLE_OF_LETTER[letter] for letter in ALLOWED[name]}


def path_of(route) -> str:
    """The route's path naming things that do not exist (in TENANT): an allowed call is
    answered (404, 400...) without changing anything that matters to the next one."""
    return (
        route.path.replace("{tenant}", TENANT)
        .replace("{login}", "nobody")
        .replace("{host_id}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .replace("{registration_id}", "999999")
        .replace("{session_id}", "no-such-session")
        .replace("{admin}", "nobody")
    )


def test_every_route_has_a_role_decision_here_and_in_the_table():
    names = [route.handler.__name__ for route in ROUTES if route.auth]
    assert len(names) == len(set(names)), "route handlers must have distinct names"
    assert set(names) == set(ALLOWED), "decide here which roles each new route lets in"
    for route in ROUTES:
        if route.auth:
            assert set(route.roles) == allowed_roles(route.handler.__name__), route.path


async def test_each_role_is_refused_every_route_it_may_not_call_and_nothing_changes(api):
    for login in SIGNED_IN.values():
        await api.sign_in(login)
    before = snapshot(api)
    admins_before = api.relay.directory.list_admins()
    audit_before = len(api.relay.directory.list_audit(limit=10_000))
    refusals = 0
    for route in (r for r in ROUTES if r.auth):
        for role, login in SIGNED_IN.items():
            if role in allowed_roles(route.handler.__name__):
                continue
            status, body = await api.as_(login, route.method, path_of(route), json={})
            assert status == 403, (role, route.method, route.path, status, body)
            assert body["code"] in REFUSAL_CODES, (role, route.path, body)
            if body["code"] == "role_not_allowed":
                assert body["params"] == {"role": role}
            refusals += 1
    assert refusals >= 60
    assert snapshot(api) == before
    assert api.relay.directory.list_admins() == admins_before
    assert len(api.relay.directory.list_audit(limit=10_000)) == audit_before


async def test_each_role_gets_past_the_role_check_of_every_route_it_may_call(api):
    for route in (r for r in ROUTES if r.auth):
        for role, login in SIGNED_IN.items():
            if role not in allowed_roles(route.handler.__name__):
                continue
            status, body = await api.as_(login, route.method, path_of(route))
            refused = status == 403 and body.get("code") in REFUSAL_CODES
            assert not refused and status != 401, (role, route.method, route.path, body)
            if route.handler.__name__ == "logout":
                del api.tokens[login]  # signed out: the next call signs in again
                api.clock.advance(30)  # with the next TOTP step (each is good once)


async def test_me_tells_the_console_what_the_role_may_do(api):
    for role, login in SIGNED_IN.items():
        status, me = await api.as_(login, "GET", "/api/v1/me")
        assert status == 200
        assert me["role"] == role
        assert me["tenant"] == (None if role == "operator" else TENANT)
        assert set(me["allowed"]) == {name for name in ALLOWED if role in allowed_roles(name)}


async def test_an_auditor_reads_the_tenant_and_the_refusal_says_it_only_reads(world):
    api, host = world
    for rest in ("/staff", "/hosts", "/sessions", "/audit", "/usage", "/grants", "/policy"):
        status, body = await api.as_("audrey", "GET", f"/api/v1/tenants/{TENANT}{rest}")
        assert status == 200, (rest, body)
    status, body = await api.as_(
        "audrey", "PATCH", f"/api/v1/tenants/{TENANT}/hosts/{host.host_id}", json={"name": "x"}
    )
    assert status == 403
    assert body == {
        "error": "the auditor role may not do this (it only reads)",
        "code": "role_not_allowed",
        "params": {"role": "auditor"},
    }
    # Her own tenant only, as for a tenant admin.
    status, _ = await api.as_("audrey", "GET", "/api/v1/tenants/other-town/staff")
    assert status == 404


async def test_helpdesk_issues_one_time_passwords_and_authenticators_only(world):
    api, _ = world
    staff = f"/api/v1/tenants/{TENANT}/staff"
    status, body = await api.as_("helen", "GET", staff)
    assert status == 200 and [u["login"] for u in body["staff"]] == ["tanaka"]
    status, body = await api.as_("helen", "POST", f"{staff}/tanaka/codes", json={"count": 3})
    assert status == 200 and len(body["codes"]) == 3
    status, body = await api.as_("helen", "POST", f"{staff}/tanaka/totp")
    assert status == 200 and body["otpauth_uri"].startswith("otpauth://")
    status, body = await api.as_("helen", "POST", f"{staff}/tanaka/reset")
    assert status == 200
    status, body = await api.as_("helen", "PATCH", f"{staff}/tanaka", json={"disabled": True})
    assert status == 403 and body["params"] == {"role": "helpdesk"}
    assert not api.relay.directory.get_user(TENANT, "tanaka").disabled
    events = [r.event for r in api.relay.directory.list_audit(tenant=TENANT, limit=100)]
    assert {"admin.staff_codes", "admin.staff_totp", "admin.staff_reset"} <= set(events)
