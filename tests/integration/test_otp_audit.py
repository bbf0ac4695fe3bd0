"""A viewer's one-time password is used up in one transaction with its ``otp_used`` record:
never used up without a trace, and never lost to a login that failed before recording it."""

from __future__ import annotations

import pytest

from core.protocol.control import RefusalReason
from tests.integration.audit_faults import audit_inserts_fail
from tests.integration.relay_harness import TENANT, USER, HostAgent, login, start_relay
from transport.client import RefusedByRelay


@pytest.fixture
async def relay(tmp_path, database_url):
    """A relay on each directory engine (SQLite, PostgreSQL)."""
    relay = await start_relay(tmp_path, database=database_url)
    yield relay
    await relay.close()


def one_time_password(relay, kind: str) -> str:
    if kind == "totp":
        return relay.totp_now()
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    return code


async def refused(relay, host_id: str, otp: str) -> str:
    with pytest.raises(RefusedByRelay) as caught:
        channel, _ = await login(relay, host_id, otp)
        channel.close()
    return caught.value.reason


@pytest.mark.parametrize("kind", ["totp", "code"])
async def test_an_otp_whose_record_cannot_be_written_is_not_used_up(relay, host, kind):
    otp = one_time_password(relay, kind)
    with audit_inserts_fail() as failed:
        assert await refused(relay, host.host_id, otp) == RefusalReason.SERVER_ERROR.value
    assert failed
    assert "otp_used" not in relay.audit_events()
    channel, _ = await login(relay, host.host_id, otp)  # the same OTP: it was not used up
    channel.close()
    used = relay.directory.list_audit(event="otp_used")
    assert [(r.tenant, r.user, r.host_id, r.detail) for r in used] == [
        (TENANT, USER, host.host_id, {"otp": kind})
    ]


@pytest.mark.parametrize("kind", ["totp", "code"])
async def test_an_otp_used_up_by_a_login_that_fails_later_is_on_record(relay, host, kind):
    otp = one_time_password(relay, kind)
    with audit_inserts_fail("login") as failed:  # as if the relay died before the login record
        assert await refused(relay, host.host_id, otp) == RefusalReason.SERVER_ERROR.value
    assert failed
    events = relay.audit_events()
    assert "otp_used" in events and "login" not in events
    assert await refused(relay, host.host_id, otp) == RefusalReason.WRONG_OTP.value  # used once


async def test_the_log_reads_otp_used_then_the_outcome(relay, host):
    other = await HostAgent(relay).start()  # not granted to the user
    try:
        assert await refused(relay, other.host_id, relay.totp_now()) == "not_granted"
    finally:
        await other.stop()
    assert await refused(relay, host.host_id, "000000") == RefusalReason.WRONG_OTP.value
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    channel, _ = await login(relay, host.host_id, code)
    channel.close()
    logins = [
        (r.event, r.host_id, r.detail.get("otp") or r.detail.get("reason"))
        for r in relay.directory.list_audit()
        if r.event in ("otp_used", "login", "login_refused")
    ]
    assert logins == [
        ("otp_used", other.host_id, "totp"),
        ("login_refused", other.host_id, "not_granted"),
        ("login_refused", host.host_id, "wrong"),
        ("otp_used", host.host_id, "code"),
        ("login", host.host_id, None),
    ]
