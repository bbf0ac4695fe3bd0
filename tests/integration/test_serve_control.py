"""The host side of the transport client on a real relay: ``serve_control`` releases every
accepted offer exactly once, however its session ends or fails to start (error, timeout,
cancellation), and a failed start is logged instead of escaping as an unretrieved task error.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from core.crypto.certs import generate_identity
from core.protocol.control import RefusalReason, SessionOffer
from tests.integration.half_logins import (
    leave_before_securing,
    log_in_without_securing,
    present_another_device,
    stall_securing,
)
from tests.integration.relay_harness import (
    TENANT,
    USER,
    HostAgent,
    Relay,
    login,
    start_relay,
    wait_until,
)
from transport.client import RefusedByRelay
from transport.e2e import E2E_HANDSHAKE_TIMEOUT_S

MACS = ["02:00:00:00:00:01"]
E2E_TIMEOUT_S = 0.5  # scaled down: a stalled end-to-end handshake fails at once


def releasing_host(relay: Relay, **options) -> HostAgent:
    """A scripted host with a scaled-down end-to-end timeout, granted to the test user."""
    return HostAgent(relay, e2e_timeout_s=options.pop("e2e_timeout_s", E2E_TIMEOUT_S), **options)


async def start(host: HostAgent) -> HostAgent:
    await host.start()
    host.relay.directory.grant(TENANT, USER, host.host_id)
    return host


@pytest.fixture
async def relay(tmp_path) -> AsyncIterator[Relay]:
    relay = await start_relay(tmp_path)
    yield relay
    await relay.server.close()
    relay.directory.close()


def _client_log(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "telework.client"]


async def test_a_session_that_ran_is_released_once_it_ends(relay):
    host = await start(releasing_host(relay))
    try:
        channel, ok = await login(relay, host.host_id, relay.totp_now(), macs=MACS)
        await channel.write(b"hi")
        assert await channel.read() == b"echo:hi"
        assert host.released == []  # still running
        channel.close()
        await wait_until(lambda: host.released == [ok.session_id])
    finally:
        await host.stop()


async def test_a_refused_offer_holds_nothing_to_release(relay):
    host = await start(releasing_host(relay, refuse_with=RefusalReason.HOST_BUSY.value))
    try:
        with pytest.raises(RefusedByRelay):
            await login(relay, host.host_id, relay.totp_now(), macs=MACS)
        assert len(host.offers) == 1 and host.released == []
    finally:
        await host.stop()


@pytest.mark.parametrize(
    ("fail_start", "logged"),
    [
        (leave_before_securing, "ended: PeerGone"),
        (stall_securing, "ended: PeerGone"),
        (present_another_device, "failed the end-to-end check: PinMismatch"),
    ],
)
async def test_a_start_that_fails_is_released_and_logged(relay, caplog, fail_start, logged):
    caplog.set_level(logging.INFO, logger="telework.client")
    host = await start(releasing_host(relay))
    try:
        await fail_start(relay, host.host_id, MACS)
        (offer,) = host.offers
        await wait_until(lambda: host.released == [offer.session_id])
        await wait_until(lambda: bool(_client_log(caplog)))
        (message,) = _client_log(caplog)
        assert message.startswith(f"session {offer.session_id[:8]} ") and logged in message
        assert host.task is not None and not host.task.done()  # still serving
    finally:
        await host.stop()


async def test_cancelling_the_control_channel_mid_attach_releases_the_offer(relay):
    # The handshake's own timeout is far off: only the cancellation can release the offer.
    host = await start(releasing_host(relay, e2e_timeout_s=E2E_HANDSHAKE_TIMEOUT_S))
    stream, ok = await log_in_without_securing(relay, host.host_id, MACS)
    try:
        await host.stop()  # the host is in the end-to-end handshake, waiting for us
        await wait_until(lambda: host.released == [ok.session_id], timeout=2.0)
    finally:
        await stream.close()


async def test_an_offer_with_a_forged_name_is_declined_and_not_logged_raw(relay, caplog):
    """The office PC trusts no relay: an offer whose user, tenant or source holds a newline,
    an escape sequence or a line separator is declined before the host decides, and logged
    without it (the agent's log, tray and syslog never see it)."""
    caplog.set_level(logging.INFO)
    host = await start(releasing_host(relay))
    try:
        channel = relay.server.channels.online[host.host_id]
        device_cert = generate_identity("home-pc").cert_pem.decode()
        forged = "tanaka\n2026-12-06 INFO session started\x1b[2J\u2028"
        for field in ("user", "tenant", "source"):
            names = {"tenant": TENANT, "user": USER, "source": "192.0.2.1", field: forged}
            offer = SessionOffer(f"forged-{field}", device_cert=device_cert, macs=MACS, **names)
            answer = await relay.server.channels.answer_of(channel, offer)
            assert not answer.accept and answer.reason == RefusalReason.REFUSED_BY_HOST
        assert host.offers == []  # never reached the host's decision
        logged = _client_log(caplog)
        assert any("control or invisible characters" in line for line in logged)
        assert not [line for line in logged if any(c in line for c in "\n\x1b\u2028")]
    finally:
        await host.stop()
