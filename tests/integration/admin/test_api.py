"""The admin API over real TLS on loopback: every endpoint's happy path, bad input (4xx with a
reason, nothing changed), wrong role, another tenant (404, nothing leaked), lockout and expiry.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re

from core.auth.lockout import USER_MAX_FAILURES
from core.wake import LanCard
from relay.admin.auth import ADMIN_TOKEN_TTL_S, Role
from relay.admin.routes import ROUTES
from tests.integration.admin.conftest import (
    HOME_MAC,
    OTHER_TENANT,
    OTHER_USER,
    TENANT,
    USER,
    snapshot,
    tenant_path,
)
from tests.integration.relay_harness import HostAgent, login, wait_until


def fill(path: str, host_id: str, mac_id: int, session_id: str = "no-such-session") -> str:
    return (
        path.replace("{tenant}", TENANT)
        .replace("{login}", USER)
        .replace("{host_id}", host_id)
        .replace("{registration_id}", str(mac_id))
        .replace("{session_id}", session_id)
        .replace("{admin}", "carol")
    )


def example_body(route) -> object:
    bodies = {
        "add_tenant": {"name": "new-town"},
        "add_staff": {"login": "intruder"},
        "patch_staff": {"disabled": True},
        "issue_codes": {"count": 3},
        "enrollment_token": {"ttl_s": 3600},
        "patch_host": {"name": "hijacked"},
        "add_grant": {"login": USER, "host_id": "AAAAAAAAAAAAAAAAAAAA"},
        "add_mac": {"mac": "02:00:00:00:00:99", "login": USER},
        "put_tenant_policy": {"view_only": True},
        "put_host_policy": {"view_only": True},
        "set_limits": {"alert_bps": 5000},
        "login": {"login": "x", "password": "y", "otp": "123456"},
    }
    return bodies.get(route.handler.__name__)


# --- cross-cutting: isolation, roles, authentication -------------------------------------------


async def test_other_tenant_admin_gets_404_on_every_tenant_route_and_nothing_changes(world):
    api, host = world
    mac_id = api.relay.directory.list_macs(TENANT)[0].id
    before = snapshot(api)
    audit_before = api.relay.directory.list_audit(tenant=TENANT, limit=10_000)
    tenant_routes = [r for r in ROUTES if "{tenant}" in r.path]
    assert len(tenant_routes) >= 25
    for route in tenant_routes:
        status, body = await api.as_(
            "bob", route.method, fill(route.path, host.host_id, mac_id), json=example_body(route)
        )
        # Operator-only routes say 403 before looking at the tenant: nothing leaks either way.
        expected = 404 if Role.TENANT_ADMIN in route.roles else 403
        assert status == expected, (route.method, route.path, status, body)
        if expected == 404:
            assert body == {"error": "no such tenant", "code": "no_such_tenant", "params": {}}, (
                route.path
            )
    assert snapshot(api) == before
    # The other tenant's records are untouched and nothing of TENANT went into bob's view.
    assert api.relay.directory.list_audit(tenant=TENANT, limit=10_000) == audit_before
    status, body = await api.as_("bob", "GET", "/api/v1/tenants")
    assert body == {
        "tenants": [{"name": OTHER_TENANT, "created_at": body["tenants"][0]["created_at"]}]
    }


async def test_objects_of_another_tenant_are_not_found_inside_ones_own(world):
    api, host = world
    other_mac = api.relay.directory.add_mac(OTHER_TENANT, "02:00:00:00:00:77", login=OTHER_USER)
    before = snapshot(api, OTHER_TENANT)
    own = lambda rest: tenant_path(TENANT, rest)  # noqa: E731
    cases = [
        ("GET", own(f"/staff/{OTHER_USER}"), None),
        ("DELETE", own(f"/staff/{OTHER_USER}"), None),
        ("DELETE", own(f"/home-pcs/{other_mac.id}"), None),
        ("POST", own("/grants"), {"login": OTHER_USER, "host_id": host.host_id}),
    ]
    for method, path, body in cases:
        status, answer = await api.as_("alice", method, path, json=body)
        assert status == 404, (path, answer)
        assert OTHER_TENANT not in answer["error"]
    assert snapshot(api, OTHER_TENANT) == before
    # bob cannot reach alice's host through his own tenant either.
    status, answer = await api.as_(
        "bob", "PATCH", tenant_path(OTHER_TENANT, f"/hosts/{host.host_id}"), json={"name": "x"}
    )
    assert status == 404
    assert TENANT not in answer["error"]


async def test_operator_only_routes_refuse_tenant_admins_with_403(api):
    before = snapshot(api)
    operator_routes = [r for r in ROUTES if r.roles == {Role.OPERATOR}]
    assert {r.handler.__name__ for r in operator_routes} == {"add_tenant", "set_limits"}
    for route in operator_routes:
        status, body = await api.as_(
            "alice", route.method, fill(route.path, "X", 0), json=example_body(route)
        )
        assert status == 403 and "operator" in body["error"]
    assert snapshot(api) == before
    assert [t.name for t in api.relay.directory.list_tenants()] == [TENANT, OTHER_TENANT]


async def test_every_route_but_login_needs_a_token(api):
    for route in ROUTES:
        if not route.auth:
            continue
        status, body = await api.request(route.method, fill(route.path, "X", 1))
        assert status == 401, route.path
        assert "sign in" in body["error"]
        status, body = await api.request(route.method, fill(route.path, "X", 1), token="forged")
        assert status == 401


async def test_sign_in_lockout_counts_every_spelling_of_a_login_as_one(api):
    account = api.account("alice")
    # "alice" with one letter full-width: five spellings the directory reads as one admin.
    spellings = ["alice"[:i] + chr(ord("alice"[i]) + 0xFEE0) + "alice"[i + 1 :] for i in range(5)]
    for spelling in spellings:
        body = {"login": spelling, "password": "wrong", "otp": api.otp("alice")}
        status, _ = await api.request("POST", "/api/v1/login", json=body)
    assert status == 429
    right = {"login": "alice", "password": account.password, "otp": api.otp("alice")}
    assert (await api.request("POST", "/api/v1/login", json=right))[0] == 429


async def test_a_parallel_burst_of_sign_ins_is_checked_no_more_than_the_lockout_allows(api):
    account = api.account("alice")
    guesses = [f"{n:06d}" for n in range(30)] + [api.otp("alice")]
    bodies = [{"login": "alice", "password": account.password, "otp": otp} for otp in guesses]
    answers = await asyncio.gather(
        *(api.request("POST", "/api/v1/login", json=body) for body in bodies)
    )
    checked = api.relay.directory.list_audit(event="admin.login_refused")
    assert len(checked) <= USER_MAX_FAILURES
    assert {status for status, _ in answers} <= {200, 401, 429}
    assert sum(status == 401 for status, _ in answers) <= USER_MAX_FAILURES


async def test_token_expires_and_logout_ends_it(api):
    token = await api.sign_in("alice")
    assert (await api.request("GET", "/api/v1/me", token))[0] == 200
    api.clock.advance(ADMIN_TOKEN_TTL_S + 1)
    status, body = await api.request("GET", "/api/v1/me", token)
    assert status == 401 and "expired" in body["error"]
    token = await api.sign_in("alice")  # the clock moved on, so this is a fresh TOTP step
    assert (await api.request("POST", "/api/v1/logout", token))[0] == 204
    assert (await api.request("GET", "/api/v1/me", token))[0] == 401


async def test_sign_in_refusals_and_lockout(api):
    account = api.account("alice")
    wrong = [
        {"login": "alice", "password": "wrong", "otp": api.otp("alice")},
        {"login": "alice", "password": account.password, "otp": "000000"},
        {"login": "nobody", "password": account.password, "otp": api.otp("alice")},
    ]
    for body in wrong:
        status, answer = await api.request("POST", "/api/v1/login", json=body)
        assert status == 401 and answer["error"] == "wrong login, password or one-time password"
    for _ in range(3):
        status, answer = await api.request("POST", "/api/v1/login", json=wrong[0])
    assert status == 429
    # Locked now even with the right password and TOTP.
    right = {"login": "alice", "password": account.password, "otp": api.otp("alice")}
    status, answer = await api.request("POST", "/api/v1/login", json=right)
    assert status == 429 and "try again later" in answer["error"]
    refused = api.relay.directory.list_audit(event="admin.login_refused")
    assert len(refused) >= 5
    assert account.password not in str([r.detail for r in refused])
    api.clock.advance(16 * 60)
    await api.sign_in("alice")


async def test_sign_in_bad_input(api):
    for body in ([], {"login": "alice"}, {"login": 1, "password": "p", "otp": "1"}, "x"):
        status, answer = await api.request("POST", "/api/v1/login", json=body)
        assert status == 400, body
        assert answer["error"]
    status, answer = await api.request("POST", "/api/v1/login", data=b"{not json")
    assert status == 400 and "JSON" in answer["error"]
    status, answer = await api.request("POST", "/api/v1/login", data=b"x" * 100_000)
    assert status == 413


async def test_me_and_tenants(api):
    status, body = await api.as_("root", "GET", "/api/v1/me")
    assert body["role"] == "operator" and body["tenant"] is None
    status, body = await api.as_("root", "POST", "/api/v1/tenants", json={"name": "new-town"})
    assert status == 201 and body["name"] == "new-town"
    status, body = await api.as_("root", "POST", "/api/v1/tenants", json={"name": "new-town"})
    assert status == 409
    status, body = await api.as_("root", "POST", "/api/v1/tenants", json={"name": " padded"})
    assert status == 400 and "spaces" in body["error"]
    status, body = await api.as_("root", "GET", "/api/v1/tenants")
    assert [t["name"] for t in body["tenants"]] == ["example-city", "new-town", "other-town"]
    status, body = await api.as_("alice", "GET", "/api/v1/me")
    assert body == {**body, "role": "tenant_admin", "tenant": TENANT}


# --- staff --------------------------------------------------------------------------------------


async def test_staff_lifecycle(api):
    path = tenant_path(TENANT, "/staff")
    status, body = await api.as_("alice", "POST", path, json={"login": "sato"})
    assert status == 201
    assert (
        body["otpauth_uri"].startswith("otpauth://totp/")
        and body["totp_secret"] in body["otpauth_uri"]
    )
    status, body = await api.as_("alice", "POST", path, json={"login": "sato"})
    assert status == 409
    status, body = await api.as_("alice", "GET", path)
    assert [u["login"] for u in body["staff"]] == ["sato", USER]
    status, body = await api.as_("alice", "PATCH", f"{path}/sato", json={"disabled": True})
    assert status == 200 and body["disabled"] is True
    assert api.relay.directory.get_user(TENANT, "sato").disabled
    await api.as_("alice", "PATCH", f"{path}/sato", json={"disabled": False})
    assert not api.relay.directory.get_user(TENANT, "sato").disabled
    status, body = await api.as_("alice", "POST", f"{path}/sato/totp")
    secret = body["totp_secret"]
    assert status == 200 and f"secret={secret}" in body["otpauth_uri"]
    status, body = await api.as_("alice", "POST", f"{path}/sato/codes", json={"count": 4})
    assert status == 200 and len(body["codes"]) == 4
    assert all(re.fullmatch(r"\d{4}-\d{4}-\d{4}", c) for c in body["codes"])
    status, body = await api.as_("alice", "GET", f"{path}/sato")
    assert body["unused_codes"] == 4 and body["last_login_at"] is None
    status, body = await api.as_("alice", "POST", f"{path}/sato/reset")
    assert status == 200
    status, body = await api.as_("alice", "GET", f"{path}/sato")
    assert body["unused_codes"] == 0
    status, _ = await api.as_("alice", "DELETE", f"{path}/sato")
    assert status == 204 and api.relay.directory.get_user(TENANT, "sato") is None
    events = [r.event for r in api.relay.directory.list_audit(tenant=TENANT)]
    for event in (
        "staff_add",
        "staff_disable",
        "staff_enable",
        "staff_totp",
        "staff_codes",
        "staff_reset",
        "staff_delete",
    ):
        assert f"admin.{event}" in events
    # Secrets never reach the audit log.
    assert secret not in str([r.detail for r in api.relay.directory.list_audit()])


async def test_staff_bad_input_changes_nothing(api):
    path = tenant_path(TENANT, "/staff")
    before = snapshot(api)
    cases = [
        ("POST", path, {"login": ""}),
        ("POST", path, {"login": "x" * 65}),
        ("POST", path, {"login": "a\u0000b"}),
        ("POST", path, {"login": "ok", "extra": 1}),
        ("PATCH", f"{path}/{USER}", {"disabled": "yes"}),
        ("PATCH", f"{path}/{USER}", {}),
        ("POST", f"{path}/{USER}/codes", {"count": 0}),
        ("POST", f"{path}/{USER}/codes", {"count": 11}),
        ("POST", f"{path}/{USER}/codes", {"count": True}),
    ]
    for method, p, body in cases:
        status, answer = await api.as_("alice", method, p, json=body)
        assert status == 400, (p, body, answer)
        assert answer["error"]
    status, answer = await api.as_("alice", "DELETE", f"{path}/nobody")
    assert status == 404
    assert snapshot(api) == before


# --- office PCs, grants, home PCs ---------------------------------------------------------------


async def test_enrollment_token_hosts_rename_retire(world):
    api, host = world
    status, body = await api.as_(
        "alice", "POST", tenant_path(TENANT, "/enrollment-tokens"), json={"ttl_s": 600}
    )
    assert status == 201 and body["expires_at"] > api.clock()
    token = body["token"]
    second = await HostAgent(api.relay).start()  # harness enrols with its own token
    try:
        status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/hosts"))
        rows = {h["host_id"]: h for h in body["hosts"]}
        assert (
            rows[host.host_id]["online"] is True and rows[host.host_id]["agent_version"] == "test"
        )
        assert "-" in rows[host.host_id]["display_id"]
        status, body = await api.as_(
            "alice",
            "PATCH",
            tenant_path(TENANT, f"/hosts/{second.host_id}"),
            json={"name": "窓口-2"},
        )
        assert status == 200 and api.relay.directory.get_host(second.host_id).name == "窓口-2"
        status, _ = await api.as_(
            "alice", "DELETE", tenant_path(TENANT, f"/hosts/{second.host_id}")
        )
        assert status == 204 and api.relay.directory.get_host(second.host_id).retired
        await wait_until(lambda: second.host_id not in api.relay.server.hosts)
    finally:
        await second.stop()
    assert token  # the API's own token is tested end to end in the console tests
    before = snapshot(api)
    for method, path, body, code in [
        ("POST", "/enrollment-tokens", {"ttl_s": 0}, 400),
        ("POST", "/enrollment-tokens", {"ttl_s": 10**9}, 400),
        ("PATCH", f"/hosts/{host.host_id}", {"name": ""}, 400),
        ("PATCH", "/hosts/not-a-host-id", {"name": "x"}, 400),
        ("PATCH", f"/hosts/{second.host_id}", {"name": "x"}, 404),  # retired
        ("GET", "/hosts?include_retired=maybe", None, 400),
        ("GET", "/hosts?bogus=1", None, 400),
    ]:
        status, answer = await api.as_("alice", method, tenant_path(TENANT, path), json=body)
        assert status == code, (path, answer)
    assert snapshot(api) == before


async def test_an_office_pc_may_be_let_wake_others_and_its_network_card_is_listed(world):
    api, host = world
    directory = api.relay.directory
    path = tenant_path(TENANT, f"/hosts/{host.host_id}")
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/hosts"))
    (row,) = [h for h in body["hosts"] if h["host_id"] == host.host_id]
    assert (row["can_wake"], row["lan_mac"], row["lan_address"]) == (False, None, None)

    card = LanCard.parse("02-00-5e-00-53-07", "192.0.2.7/24")
    directory.record_host_seen(host.host_id, api.clock(), card)
    status, body = await api.as_("alice", "PATCH", path, json={"can_wake": True})
    assert status == 200, body
    assert body["host_id"] == host.host_id and body["can_wake"] is True
    assert (body["lan_mac"], body["lan_address"]) == ("02:00:5E:00:53:07", "192.0.2.7/24")
    assert body["online"] is True
    assert directory.get_host(host.host_id).can_wake
    (record,) = directory.list_audit(event="admin.host_can_wake")
    assert record.host_id == host.host_id and record.detail["can_wake"] is True

    status, body = await api.as_("alice", "PATCH", path, json={"name": "窓口-3", "can_wake": False})
    assert status == 200 and (body["name"], body["can_wake"]) == ("窓口-3", False)
    assert len(directory.list_audit(event="admin.host_rename")) == 1
    assert len(directory.list_audit(event="admin.host_can_wake")) == 2
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/hosts"))
    (row,) = [h for h in body["hosts"] if h["host_id"] == host.host_id]
    assert (row["name"], row["can_wake"], row["lan_mac"]) == ("窓口-3", False, card.mac)

    before = snapshot(api)
    for bad, words in [
        ({"can_wake": "yes"}, "'can_wake' must be boolean"),
        ({"can_wake": 1}, "'can_wake' must be boolean"),
        ({"can_wake": None}, "'can_wake' must be boolean"),
        ({"name": "", "can_wake": True}, "'name' must not be empty"),
        ({}, "body needs one of name, can_wake"),
        ({"can_wake": True, "lan_mac": "02:00:00:00:00:01"}, "unknown fields: lan_mac"),
    ]:
        status, answer = await api.as_("alice", "PATCH", path, json=bad)
        assert status == 400 and words in answer["error"], (bad, answer)
    status, _ = await api.as_(
        "bob", "PATCH", tenant_path(OTHER_TENANT, f"/hosts/{host.host_id}"), json={"can_wake": True}
    )
    assert status == 404
    assert snapshot(api) == before


async def test_lists_come_in_pages(api):
    directory = api.relay.directory
    now = api.clock()
    for name in ("c", "a", "b"):
        directory.add_user(TENANT, name)
    host_ids = ["AAAAAAAAAAAAAAAAAAA3", "AAAAAAAAAAAAAAAAAAA2", "AAAAAAAAAAAAAAAAAAA4"]
    for host_id, name in zip(host_ids, ("PC", "PC", "A"), strict=True):
        token = directory.issue_enrollment_token(TENANT, 3600, now)
        directory.redeem_enrollment_token(token, host_id, "PEM", name, "1.0", now)
    for name, host_id in (("b", host_ids[0]), ("a", host_ids[1]), ("a", host_ids[0])):
        directory.grant(TENANT, name, host_id)

    async def pages(path: str, key: str, limit: int) -> list[list[object]]:
        """Every page of a list, following next until a short page."""
        out, after = [], ""
        while True:
            query = f"?limit={limit}" + (f"&after={after}" if after else "")
            status, body = await api.as_("alice", "GET", tenant_path(TENANT, path) + query)
            assert status == 200, body
            out.append(body[key])
            if body["next"] is None:
                return out
            after = body["next"]

    staff = await pages("/staff", "staff", 2)
    assert [[u["login"] for u in page] for page in staff] == [["a", "b"], ["c", USER], []]
    hosts = await pages("/hosts", "hosts", 2)
    order = [host_ids[2], host_ids[1], host_ids[0]]  # by name, then ID
    assert [[h["host_id"] for h in page] for page in hosts] == [order[:2], order[2:]]
    grants = await pages("/grants", "grants", 1)
    assert [g for page in grants for g in page] == [
        {"login": "a", "host_id": host_ids[1]},
        {"login": "a", "host_id": host_ids[0]},
        {"login": "b", "host_id": host_ids[0]},
    ]
    # Without a limit, every row and no next, as before.
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/staff"))
    assert [u["login"] for u in body["staff"]] == ["a", "b", "c", USER] and "next" not in body
    for query, code in [
        ("/staff?limit=0", 400),
        ("/staff?limit=10001", 400),
        ("/staff?limit=x", 400),
        (f"/staff?after={'x' * 200}", 400),
        ("/grants?after=no-colon", 400),
        ("/hosts?after=not%20an%20id", 400),
        ("/hosts?after=BBBBBBBBBBBBBBBBBBBB", 404),
    ]:
        status, body = await api.as_("alice", "GET", tenant_path(TENANT, query))
        assert status == code, (query, body)


async def test_grants(world):
    api, host = world
    directory = api.relay.directory
    directory.add_user(TENANT, "sato")
    path = tenant_path(TENANT, "/grants")
    status, body = await api.as_(
        "alice", "POST", path, json={"login": "sato", "host_id": host.host_id}
    )
    assert status == 201 and directory.is_granted(TENANT, "sato", host.host_id)
    status, body = await api.as_("alice", "GET", path)
    assert {"login": "sato", "host_id": host.host_id} in body["grants"]
    status, _ = await api.as_("alice", "DELETE", f"{path}/sato/{host.host_id}")
    assert status == 204 and not directory.is_granted(TENANT, "sato", host.host_id)
    before = snapshot(api)
    for body, code in [
        ({"login": "sato", "host_id": "bad"}, 400),
        ({"login": "nobody", "host_id": host.host_id}, 404),
        ({"login": "sato"}, 400),
    ]:
        status, answer = await api.as_("alice", "POST", path, json=body)
        assert status == code, answer
    status, _ = await api.as_("alice", "DELETE", f"{path}/sato/{host.host_id}")
    assert status == 404
    assert snapshot(api) == before


async def test_home_pcs_are_pushed_as_the_central_list(world):
    api, host = world
    path = tenant_path(TENANT, "/home-pcs")
    status, body = await api.as_(
        "alice",
        "POST",
        path,
        json={"mac": "aa-bb-cc-dd-ee-ff", "host_id": host.host_id, "label": "予備"},
    )
    assert status == 201 and body["mac"] == "AA:BB:CC:DD:EE:FF"
    mac_id = body["id"]
    await wait_until(lambda: bool(host.policies))
    assert set(host.policies[-1]["allowed_macs"]) == {HOME_MAC, "AA:BB:CC:DD:EE:FF"}
    status, body = await api.as_("alice", "GET", path)
    assert {m["mac"] for m in body["home_pcs"]} == {HOME_MAC, "AA:BB:CC:DD:EE:FF"}
    pushed = len(host.policies)
    status, _ = await api.as_("alice", "DELETE", f"{path}/{mac_id}")
    assert status == 204
    await wait_until(lambda: len(host.policies) > pushed)
    assert host.policies[-1]["allowed_macs"] == [HOME_MAC]
    before = snapshot(api)
    for body, code in [
        ({"mac": "not-a-mac", "login": USER}, 400),
        ({"mac": HOME_MAC}, 400),
        ({"mac": HOME_MAC, "login": USER, "host_id": host.host_id}, 400),
        ({"mac": HOME_MAC, "login": USER}, 409),
        ({"mac": "02:00:00:00:00:02", "login": "nobody"}, 404),
        ({"mac": "02:00:00:00:00:02", "login": USER, "label": "\u0007"}, 400),
    ]:
        status, answer = await api.as_("alice", "POST", path, json=body)
        assert status == code, (body, answer)
    for bad in ("abc", "999999"):
        status, _ = await api.as_("alice", "DELETE", f"{path}/{bad}")
        assert status in (400, 404)
    assert snapshot(api) == before


# --- policies -----------------------------------------------------------------------------------


async def test_policies_are_validated_combined_and_pushed(world):
    api, host = world
    tenant_policy = {
        "idle_timeout_s": 900,
        "watermark": True,
        "allowed_hours": {"days": ["mon", "tue"], "start": "08:00", "end": "20:00"},
    }
    status, body = await api.as_("alice", "PUT", tenant_path(TENANT, "/policy"), json=tenant_policy)
    assert status == 200 and body["pushed_to"] == [host.host_id]
    await wait_until(lambda: bool(host.policies))
    assert host.policies[-1]["idle_timeout_s"] == 900 and host.policies[-1]["watermark"] is True
    host_path = tenant_path(TENANT, f"/hosts/{host.host_id}/policy")
    status, body = await api.as_(
        "alice", "PUT", host_path, json={"idle_timeout_s": 600, "view_only": True}
    )
    assert status == 200
    await wait_until(lambda: host.policies[-1].get("view_only") is True)
    effective = host.policies[-1]
    assert effective["idle_timeout_s"] == 600 and effective["watermark"] is True
    assert effective["allowed_hours"]["start"] == "08:00"
    assert effective["allowed_macs"] == [HOME_MAC]
    status, body = await api.as_("alice", "GET", host_path)
    assert body["effective"] == effective and body["policy"]["view_only"] is True
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/policy"))
    assert body["policy"]["idle_timeout_s"] == 900
    # What the relay sends on (re)connect is the same effective policy.
    assert api.relay.server.hooks.policy_for_host(host.host_id) == effective
    before = snapshot(api)
    for path, body in [
        ("/policy", {"idle_timeout_s": 10}),
        ("/policy", {"colour": "red"}),
        ("/policy", {"allowed_macs": [HOME_MAC]}),
        ("/policy", [1, 2]),
        (f"/hosts/{host.host_id}/policy", {"shutdown_at": "25:00"}),
        (f"/hosts/{host.host_id}/policy", {"watermark": "yes"}),
        # The lockout: out of bounds, faster guessing than the defaults, an office PC's.
        ("/policy", {"lockout_failures": 2}),
        ("/policy", {"lockout_minutes": 60 * 25}),
        ("/policy", {"lockout_failures": 10, "lockout_minutes": 20}),
        (f"/hosts/{host.host_id}/policy", {"lockout_minutes": 60}),
    ]:
        status, answer = await api.as_("alice", "PUT", tenant_path(TENANT, path), json=body)
        assert status == 400 and answer["error"], (path, body)
    assert snapshot(api) == before
    # The tenant's lockout is stored, audited in the policy, and not pushed to office PCs.
    lockout = {**tenant_policy, "lockout_failures": 3, "lockout_minutes": 60}
    status, body = await api.as_("alice", "PUT", tenant_path(TENANT, "/policy"), json=lockout)
    assert status == 200 and body["policy"]["lockout_failures"] == 3
    assert api.relay.directory.tenant_lockout(TENANT) == (3, 3600.0)
    assert "lockout_failures" not in api.relay.server.hooks.policy_for_host(host.host_id)
    status, body = await api.as_("alice", "DELETE", host_path)
    assert status == 200 and api.relay.directory.get_host_policy(TENANT, host.host_id) is None
    status, body = await api.as_("alice", "DELETE", tenant_path(TENANT, "/policy"))
    assert status == 200 and api.relay.directory.get_tenant_policy(TENANT) is None
    await wait_until(lambda: host.policies[-1].get("watermark") is False)


# --- sessions, monitoring, usage, audit ---------------------------------------------------------


async def test_live_session_listed_and_ended(world):
    api, host = world
    channel, ok = await login(api.relay, host.host_id, api.relay.totp_now())
    try:
        await channel.write(b"x" * 1000)
        await channel.read()
        status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/sessions"))
        (session,) = body["sessions"]
        assert session["user"] == USER and session["host_id"] == host.host_id
        assert session["average_kbps"] > 0
        status, body = await api.as_("bob", "GET", tenant_path(OTHER_TENANT, "/sessions"))
        assert body == {"sessions": []}
        status, _ = await api.as_(
            "bob", "DELETE", tenant_path(OTHER_TENANT, f"/sessions/{ok.session_id}")
        )
        assert status == 404 and ok.session_id in api.relay.server.sessions
        status, body = await api.as_(
            "alice", "DELETE", tenant_path(TENANT, f"/sessions/{ok.session_id}")
        )
        assert status == 200 and body["ending"] is True
        assert await channel.read() == b""
        await wait_until(lambda: not api.relay.server.sessions)
    finally:
        channel.close()
    (end,) = api.relay.directory.list_audit(event="session_end")
    assert end.detail["reason"] == "ended_by_admin"


async def test_bandwidth_limits_and_alerts_endpoints(api):
    path = tenant_path(TENANT, "/bandwidth")
    status, body = await api.as_("alice", "GET", path)
    assert status == 200 and body["alert_bps"] is None and body["current_bps"] == 0
    status, body = await api.as_(
        "root", "PUT", f"{path}/limits", json={"alert_bps": 200_000, "cap_bps": 300_000}
    )
    assert status == 200
    assert api.relay.directory.get_bandwidth_limits(TENANT) == (200_000, 300_000)
    status, body = await api.as_("alice", "GET", path)
    assert body["alert_bps"] == 200_000 and body["cap_bps"] == 300_000
    before = snapshot(api)
    for body in (
        {"alert_bps": 0},
        {"cap_bps": 5},
        {"alert_bps": "fast"},
        {"cap_bps": 1.5},
        {"x": 1},
    ):
        status, _answer = await api.as_("root", "PUT", f"{path}/limits", json=body)
        assert status == 400, body
    assert snapshot(api) == before
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/alerts"))
    assert body == {"alerting": False, "alerts": []}


async def test_usage_json_and_csv(world):
    api, host = world
    channel, _ = await login(api.relay, host.host_id, api.relay.totp_now())
    await channel.write(b"hi")
    await channel.read()
    channel.close()
    await wait_until(lambda: not api.relay.server.sessions)
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/usage"))
    assert status == 200 and len(body["days"]) == 7
    today = body["days"][-1]
    assert today["sessions"] == 1 and today["office_pcs"] == 1 and today["peak_concurrent"] == 1
    status, text = await api.as_("alice", "GET", tenant_path(TENANT, "/usage?format=csv"))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["day", "office_pcs", "staff", "sessions", "peak_concurrent", "hours"]
    assert len(rows) == 8
    for query in (
        "since=2026-13-01",
        "since=2026-01-02&until=2026-01-01",
        "since=2000-01-01&until=2026-01-01",
        "format=xml",
    ):
        status, _answer = await api.as_("alice", "GET", tenant_path(TENANT, f"/usage?{query}"))
        assert status == 400, query


async def test_audit_search_and_csv(world):
    api, host = world
    await api.as_("alice", "POST", tenant_path(TENANT, "/staff"), json={"login": "=cmd|calc"})
    status, body = await api.as_(
        "alice", "GET", tenant_path(TENANT, "/audit?event=admin.staff_add")
    )
    (record,) = body["records"]
    assert record["user"] == "=cmd|calc" and record["detail"]["admin"] == "alice"
    status, body = await api.as_(
        "alice", "GET", tenant_path(TENANT, f"/audit?host_id={host.host_id}")
    )
    assert body["records"] and all(r["host_id"] == host.host_id for r in body["records"])
    status, body = await api.as_(
        "alice", "GET", tenant_path(TENANT, f"/audit?since={api.clock() + 3600}")
    )
    assert body["records"] == []
    status, text = await api.as_(
        "alice", "GET", tenant_path(TENANT, "/audit?format=csv&user==cmd|calc")
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "time", "event"]
    assert rows[1][4] == "'=cmd|calc"  # no formula injection into spreadsheets
    # Nothing of the other tenant.
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/audit?limit=100000"))
    assert all(r["tenant"] == TENANT for r in body["records"])
    for query in (
        "limit=0",
        "limit=abc",
        "since=nan",
        "since=inf",
        "format=pdf",
        "user=" + "x" * 100,
    ):
        status, _answer = await api.as_("alice", "GET", tenant_path(TENANT, f"/audit?{query}"))
        assert status == 400, query


async def test_openapi_describes_exactly_the_served_routes(api):
    status, spec = await api.request("GET", "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    described = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    served = {(r.method, r.path) for r in ROUTES}
    assert described == served
    router = api.admin.runner.app.router
    registered = {
        (route.method, route.resource.canonical)
        for route in router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/")
    }
    assert registered == served


async def test_unknown_paths_and_methods_answer_json_errors(api):
    status, body = await api.request("GET", "/api/v1/nothing")
    assert status == 404 and body["error"]
    status, body = await api.request("PUT", "/api/v1/me")
    assert status == 405 and body["error"]
