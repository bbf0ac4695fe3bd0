"""Wake-on-LAN through the relay: a login that asks to wake its switched-off office PC has another
office PC of the tenant, allowed to wake and on the same LAN, send the magic packet, waits for
the woken one with progress notes, and joins it; or is refused plainly, with a ticket to try
again. The packets themselves, on a real LAN of network namespaces: tests/e2e/test_wake_on_lan.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from core.crypto.certs import generate_identity
from core.protocol.control import HostAuth, ProgressStage, RefusalReason
from core.wake import LanCard
from tests.integration.relay_harness import (
    FAST,
    TENANT,
    USER,
    HostAgent,
    login,
    start_relay,
    wait_until,
)
from transport.client import RefusedByRelay, _reply
from transport.connect import open_link
from transport.wake import Waker

WAKE_SETTINGS = dataclasses.replace(FAST, wake_wait_s=3.0, wake_progress_interval_s=0.2)
SLEEPER_CARD = LanCard.parse("02:77:00:00:00:03", "10.77.0.3/24")
WAKER_CARD = LanCard.parse("02:77:00:00:00:02", "10.77.0.2/24")
ELSEWHERE_CARD = LanCard.parse("02:78:00:00:00:02", "10.78.0.2/24")


class RecordingWaker(Waker):
    """The waker's part as the relay sees it: which wakes reached the office PC (the packets
    it then sends are the e2e test's)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, str]] = []

    def wake(self, mac: str, address: str) -> bool:
        self.asked.append((mac, address))
        return True


@pytest.fixture
async def relay(tmp_path, database_url):
    relay = await start_relay(tmp_path, WAKE_SETTINGS, database=database_url)
    yield relay
    await relay.close()


@pytest.fixture
async def lan(relay):
    """A switched-off office PC granted to USER, last seen on 10.77.0.0/24, and an office PC
    on the same LAN that the admin lets wake others (online)."""
    sleeper = await HostAgent(relay).start()
    waker = await HostAgent(relay, waker=RecordingWaker()).start()
    directory = relay.directory
    directory.grant(TENANT, USER, sleeper.host_id)
    for agent, card in ((sleeper, SLEEPER_CARD), (waker, WAKER_CARD)):
        directory.record_host_seen(agent.host_id, time.time(), card)
    directory.set_host_can_wake(TENANT, waker.host_id, True)
    await sleeper.stop()
    await wait_until(lambda: sleeper.host_id not in relay.server.hosts)
    yield sleeper, waker
    await waker.stop()
    await sleeper.stop()


HOME_PC = generate_identity("home-pc")  # a ticket is the home PC's that logged in


async def refused_offline(relay, host_id: str, otp: str | None = None) -> str:
    """Log in with a one-time password to the switched-off office PC: HOST_OFFLINE and the
    ticket that comes with it."""
    with pytest.raises(RefusedByRelay) as refused:
        await login(relay, host_id, otp or relay.totp_now(), HOME_PC)
    assert refused.value.reason == RefusalReason.HOST_OFFLINE
    assert refused.value.resume_ticket
    return refused.value.resume_ticket


async def test_a_wake_login_has_the_pc_woken_by_another_on_its_lan_and_joins_it(relay, lan):
    sleeper, waker = lan
    ticket = await refused_offline(relay, sleeper.host_id)
    stages: list[ProgressStage] = []
    waking = asyncio.create_task(
        login(
            relay,
            sleeper.host_id,
            "",
            HOME_PC,
            on_progress=stages.append,
            resume_ticket=ticket,
            wake=True,
        )
    )
    await wait_until(lambda: waker.waker.asked)
    assert waker.waker.asked == [(SLEEPER_CARD.mac, SLEEPER_CARD.wire_address)]
    assert not waking.done()  # waiting for the woken PC, telling the viewer so
    await wait_until(lambda: ProgressStage.WAKING_HOST in stages)

    await sleeper.reconnect()  # it booted, and its agent came online
    channel, ok = await asyncio.wait_for(waking, 5)
    try:
        await channel.write(b"hello")
        assert await channel.read() == b"echo:hello"
    finally:
        channel.close()
    assert ok.session_id
    (record,) = relay.directory.list_audit(event="host_wake")
    assert record.host_id == sleeper.host_id and record.user == USER
    assert record.detail == {
        "waker": waker.host_id,
        "mac": SLEEPER_CARD.mac,
        "lan": SLEEPER_CARD.wire_address,
    }
    assert relay.directory.list_audit(event="host_woken")


