"""The relay on loopback with a directory whose writes fail (a full disk): sessions end cleanly,
office PCs stay online, logins are refused in one log line a minute, and it all recovers."""

from __future__ import annotations

import logging
import sqlite3

import pytest
import sqlalchemy as sa

from core.protocol.control import RefusalReason
from relay import store_faults
from relay.errors import StoreUnavailable
from tests.integration.relay_harness import HostAgent, login, wait_until
from transport.client import RefusedByRelay


def disk_full(*_args, **_kwargs):
    raise sa.exc.OperationalError(
        "INSERT", {}, sqlite3.OperationalError("database or disk is full")
    )


async def test_a_session_ending_when_its_ticket_cannot_be_written_leaves_nothing_behind(
    relay, host, monkeypatch
):
    channel, _ = await login(relay, host.host_id, relay.totp_now())
    (session_id,) = relay.server.sessions
    monkeypatch.setattr(relay.directory, "set_resume_ticket_expiry", disk_full)
    channel.close()
    await wait_until(lambda: not relay.server.sessions)
    await wait_until(lambda: any(sid == session_id for sid, _ in host.ended))
    assert "session_end" in relay.audit_events()
    assert relay.server.metrics.cleanup_failures == {"ticket_lifetime": 1}
    assert "telework_live_sessions 0" in relay.server.metrics.render()


async def test_an_office_pc_comes_online_when_its_audit_record_cannot_be_written(
    relay, monkeypatch
):
    real_audit = relay.directory.audit

    def online_record_fails(event, **fields):
        if event == "host_online":  # the enrolment's own record gets through
            disk_full()
        real_audit(event, **fields)

    monkeypatch.setattr(relay.directory, "audit", online_record_fails)
    agent = await HostAgent(relay).start()  # waits until the relay lists it online
    try:
        await wait_until(lambda: len(relay.server.context.audit_backlog) == 1)
        assert agent.host_id in relay.server.hosts
        assert "telework_audit_backlog 1" in relay.server.metrics.render()
        monkeypatch.setattr(relay.directory, "audit", real_audit)
        assert await relay.server.context.audit_backlog.flush()
        assert relay.audit_events()[-1] == "host_online"
        assert len(relay.server.context.audit_backlog) == 0
    finally:
        await agent.stop()


async def test_failed_logins_on_a_full_disk_are_refused_and_logged_once_a_minute(
    relay, host, monkeypatch, caplog
):
    monkeypatch.setattr(relay.directory, "verify_otp", disk_full)
    caplog.set_level(logging.INFO, logger="telework.relay")
    for _ in range(3):
        with pytest.raises(RefusedByRelay) as refused:
            await login(relay, host.host_id, relay.totp_now())
        assert refused.value.reason == RefusalReason.SERVER_ERROR.value
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1 and not failures[0].exc_info
    assert "database or disk is full" in failures[0].getMessage()
    assert relay.server.metrics.store_errors == 3
    assert "telework_store_errors_total 3" in relay.server.metrics.render()
    monkeypatch.undo()
    channel, _ = await login(relay, host.host_id, relay.totp_now())  # space is back
    channel.close()


def test_store_faults_log_again_after_the_interval_with_the_count_in_between(caplog):
    from relay.metrics import RelayMetrics

    now = [0.0]
    faults = store_faults.StoreFaults(RelayMetrics(), lambda: now[0])
    caplog.set_level(logging.ERROR, logger="telework.relay")
    error = StoreUnavailable("x")
    for t in (0.0, 1.0, 59.0, store_faults.STORE_FAULT_LOG_INTERVAL_S):
        now[0] = t
        faults.report(error)
    assert len(caplog.records) == 2
    assert "2 more since the last line" in caplog.records[1].getMessage()
