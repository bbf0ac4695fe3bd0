"""Taking a staff member's access away also ends what they are doing: disabling, deleting or
resetting them ends their live sessions, withdrawing a grant ends their session on that
office PC (and only there), each with the reason "ended by admin" that the viewer shows."""

from __future__ import annotations

import asyncio

import pytest

from core.protocol.notices import CloseReason
from tests.integration.admin.conftest import TENANT, USER, tenant_path
from tests.integration.relay_harness import HostAgent, login, wait_until

STAFF = tenant_path(TENANT, f"/staff/{USER}")
ENDED_BY_ADMIN = CloseReason.ENDED_BY_ADMIN.value
# An ended session closes within the relay's grace (0.3 s in these tests); far more than that.
END_WITHIN_S = 5.0


async def live_session(api, host_id: str, otp: str):
    channel, ok = await login(api.relay, host_id, otp)
    await channel.write(b"ping")
    assert await channel.read() == b"echo:ping"
    return channel, ok.session_id


async def closed(channel) -> bool:
    """True once the relay closes ``channel``; False if it is still open after a while."""
    try:
        return await asyncio.wait_for(channel.read(), END_WITHIN_S) == b""
    except TimeoutError:
        return False


def end_reasons(api) -> dict[str, str]:
    records = api.relay.directory.list_audit(event="session_end")
    return {r.detail["session"]: r.detail["reason"] for r in records}


@pytest.mark.parametrize(
    ("method", "path", "body", "event"),
    [
        ("PATCH", STAFF, {"disabled": True}, "admin.staff_disable"),
        ("DELETE", STAFF, None, "admin.staff_delete"),
        ("POST", f"{STAFF}/reset", None, "admin.staff_reset"),
        ("DELETE", "GRANT", None, "admin.revoke"),
    ],
)
async def test_taking_access_away_ends_the_live_session(world, method, path, body, event):
    api, host = world
    if path == "GRANT":
        path = tenant_path(TENANT, f"/grants/{USER}/{host.host_id}")
    channel, session_id = await live_session(api, host.host_id, api.relay.totp_now())
    try:
        status, answer = await api.as_("alice", method, path, json=body)
        assert status in (200, 204), answer
        assert await closed(channel)
        await wait_until(lambda: not api.relay.server.sessions)
    finally:
        channel.close()
    await wait_until(lambda: session_id in end_reasons(api))
    assert end_reasons(api)[session_id] == ENDED_BY_ADMIN
    # The office PC hears it on its control channel, in its own time.
    await wait_until(lambda: (session_id, ENDED_BY_ADMIN) in host.ended)
    (record,) = api.relay.directory.list_audit(event=event)
    assert record.detail["sessions_ended"] == [session_id]


async def test_enabling_or_a_grant_elsewhere_leaves_sessions_running(world):
    api, host = world
    directory = api.relay.directory
    second = await HostAgent(api.relay).start()
    try:
        directory.grant(TENANT, USER, second.host_id)
        first_code, second_code = directory.issue_codes(TENANT, USER, 2)
        here, here_id = await live_session(api, host.host_id, first_code)
        there, there_id = await live_session(api, second.host_id, second_code)
        try:
            status, _ = await api.as_("alice", "PATCH", STAFF, json={"disabled": False})
            assert status == 200
            status, _ = await api.as_(
                "alice", "DELETE", tenant_path(TENANT, f"/grants/{USER}/{host.host_id}")
            )
            assert status == 204
            assert await closed(here)
            await wait_until(lambda: list(api.relay.server.sessions) == [there_id])
            await there.write(b"still here")
            assert await there.read() == b"echo:still here"
        finally:
            here.close()
            there.close()
        await wait_until(lambda: {here_id, there_id} <= set(end_reasons(api)))
        assert end_reasons(api)[here_id] == ENDED_BY_ADMIN
        assert end_reasons(api)[there_id] != ENDED_BY_ADMIN
    finally:
        await second.stop()
