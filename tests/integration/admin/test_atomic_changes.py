"""Every admin change and its audit record are committed together or not at all: with the audit
log's inserts failing (a full disk, or a crash between the two), a change leaves nothing
behind, ends no session and pushes nothing; tried again, it is made and recorded once (a staff
member added is not "already there" with no record of who added them)."""

from __future__ import annotations

import pyotp
import pytest

from tests.integration.admin.conftest import TENANT, USER, tenant_path
from tests.integration.audit_faults import audit_inserts_fail, stored_rows
from tests.integration.relay_harness import login, wait_until

HOST = "{host}"  # replaced by the test office PC's ID
MAC = "{mac}"  # replaced by the ID of the home PC the world registers

CHANGES = [
    ("alice", "POST", "/staff", {"login": "sato"}, "staff_add"),
    ("alice", "PATCH", f"/staff/{USER}", {"disabled": True}, "staff_disable"),
    ("alice", "PATCH", "/staff/disabled", {"disabled": False}, "staff_enable"),
    ("alice", "PATCH", f"/staff/{USER}", {"full_name": "佐藤 一郎"}, "staff_names"),
    ("alice", "DELETE", f"/staff/{USER}", None, "staff_delete"),
    ("alice", "POST", f"/staff/{USER}/totp", None, "staff_totp"),
    ("alice", "POST", f"/staff/{USER}/codes", {"count": 2}, "staff_codes"),
    ("alice", "POST", f"/staff/{USER}/reset", None, "staff_reset"),
    ("alice", "POST", "/enrollment-tokens", {"ttl_s": 600}, "enrollment_token"),
    ("alice", "PATCH", f"/hosts/{HOST}", {"name": "窓口-9"}, "host_rename"),
    ("alice", "PATCH", f"/hosts/{HOST}", {"can_wake": True}, "host_can_wake"),
    ("alice", "DELETE", f"/hosts/{HOST}", None, "host_retire"),
    ("alice", "POST", "/grants", {"login": "disabled", "host_id": HOST}, "grant"),
    ("alice", "DELETE", f"/grants/{USER}/{HOST}", None, "revoke"),
    ("alice", "POST", "/home-pcs", {"mac": "02:00:00:00:00:09", "login": USER}, "home_pc_add"),
    ("alice", "DELETE", f"/home-pcs/{MAC}", None, "home_pc_delete"),
    ("alice", "PUT", "/policy", {"idle_timeout_s": 900}, "policy_set"),
    ("alice", "DELETE", "/policy", None, "policy_clear"),
    ("alice", "PUT", f"/hosts/{HOST}/policy", {"view_only": True}, "host_policy_set"),
    ("alice", "DELETE", f"/hosts/{HOST}/policy", None, "host_policy_clear"),
    ("root", "PUT", "/bandwidth/limits", {"alert_bps": 200_000}, "bandwidth_limits"),
    ("root", "POST", "TENANTS", {"name": "new-town"}, "tenant_add"),
]


def admin_events(api) -> list[str]:
    return [e for e in api.relay.audit_events() if e.startswith("admin.") and e != "admin.login"]


def filled(value, host_id: str, mac_id: int):
    if isinstance(value, str):
        return value.replace(HOST, host_id).replace(MAC, str(mac_id))
    if isinstance(value, dict):
        return {k: filled(v, host_id, mac_id) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "event"), CHANGES, ids=[c[-1] for c in CHANGES]
)
async def test_a_change_whose_record_cannot_be_written_is_not_made(
    world, who, method, path, body, event
):
    api, host = world
    directory = api.relay.directory
    directory.add_user(TENANT, "disabled")
    directory.set_user_disabled(TENANT, "disabled", True)
    directory.set_tenant_policy(TENANT, {"idle_timeout_s": 600})
    directory.set_host_policy(TENANT, host.host_id, {"idle_timeout_s": 600})
    (registration,) = directory.list_macs(TENANT)
    path = filled(path, host.host_id, registration.id)
    path = "/api/v1/tenants" if path == "TENANTS" else tenant_path(TENANT, path)
    body = filled(body, host.host_id, registration.id)
    await api.sign_in(who)
    before, events, pushed = stored_rows(directory), admin_events(api), len(host.policies)

    with audit_inserts_fail() as refused:
        status, answer = await api.as_(who, method, path, json=body)
    assert status == 500, answer
    assert refused, "the change never reached its audit record"
    assert stored_rows(directory) == before
    assert admin_events(api) == events
    assert host.host_id in api.relay.server.hosts  # not retired, not disconnected
    assert len(host.policies) == pushed  # nothing pushed for a change not made

    status, answer = await api.as_(who, method, path, json=body)
    assert status in (200, 201, 204), answer
    assert admin_events(api) == [*events, f"admin.{event}"]
    assert stored_rows(directory) != before


async def test_sessions_are_ended_after_the_change_is_recorded_and_only_then(world, monkeypatch):
    api, host = world
    server = api.relay.server
    channel, ok = await login(api.relay, host.host_id, api.relay.totp_now())
    path = tenant_path(TENANT, f"/staff/{USER}")
    await api.sign_in("alice")
    asked_to_end: list[str] = []
    end_session = server.end_session

    def recorded_end(session_id: str, reason: str) -> bool:
        asked_to_end.append(session_id)
        return end_session(session_id, reason)

    monkeypatch.setattr(server, "end_session", recorded_end)
    try:
        with audit_inserts_fail():
            status, _ = await api.as_("alice", "PATCH", path, json={"disabled": True})
        assert status == 500
        assert asked_to_end == []  # not disabled: the session goes on
        await channel.write(b"ping")
        assert await channel.read() == b"echo:ping"

        status, _ = await api.as_("alice", "PATCH", path, json={"disabled": True})
        assert status == 200 and asked_to_end == [ok.session_id]
        await wait_until(lambda: not server.sessions)
        (record,) = api.relay.directory.list_audit(event="admin.staff_disable")
        assert record.detail["sessions_ended"] == [ok.session_id]
    finally:
        channel.close()


async def test_a_sign_in_whose_record_cannot_be_written_uses_up_no_totp_step(api):
    account = api.account("alice")
    otp = pyotp.TOTP(account.totp_secret).at(api.clock())
    body = {"login": "alice", "password": account.password, "otp": otp}
    with audit_inserts_fail("admin.login") as refused:
        status, _ = await api.request("POST", "/api/v1/login", json=body)
    assert status == 500 and refused
    assert "admin.login" not in api.relay.audit_events()
    status, answer = await api.request("POST", "/api/v1/login", json=body)  # the same code
    assert status == 200, answer
    assert api.relay.audit_events().count("admin.login") == 1
    status, _ = await api.request("POST", "/api/v1/login", json=body)  # now it is used up
    assert status == 401
    assert api.relay.audit_events()[-1] == "admin.login_refused"
