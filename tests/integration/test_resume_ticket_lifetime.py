"""A session's resume ticket lives for the whole session and for its lifetime after the drop.

Real relay on loopback; the relay's wall clock is a test clock, so an hour-long session takes
no real time. The ticket's stored expiry is read from the directory's database file.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.crypto.certs import generate_identity
from core.protocol.control import RefusalReason, SessionEnd
from core.protocol.notices import CloseReason
from relay.server import RelayServer
from relay.store.directory import DB_FILENAME, Directory
from relay.store.schema import resume_tickets
from tests.integration.relay_harness import (
    FAST,
    TENANT,
    USER,
    HostAgent,
    Relay,
    login,
    wait_until,
)
from transport.client import RefusedByRelay
from transport.connect import RelayEndpoint

TTL_S = 600
SETTINGS = replace(FAST, resume_ticket_ttl_s=TTL_S, resume_ticket_renew_s=0.01)


class WallClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
async def relay(tmp_path, wall):
    directory = Directory.open(tmp_path)
    directory.add_tenant(TENANT)
    _, secret = directory.add_user(TENANT, USER)
    server = RelayServer(directory, generate_identity("relay"), SETTINGS, wall_clock=wall)
    host, port = await server.start("127.0.0.1", 0)
    yield Relay(
        server, directory, RelayEndpoint(host, port, fingerprint=server.fingerprint), secret
    )
    await server.close()
    directory.close()


def stored_expiry(data_dir: Path, ticket: str) -> float | None:
    engine = sa.create_engine(f"sqlite:///{data_dir / DB_FILENAME}")
    try:
        with engine.connect() as conn:
            digest = hashlib.sha256(ticket.encode()).hexdigest()
            query = sa.select(resume_tickets.c.expires_at).where(
                resume_tickets.c.ticket_hash == digest
            )
            return conn.execute(query).scalar()
    finally:
        engine.dispose()


async def log_in_with_code(relay: Relay, host_id: str, device):
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    return await login(relay, host_id, code, device=device)


async def test_a_drop_after_a_long_session_resumes_for_the_ticket_lifetime_after_it(
    relay, host, wall, tmp_path
):
    device = generate_identity("home-pc")
    channel, ok = await log_in_with_code(relay, host.host_id, device)
    assert ok.resume_ttl_s == TTL_S
    for _ in range(5):  # two lifetimes of work, the ticket renewed as it goes
        wall.now += TTL_S * 0.4
        await wait_until(lambda: stored_expiry(tmp_path, ok.resume_ticket) == wall.now + TTL_S)

    channel.close()  # the network drops
    await wait_until(lambda: not relay.server.sessions)
    await wait_until(lambda: stored_expiry(tmp_path, ok.resume_ticket) == wall.now + TTL_S)
    wall.now += TTL_S - 5  # nearly the whole lifetime after the drop
    again, resumed = await login(
        relay, host.host_id, "", device=device, resume_ticket=ok.resume_ticket
    )
    again.close()
    assert resumed.resume_ticket != ok.resume_ticket
    # Still single use: the ticket that resumed is gone, and is not brought back when the
    # session it belonged to is long over.
    assert stored_expiry(tmp_path, ok.resume_ticket) is None
    assert not relay.directory.set_resume_ticket_expiry(
        ok.resume_ticket, wall.now + TTL_S, wall.now
    )


async def test_the_lifetime_counts_from_the_end_of_the_session_then_runs_out(relay, host, wall):
    relay.server.context.settings = replace(SETTINGS, resume_ticket_renew_s=3600)  # no renewal
    device = generate_identity("home-pc")
    channel, ok = await log_in_with_code(relay, host.host_id, device)
    wall.now += TTL_S * 0.9
    channel.close()
    await wait_until(lambda: not relay.server.sessions)
    wall.now += TTL_S * 0.9
    again, resumed = await login(
        relay, host.host_id, "", device=device, resume_ticket=ok.resume_ticket
    )
    again.close()
    await wait_until(lambda: not relay.server.sessions)
    wall.now += TTL_S + 1
    with pytest.raises(RefusedByRelay) as refused:
        await login(relay, host.host_id, "", device=device, resume_ticket=resumed.resume_ticket)
    with pytest.raises(RefusedByRelay) as refused:
        await login(relay, host.host_id, "", device=device, resume_ticket=ok.resume_ticket)
    assert refused.value.reason == RefusalReason.BAD_RESUME_TICKET


async def test_a_session_an_admin_ends_takes_its_ticket_with_it(relay, host):
    device = generate_identity("home-pc")
    channel, ok = await log_in_with_code(relay, host.host_id, device)
    (live,) = relay.server.sessions
    assert relay.server.end_session(live, CloseReason.ENDED_BY_ADMIN)
    await wait_until(lambda: not relay.server.sessions)
    channel.close()
    with pytest.raises(RefusedByRelay) as refused:
        await login(relay, host.host_id, "", device=device, resume_ticket=ok.resume_ticket)
    assert refused.value.reason == RefusalReason.BAD_RESUME_TICKET


def cutting_session(host: HostAgent, reason: str, report: str):
    """An office PC whose policy cuts the session at the viewer's first message: it tells the
    relay on its control channel (``report``: "before" the data connection closes, as the
    agent does, or "after" it, as a report that arrives late), and closes the session."""

    async def session(offer, channel) -> None:
        await channel.read()
        assert host.stream is not None
        live = host.relay.server.live_sessions.live
        if report == "before":
            await host.stream.send(SessionEnd(offer.session_id, reason))
            await wait_until(lambda: live[offer.session_id].cut_by_host)
        channel.close()
        if report == "after":
            await wait_until(lambda: offer.session_id not in host.relay.server.sessions)
            await host.stream.send(SessionEnd(offer.session_id, reason))

    return session


@pytest.mark.parametrize("report", ["before", "after"])
@pytest.mark.parametrize("reason", [CloseReason.IDLE_TIMEOUT, CloseReason.MAX_SESSION])
async def test_a_session_the_office_pc_cut_takes_its_ticket_with_it(
    relay, wall, tmp_path, reason, report
):
    host = HostAgent(relay)
    host.session = cutting_session(host, reason, report)
    await host.start()
    relay.directory.grant(TENANT, USER, host.host_id)
    try:
        device = generate_identity("home-pc")
        channel, ok = await log_in_with_code(relay, host.host_id, device)
        await channel.write(b"still there?")
        assert await channel.read() == b""  # the office PC closed the session
        await wait_until(lambda: not relay.server.sessions)
        await wait_until(lambda: stored_expiry(tmp_path, ok.resume_ticket) == wall.now)  # ended
        with pytest.raises(RefusedByRelay) as refused:
            await login(relay, host.host_id, "", device=device, resume_ticket=ok.resume_ticket)
        assert refused.value.reason == RefusalReason.BAD_RESUME_TICKET
        if report == "before":  # the relay records the office PC's reason, not a drop
            ends = [r for r in relay.directory.list_audit(limit=100) if r.event == "session_end"]
            assert [r.detail["reason"] for r in ends] == [reason]
    finally:
        await host.stop()
