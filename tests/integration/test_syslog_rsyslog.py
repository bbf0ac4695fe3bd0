"""The relay's audit records arrive at a real rsyslog (Debian's) over TLS and over UDP; a
collector that is down gets what waited, once back, within the queue's bound (the rest are
counted as dropped); a collector whose certificate is not the one configured gets nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from functools import partial

import pytest

from core.hostpolicy.backoff import Backoff
from core.protocol.control import RefusalReason
from core.syslog import parse_destination
from relay.store.directory import Directory
from relay.syslog import OPERATOR, SyslogForwarder
from tests.integration.relay_harness import TENANT, USER, HostAgent, login, start_relay
from tests.rsyslog import Rsyslog, require_rsyslog
from transport.client import RefusedByRelay
from transport.syslog import SyslogSender

pytestmark = pytest.mark.slow


@pytest.fixture
def rsyslog(tmp_path):
    require_rsyslog()
    collector = Rsyslog(tmp_path / "rsyslog")
    collector.start()
    yield collector
    collector.stop()


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


def fields(line: str) -> tuple[str, str, str, str, str]:
    """(input, pri, hostname, app-name, msgid) of an output line."""
    parts = line.split(" ", 5)
    return parts[0], parts[1], parts[2], parts[3], parts[4]


async def test_audit_records_arrive_over_tls_and_udp(tmp_path, database_url, rsyslog):
    # The operator's collector over TLS, checked against the test CA; the tenant's over UDP.
    operator = parse_destination(f"tls://127.0.0.1:{rsyslog.tls_port}", ca_pem=rsyslog.pki.ca_pem)
    relay = await start_relay(tmp_path, database=database_url, syslog=operator)
    stack = contextlib.AsyncExitStack()
    try:
        udp = parse_destination(f"udp://127.0.0.1:{rsyslog.udp_port}")
        relay.directory.set_syslog(TENANT, udp)
        await relay.server.syslog.refresh()  # as every SYSLOG_REFRESH_S
        host = await HostAgent(relay).start()
        stack.push_async_callback(host.stop)
        relay.directory.grant(TENANT, USER, host.host_id)
        with pytest.raises(RefusedByRelay) as refused:
            channel, _ = await login(relay, host.host_id, "000000")
            channel.close()
        assert refused.value.reason == RefusalReason.WRONG_OTP.value

        def arrived() -> bool:
            got = {(fields(line)[0], fields(line)[4]) for line in rsyslog.lines()}
            return {
                ("imtcp", "host_online"),
                ("imtcp", "login_refused"),
                ("imudp", "host_online"),
                ("imudp", "login_refused"),
            } <= got

        await wait_for(arrived)
        refusal = [line for line in rsyslog.lines("login_refused") if line.startswith("imtcp")]
        _input, pri, hostname, app, _msgid = fields(refusal[0])
        assert (pri, app) == ("132", "telework-relay")  # local0 (16) * 8 + warning (4)
        assert hostname
        assert f'tenant="{TENANT}"' in refusal[0] and f'user="{USER}"' in refusal[0]
        assert 'source="127.0.0.1"' in refusal[0]
        detail = json.loads(refusal[0].split("] ", 1)[1].lstrip("\ufeff"))
        assert detail == relay.directory.list_audit(event="login_refused")[0].detail
        online = rsyslog.lines("host_online")[0]
        assert f'host="{host.host_id}"' in online
        assert relay.server.syslog.queued()[OPERATOR] == (0, True)
        # Every record in the directory went to the operator's collector, in order.
        tls = [fields(line)[4] for line in rsyslog.lines() if line.startswith("imtcp")]
        assert tls == relay.audit_events()[: len(tls)]
    finally:
        await stack.aclose()
        await relay.close()


def quick_sender(max_queue: int):
    def make(destination):
        return SyslogSender(destination, max_queue=max_queue, backoff=Backoff(0.05, 0.2))

    return make


async def forwarder_for(directory: Directory, destination, max_queue: int) -> SyslogForwarder:
    async def db(function, *args):
        return await asyncio.to_thread(partial(function, *args))

    forwarder = SyslogForwarder(
        directory, db, destination, hostname="relay-test", sender=quick_sender(max_queue)
    )
    await forwarder.start()
    return forwarder


async def test_a_collector_down_gets_what_waited_once_back_and_drops_are_counted(tmp_path, rsyslog):
    destination = parse_destination(
        f"tls://127.0.0.1:{rsyslog.tls_port}", ca_pem=rsyslog.pki.ca_pem
    )
    with Directory.open(tmp_path / "relay") as directory:
        forwarder = await forwarder_for(directory, destination, max_queue=5)
        sender = forwarder.senders[OPERATOR]
        try:
            directory.audit("relay_restart", source="first", now=time.time())
            await wait_for(lambda: len(rsyslog.lines("relay_restart")) == 1)
            rsyslog.stop()
            await wait_for(lambda: not sender.connected)  # it saw the collector go
            for n in range(8):  # written to the directory all the same, copies queued
                directory.audit("host_online", source=f"pc-{n}", now=time.time())
            await wait_for(lambda: len(sender) == 5)
            assert forwarder.dropped() == {OPERATOR: 3}
            assert len(directory.list_audit(event="host_online")) == 8
            rsyslog.start()
            await wait_for(lambda: len(rsyslog.lines("host_online")) == 5)
            sources = [
                line.split('source="')[1].split('"')[0] for line in rsyslog.lines("host_online")
            ]
            assert sources == [f"pc-{n}" for n in range(5)]  # oldest first; the newest dropped
            assert len(sender) == 0
        finally:
            await forwarder.close()


async def test_a_collector_with_another_certificate_gets_nothing(tmp_path, rsyslog):
    wrong_pin = "00" * 32
    destination = parse_destination(f"tls://127.0.0.1:{rsyslog.tls_port}", fingerprint=wrong_pin)
    with Directory.open(tmp_path / "relay") as directory:
        forwarder = await forwarder_for(directory, destination, max_queue=5)
        try:
            directory.audit("login_refused", user="secret-name", now=time.time())
            await asyncio.sleep(1.0)  # several connection attempts
            assert not forwarder.senders[OPERATOR].connected
            assert len(forwarder.senders[OPERATOR]) == 1
            assert "secret-name" not in rsyslog.text()
        finally:
            await forwarder.close()


async def test_a_pinned_collector_certificate_is_accepted(tmp_path, rsyslog):
    from core.crypto.certs import fingerprint

    destination = parse_destination(
        f"tls://127.0.0.1:{rsyslog.tls_port}", fingerprint=fingerprint(rsyslog.pki.cert_der)
    )
    with Directory.open(tmp_path / "relay") as directory:
        forwarder = await forwarder_for(directory, destination, max_queue=5)
        try:
            directory.audit("login", tenant="横浜市", user="さとう", now=time.time())
            await wait_for(lambda: len(rsyslog.lines("login")) == 1)
            assert 'tenant="横浜市" user="さとう"' in rsyslog.lines("login")[0]
        finally:
            await forwarder.close()


async def test_an_office_pc_sends_its_own_session_log(rsyslog):
    from apps.host.events import (
        CentralDevicesRefused,
        SessionEnded,
        SessionRefused,
        SessionStarted,
    )
    from apps.host.session_core import SessionInfo
    from apps.host.syslog_log import SessionSyslog

    destination = parse_destination(
        f"tls://127.0.0.1:{rsyslog.tls_port}", ca_pem=rsyslog.pki.ca_pem
    )
    log = SessionSyslog(destination, "PC-01", lambda: "HOSTID0123456789ABCD")
    log.start()
    try:
        info = SessionInfo(
            "s1", "さとう", TENANT, "自宅PC", "aa:bb:cc:dd:ee:ff", "2026-01-01T09:00"
        )
        log.on_event(SessionRefused("tanaka", TENANT, "192.0.2.9", "outside_hours"))
        log.on_event(SessionStarted(info))
        log.on_event(SessionEnded(info, "viewer_quit"))
        log.on_event(CentralDevicesRefused(TENANT, "replayed"))
        await wait_for(lambda: len(rsyslog.lines()) == 4)
        refused, started, ended, central = rsyslog.lines()
        # A central list of home PCs the relay pushed and the office PC refused, and why.
        assert fields(central)[4] == "central_devices_refused" and '"replayed"' in central
        assert fields(refused)[1:] == ("132", "PC-01", "telework-host", "session_refused")
        assert 'source="192.0.2.9"' in refused and '"outside_hours"' in refused
        assert fields(started)[4] == "session_start" and 'user="さとう"' in started
        assert 'host="HOSTID0123456789ABCD"' in ended and '"viewer_quit"' in ended
    finally:
        await log.close()
