"""Bandwidth monitoring on a real relay: a tenant pushing more than its threshold raises an
alert within seconds (audit log, 'telework.alert' logger, API); the hard cap shares a budget
among the tenant's sessions without cutting any."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.crypto.certs import generate_identity
from relay.admin.monitor import ALERT_CLEAR_RATIO
from tests.integration.admin.conftest import TENANT, USER, Api, tenant_path
from tests.integration.relay_harness import HostAgent, login, wait_until

# Seconds within which an alert must show: a few sampling intervals, far below "within seconds".
ALERT_WITHIN_S = 3.0


async def _pump(channel, stop: asyncio.Event) -> None:
    with contextlib.suppress(Exception):
        while not stop.is_set():
            await channel.write(b"z" * 2048)
            await channel.read()


async def test_sessions_above_threshold_raise_the_alert_within_seconds(api: Api, caplog):
    host = await HostAgent(api.relay).start()
    api.relay.directory.grant(TENANT, USER, host.host_id)
    status, _ = await api.as_(
        "root", "PUT", tenant_path(TENANT, "/bandwidth/limits"), json={"alert_bps": 20_000}
    )
    assert status == 200
    caplog.set_level(logging.INFO, logger="telework.alert")
    channel, _ = await login(api.relay, host.host_id, api.relay.totp_now())
    stop = asyncio.Event()
    pumping = asyncio.create_task(_pump(channel, stop))
    try:
        await wait_until(
            lambda: api.relay.directory.list_audit(event="bandwidth_alert"), ALERT_WITHIN_S
        )
        (record,) = api.relay.directory.list_audit(event="bandwidth_alert")
        assert record.tenant == TENANT and record.detail["rate_bps"] > 20_000
        warnings = [r for r in caplog.records if r.name == "telework.alert"]
        assert warnings and warnings[0].levelno == logging.WARNING
        assert TENANT in warnings[0].getMessage()
        status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/alerts"))
        assert body["alerting"] is True and body["alerts"][0]["kind"] == "raised"
        status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/bandwidth"))
        assert body["current_bps"] > 20_000 and body["history"]
        status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/sessions"))
        assert body["sessions"][0]["current_kbps"] > 0
    finally:
        stop.set()
        await pumping
        channel.close()
    # Quiet again: the alert clears (below ALERT_CLEAR_RATIO of the threshold).
    assert ALERT_CLEAR_RATIO < 1
    await wait_until(
        lambda: api.relay.directory.list_audit(event="bandwidth_alert_cleared"), ALERT_WITHIN_S
    )
    assert len(api.relay.directory.list_audit(event="bandwidth_alert")) == 1  # raised once
    await host.stop()


async def test_hard_cap_shares_the_budget_among_sessions_without_cutting_them(api: Api):
    directory = api.relay.directory
    hosts = [await HostAgent(api.relay).start() for _ in range(2)]
    for host in hosts:
        directory.grant(TENANT, USER, host.host_id)
    codes = directory.issue_codes(TENANT, USER, 2)
    cap = 40_000
    status, _ = await api.as_(
        "root", "PUT", tenant_path(TENANT, "/bandwidth/limits"), json={"cap_bps": cap}
    )
    assert status == 200
    first, _ = await login(api.relay, hosts[0].host_id, codes[0], generate_identity("a"))
    (one,) = api.relay.server.sessions.values()
    assert one.buckets[0].rate == cap / 8  # alone: the whole cap (below the 100 kbit/s budget)
    second, _ = await login(api.relay, hosts[1].host_id, codes[1], generate_identity("b"))
    sessions = list(api.relay.server.sessions.values())
    assert len(sessions) == 2
    for session in sessions:
        assert all(bucket.rate == cap / 2 / 8 for bucket in session.buckets)
    # Still forwarding (paced, not cut).
    await first.write(b"ping")
    assert await first.read() == b"echo:ping"
    second.close()
    await wait_until(lambda: len(api.relay.server.sessions) == 1)
    await wait_until(lambda: one.buckets[0].rate == cap / 8)
    # Lifting the cap restores the relay's own per-session budget.
    await api.as_("root", "PUT", tenant_path(TENANT, "/bandwidth/limits"), json={"cap_bps": None})
    assert one.buckets[0].rate == api.relay.server.settings.session_rate_bps / 8
    first.close()
    for host in hosts:
        await host.stop()
