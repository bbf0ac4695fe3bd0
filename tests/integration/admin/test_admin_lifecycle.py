"""The console's admins through the admin API, on each directory engine: disabled and enabled,
deleted, a new role, a new password or authenticator (shown once), every sign-in ended at once
(on every node: the tokens are in the directory). Each ends the admin's sign-ins, is audited
with the change (both or neither), and a tenant admin acts only on its own tenant's admins,
never giving a role above its own; nobody deletes or disables themself."""

from __future__ import annotations

import json

import pyotp
import pytest

from relay.admin.auth import AdminSessions
from tests.integration.admin.conftest import OTHER_TENANT, TENANT
from tests.integration.audit_faults import audit_inserts_fail, stored_rows

ADMINS = "/api/v1/admins"
ME = "/api/v1/me"


async def second_sign_in(api, login: str) -> str:
    """Another token of ``login`` (the next TOTP step: each is good once)."""
    api.clock.advance(30)
    token = api.tokens[login]
    second = await api.sign_in(login)
    api.tokens[login] = token
    return second


async def signed_out(api, *tokens: str) -> bool:
    """Whether every one of ``tokens`` is refused now, as signed out (401)."""
    for token in tokens:
        status, body = await api.request("GET", ME, token)
        if status != 401 or body["code"] != "sign_in_not_valid":
            return False
    return True


def records(api, event: str) -> list:
    return api.relay.directory.list_audit(event=f"admin.{event}", limit=100)


async def test_force_sign_out_ends_every_sign_in_of_the_admin_at_once(api):
    first = await api.sign_in("alice")
    second = await second_sign_in(api, "alice")
    helen = await api.sign_in("helen")
    # Another relay node shares the directory: it honours the same tokens, and then none.
    node_b = AdminSessions(api.relay.directory, api.admin.service.backend.db, api.clock)
    assert (await node_b.check(first)).login == "alice"

    status, body = await api.as_("root", "POST", f"{ADMINS}/alice/sign-out")
    assert status == 200 and body == {"login": "alice", "sign_ins_ended": 2}
    assert await signed_out(api, first, second)
    with pytest.raises(Exception, match="not valid"):
        await node_b.check(first)
    assert not await signed_out(api, helen)  # nobody else's
    (record,) = records(api, "admin_sign_out")
    assert record.tenant == TENANT
    assert record.detail == {"admin": "root", "target": "alice", "sign_ins_ended": 2}
    # She may sign in again at once: this ends sign-ins, it locks nobody out.
    api.clock.advance(30)
    await api.sign_in("alice")


async def test_disabling_ends_sign_ins_and_refuses_new_ones_until_enabled(api):
    token = await api.sign_in("audrey")
    status, body = await api.as_("alice", "PATCH", f"{ADMINS}/audrey", json={"disabled": True})
    assert status == 200 and body["disabled"] is True and body["role"] == "auditor"
    assert await signed_out(api, token)
    api.clock.advance(30)
    account = api.account("audrey")
    attempt = {"login": "audrey", "password": account.password, "otp": api.otp("audrey")}
    status, _ = await api.request("POST", "/api/v1/login", json=attempt)
    assert status == 401
    status, body = await api.as_("alice", "PATCH", f"{ADMINS}/audrey", json={"disabled": False})
    assert status == 200 and body["disabled"] is False
    api.clock.advance(30)
    await api.sign_in("audrey")
    events = [r.event for r in api.relay.directory.list_audit(tenant=TENANT, limit=100)]
    assert events.count("admin.admin_disable") == events.count("admin.admin_enable") == 1


async def test_deleting_ends_sign_ins_and_the_admin_is_gone(api):
    token = await api.sign_in("helen")
    status, _ = await api.as_("alice", "DELETE", f"{ADMINS}/helen")
    assert status == 204
    assert await signed_out(api, token)
    status, body = await api.as_("alice", "GET", ADMINS)
    assert [a["login"] for a in body["admins"]] == ["alice"]
    status, _ = await api.as_("alice", "DELETE", f"{ADMINS}/helen")
    assert status == 404
    assert records(api, "admin_delete")[0].detail == {"admin": "alice", "target": "helen"}