async def test_logins_waking_one_pc_at_once_send_one_packet(relay, lan):
    sleeper, waker = lan
    codes = relay.directory.issue_codes(TENANT, USER, 2)  # a TOTP step logs in once
    tickets = [await refused_offline(relay, sleeper.host_id, code) for code in codes]
    waking = [
        asyncio.create_task(
            login(relay, sleeper.host_id, "", HOME_PC, resume_ticket=ticket, wake=True)
        )
        for ticket in tickets
    ]
    await wait_until(lambda: waker.waker.asked)
    await asyncio.sleep(0.5)
    await sleeper.reconnect()
    for task in waking:
        channel, _ = await asyncio.wait_for(task, 5)
        channel.close()
    assert len(waker.waker.asked) == 1
    assert len(relay.directory.list_audit(event="host_wake")) == 1


@pytest.mark.parametrize("why", ["not_allowed", "other_lan", "waker_offline", "lan_unknown"])
async def test_without_a_waker_on_its_lan_the_login_is_refused_with_a_ticket(relay, lan, why):
    sleeper, waker = lan
    directory = relay.directory
    if why == "not_allowed":
        directory.set_host_can_wake(TENANT, waker.host_id, False)
    elif why == "other_lan":
        directory.record_host_seen(waker.host_id, time.time(), ELSEWHERE_CARD)
    elif why == "waker_offline":
        await waker.stop()
    else:  # an office PC enrolled before its agent reported a card: the LAN is not known
        other = await HostAgent(relay).start()
        directory.grant(TENANT, USER, other.host_id)
        await other.stop()
        sleeper = other
    ticket = await refused_offline(relay, sleeper.host_id)

    with pytest.raises(RefusedByRelay) as refused:
        await login(relay, sleeper.host_id, "", HOME_PC, resume_ticket=ticket, wake=True)
    assert refused.value.reason == RefusalReason.WAKE_UNAVAILABLE
    assert refused.value.resume_ticket  # the user may try again without a new OTP
    assert waker.waker.asked == []
    assert not directory.list_audit(event="host_wake")
    (record,) = [
        r
        for r in directory.list_audit(event="login_refused")
        if r.detail.get("reason") == "wake_unavailable"
    ]
    assert record.host_id == sleeper.host_id


async def test_a_pc_that_does_not_wake_in_time_is_refused_wake_timeout(relay, lan):
    sleeper, waker = lan
    ticket = await refused_offline(relay, sleeper.host_id)
    started = time.monotonic()
    with pytest.raises(RefusedByRelay) as refused:
        await login(relay, sleeper.host_id, "", HOME_PC, resume_ticket=ticket, wake=True)
    waited = time.monotonic() - started
    assert refused.value.reason == RefusalReason.WAKE_TIMEOUT
    assert refused.value.resume_ticket
    assert WAKE_SETTINGS.wake_wait_s <= waited < WAKE_SETTINGS.wake_wait_s + 2
    assert len(waker.waker.asked) == 1


async def test_a_login_without_wake_never_wakes(relay, lan):
    sleeper, waker = lan
    await refused_offline(relay, sleeper.host_id)
    assert waker.waker.asked == []
    assert not relay.directory.list_audit(event="host_wake")


@pytest.mark.parametrize(
    ("mac", "address", "recorded"),
    [
        ("02-77-00-00-00-09", "10.77.0.9/24", LanCard.parse("02:77:00:00:00:09", "10.77.0.9/24")),
        ("not a mac", "10.77.0.9/24", None),
        ("02:77:00:00:00:09", "10.77.0.9", None),  # no prefix: no LAN to tell
        ("", "", None),
    ],
)
async def test_the_relay_records_the_card_an_office_pc_reports(relay, mac, address, recorded):
    agent = await HostAgent(relay).start()
    await agent.stop()
    stream = await open_link(relay.endpoint)
    try:
        await stream.send(HostAuth(agent.host_id, agent.secret, "test", mac, address))
        await _reply(stream)  # HostReady: a malformed card never keeps an office PC out
    finally:
        await stream.close()
    host = relay.directory.get_host(agent.host_id)
    assert host is not None and host.lan == recorded
    assert host.can_wake is False


async def test_a_device_with_a_ticket_of_another_pc_cannot_wake_this_one(relay, lan):
    """A wake rides on a proven login: a ticket names its office PC."""
    sleeper, waker = lan
    other = await HostAgent(relay).start()
    relay.directory.grant(TENANT, USER, other.host_id)
    channel, ok = await login(relay, other.host_id, relay.totp_now(), HOME_PC)
    channel.close()
    with pytest.raises(RefusedByRelay) as refused:
        await login(
            relay,
            sleeper.host_id,
            "",
            HOME_PC,
            resume_ticket=ok.resume_ticket,
            wake=True,
        )
    assert refused.value.reason == RefusalReason.BAD_RESUME_TICKET
    assert waker.waker.asked == []
    await other.stop()
