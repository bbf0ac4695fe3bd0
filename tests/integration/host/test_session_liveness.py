"""Liveness of a host session over the real relay on a real X display (Xvfb).

On a still screen the office PC repeats the cursor position as a heartbeat, counted against the
session budget like everything it sends; a viewer that goes silent ends the session as gone.
The receiving end is the viewer's own session core, so byte counts are the viewer's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from apps.host.session import HostSession
from apps.host.session_core import SessionInfo
from apps.viewer.session_core import CursorChanged, ViewerSession
from core.crypto.certs import generate_identity
from core.policy import Policy
from core.protocol.control import SessionOffer
from core.protocol.notices import CloseReason
from tests.integration.relay_harness import TENANT, USER, HostAgent, login, start_relay
from transport.e2e import SecureChannel

HEARTBEAT_S = 0.1
VIEWER_SILENCE_S = 1.5  # three of the viewer's 0.5 s reports


@pytest.fixture
async def relay(tmp_path):
    relay = await start_relay(tmp_path / "relay")
    yield relay
    await relay.server.close()
    relay.directory.close()


class Office:
    """The office PC's side: a real HostSession per accepted viewer, scaled timeouts."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.sessions: list[HostSession] = []
        self.reasons: asyncio.Queue[str] = asyncio.Queue()

    async def run_session(self, offer: SessionOffer, channel: SecureChannel) -> None:
        info = SessionInfo(offer.session_id, offer.user, offer.tenant, "home", "", "10:00")
        session = HostSession(
            offer,
            channel,
            info,
            policy=Policy(),
            host_name="PC-01",
            backend=None,
            display=self.display,
            heartbeat_s=HEARTBEAT_S,
            viewer_silence_s=VIEWER_SILENCE_S,
        )
        self.sessions.append(session)
        await self.reasons.put(await session.run())


@pytest.fixture
async def office(relay, xdisplay):
    office = Office(xdisplay)
    agent = await HostAgent(relay, session=office.run_session).start()
    relay.directory.grant(TENANT, USER, agent.host_id)
    office.host_id = agent.host_id
    yield office
    await agent.stop()


async def log_in(relay, office) -> SecureChannel:
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    channel, _ = await login(relay, office.host_id, code, device=generate_identity("home"))
    return channel


async def test_a_still_screen_sends_counted_heartbeats_and_a_reporting_viewer_stays(relay, office):
    channel = await log_in(relay, office)
    viewer = ViewerSession()
    cursors: list[float] = []  # when each cursor message arrived

    async def step() -> None:
        now = time.monotonic()
        with contextlib.suppress(TimeoutError):
            data = await asyncio.wait_for(channel.read(), 0.05)
            assert data, "the office PC ended a session whose viewer was reporting"
            events = viewer.receive_data(data, now)
            cursors.extend(now for e in events if isinstance(e, CursorChanged))
        viewer.tick(now)  # the receiver report every 0.5 s, as the real viewer sends it
        await channel.write(viewer.data_to_send())

    try:
        deadline = time.monotonic() + 3.0  # the picture settles, then 1.5 s of a still screen
        while time.monotonic() < deadline:
            await step()
        recent = [t for t in cursors if t > deadline - 1.5]
        assert len(recent) >= 5, "no heartbeat on a still screen"
        (session,) = office.sessions
        assert office.reasons.empty()
        # Every byte the viewer counted was counted by the office PC's rate control too (a
        # heartbeat is counted just after it is written: compare between two of them).
        rate = session._media.sender.rate
        for _ in range(20):
            await step()
            if rate._sent_total == viewer.stats.received_bytes:
                break
        assert rate._sent_total == viewer.stats.received_bytes
    finally:
        channel.close()


async def test_a_silent_viewer_ends_the_session_as_gone(relay, office):
    channel = await log_in(relay, office)
    try:
        # Read what comes but never answer: the viewer's network died without a reset.
        reading = asyncio.ensure_future(_drain(channel))
        reason = await asyncio.wait_for(office.reasons.get(), VIEWER_SILENCE_S * 4)
        assert reason == CloseReason.VIEWER_QUIT
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
    finally:
        channel.close()


async def _drain(channel: SecureChannel) -> None:
    while await channel.read():
        pass