async def test_a_new_password_is_shown_once_and_the_old_one_and_its_sign_ins_end(api):
    token = await api.sign_in("alice")
    old = api.account("alice").password
    status, body = await api.as_("root", "POST", f"{ADMINS}/alice/password")
    assert status == 200 and body["login"] == "alice" and len(body["password"]) >= 20
    assert await signed_out(api, token)
    api.clock.advance(30)
    attempt = {"login": "alice", "password": old, "otp": api.otp("alice")}
    status, _ = await api.request("POST", "/api/v1/login", json=attempt)
    assert status == 401
    api.account("alice").password = body["password"]
    api.clock.advance(30)
    await api.sign_in("alice")
    (record,) = records(api, "admin_password_reset")
    assert body["password"] not in json.dumps(record.detail)


async def test_a_new_authenticator_is_shown_once_and_the_old_one_stops(api):
    token = await api.sign_in("bob")
    old_secret = api.account("bob").totp_secret
    status, body = await api.as_("root", "POST", f"{ADMINS}/bob/totp")
    assert status == 200
    assert (
        body["otpauth_uri"].startswith("otpauth://totp/")
        and "bob%40other-town" in (body["otpauth_uri"])
    )
    assert await signed_out(api, token)
    api.clock.advance(30)
    password = api.account("bob").password
    old_code = pyotp.TOTP(old_secret).at(api.clock())
    status, _ = await api.request(
        "POST", "/api/v1/login", json={"login": "bob", "password": password, "otp": old_code}
    )
    assert status == 401
    api.account("bob").totp_secret = body["totp_secret"]
    await api.sign_in("bob")
    (record,) = records(api, "admin_totp_reset")
    assert record.tenant == OTHER_TENANT
    assert body["totp_secret"] not in json.dumps(record.detail)


async def test_a_new_role_ends_sign_ins_and_takes_effect(api):
    token = await api.sign_in("helen")
    status, body = await api.as_("alice", "PATCH", f"{ADMINS}/helen", json={"role": "auditor"})
    assert status == 200 and body["role"] == "auditor"
    assert await signed_out(api, token)
    api.clock.advance(30)
    del api.tokens["helen"]  # signs in again
    status, me = await api.as_("helen", "GET", ME)
    assert me["role"] == "auditor" and "issue_codes" not in me["allowed"]


async def test_added_admins_get_a_password_and_authenticator_that_sign_in(api):
    body = {"login": "kimura", "role": "helpdesk"}
    status, added = await api.as_("alice", "POST", ADMINS, json=body)
    assert status == 201, added
    assert added["tenant"] == TENANT and added["role"] == "helpdesk"
    code = pyotp.TOTP(added["totp_secret"]).at(api.clock())
    login = {"login": "kimura", "password": added["password"], "otp": code}
    status, session = await api.request("POST", "/api/v1/login", json=login)
    assert status == 200 and session["role"] == "helpdesk"
    (record,) = records(api, "admin_add")
    assert record.detail == {"admin": "alice", "target": "kimura", "role": "helpdesk"}
    assert added["password"] not in json.dumps(record.detail)
    # An operator adds operators (no tenant) and admins of any tenant.
    status, op = await api.as_("root", "POST", ADMINS, json={"login": "ops2", "role": "operator"})
    assert status == 201 and op["tenant"] is None
    body = {"login": "sato", "role": "auditor", "tenant": OTHER_TENANT}
    status, other = await api.as_("root", "POST", ADMINS, json=body)
    assert status == 201 and other["tenant"] == OTHER_TENANT


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        # Above her own role.
        ("POST", ADMINS, {"login": "x", "role": "operator"}, 403, "role_too_high"),
        # Another tenant, or an operator: as if they did not exist.
        ("POST", ADMINS, {"login": "x", "role": "auditor", "tenant": OTHER_TENANT}, 404, None),
        ("PATCH", f"{ADMINS}/bob", {"disabled": True}, 404, "no_such_admin"),
        ("PATCH", f"{ADMINS}/root", {"disabled": True}, 404, "no_such_admin"),
        ("DELETE", f"{ADMINS}/root", None, 404, "no_such_admin"),
        ("POST", f"{ADMINS}/root/password", None, 404, "no_such_admin"),
        ("POST", f"{ADMINS}/bob/sign-out", None, 404, "no_such_admin"),
        # Herself.
        ("DELETE", f"{ADMINS}/alice", None, 403, "admin_self"),
        ("PATCH", f"{ADMINS}/alice", {"disabled": True}, 403, "admin_self"),
        ("PATCH", f"{ADMINS}/alice", {"role": "auditor"}, 403, "admin_self"),
        # Not a role, or a role that needs no tenant.
        ("POST", ADMINS, {"login": "x", "role": "king"}, 400, "field_not_a_choice"),
        ("PATCH", f"{ADMINS}/helen", {"role": "operator"}, 403, "role_too_high"),
        ("PATCH", f"{ADMINS}/helen", {}, 400, "field_missing"),
    ],
)
async def test_a_tenant_admin_is_refused_with_a_clear_error_and_nothing_changes(
    api, method, path, body, status, code
):
    for login in ("root", "bob", "helen"):
        api.account(login)
    token = await api.sign_in("alice")
    before = stored_rows(api.relay.directory)
    got, answer = await api.as_("alice", method, path, json=body)
    assert got == status, answer
    if code is not None:
        assert answer["code"] == code
    assert "other-town" not in answer["error"]
    assert stored_rows(api.relay.directory) == before
    assert not await signed_out(api, token)


async def test_an_operator_cannot_remove_themself_nor_make_an_admin_an_operator(api):
    api.account("alice")
    for method, path, body in (
        ("DELETE", f"{ADMINS}/root", None),
        ("PATCH", f"{ADMINS}/root", {"disabled": True}),
    ):
        status, answer = await api.as_("root", method, path, json=body)
        assert status == 403 and answer["code"] == "admin_self"
    status, answer = await api.as_("root", "PATCH", f"{ADMINS}/alice", json={"role": "operator"})
    assert status == 400 and answer["code"] == "role_tenant_mismatch"
    status, answer = await api.as_("root", "POST", ADMINS, json={"login": "x", "role": "auditor"})
    assert status == 400 and answer["code"] == "role_tenant_mismatch"


@pytest.mark.parametrize(
    ("method", "path", "body", "event"),
    [
        ("POST", ADMINS, {"login": "kimura", "role": "auditor"}, "admin_add"),
        ("PATCH", f"{ADMINS}/helen", {"disabled": True}, "admin_disable"),
        ("PATCH", f"{ADMINS}/helen", {"role": "auditor"}, "admin_role"),
        ("DELETE", f"{ADMINS}/helen", None, "admin_delete"),
        ("POST", f"{ADMINS}/helen/password", None, "admin_password_reset"),
        ("POST", f"{ADMINS}/helen/totp", None, "admin_totp_reset"),
        ("POST", f"{ADMINS}/helen/sign-out", None, "admin_sign_out"),
    ],
)
async def test_a_change_whose_record_cannot_be_written_is_not_made(api, method, path, body, event):
    helen = await api.sign_in("helen")
    await api.sign_in("alice")
    before = stored_rows(api.relay.directory)
    with audit_inserts_fail() as refused:
        status, _ = await api.as_("alice", method, path, json=body)
    assert status == 500 and refused
    assert stored_rows(api.relay.directory) == before  # helen's sign-in included
    assert not await signed_out(api, helen)
    status, _ = await api.as_("alice", method, path, json=body)
    assert status in (200, 201, 204)
    assert len(records(api, event)) == 1
