"""A host session never leaves its viewer's keys held on the office PC: they are released the
moment the session is ended, and the agent's watchdog ends (and so releases) a session whose
input loop has stopped turning, here because its worker thread hangs in a grab."""

from __future__ import annotations

import asyncio
import threading

import pytest

from apps.host import session as session_module
from apps.host.session import HostMedia, HostSession, SessionInfo
from core.input.keymap import CTRL_L
from core.policy import Policy
from core.protocol.control import SessionOffer
from core.protocol.notices import CloseReason
from core.protocol.session import Feedback, Key, Role, SessionChannel, SessionMessage
from tests.integration.relay_harness import wait_until
from tests.unit.input.test_dispatch import Recorder

pytestmark = pytest.mark.x11

OFFER = SessionOffer("s-1", "t", "tanaka", "pem", [], "127.0.0.1")
VIEWER_SILENCE_S = 0.3
WORKER_WAIT_S = 10.0  # a bound for the test's own hold, never reached when all goes well
CTRL_DOWN, CTRL_UP = ("key", CTRL_L, True), ("key", CTRL_L, False)


class ScriptedViewer:
    """A channel that delivers what the test sends, as a viewer would; host output is dropped."""

    def __init__(self) -> None:
        self._protocol = SessionChannel(Role.VIEWER)
        self._incoming: asyncio.Queue[bytes] = asyncio.Queue()

    def send(self, message: SessionMessage) -> None:
        self._incoming.put_nowait(self._protocol.send(message))

    async def read(self) -> bytes:
        return await self._incoming.get()

    async def write(self, data: bytes) -> None:
        pass


def start(display: str, backend: Recorder, viewer: ScriptedViewer):
    info = SessionInfo(OFFER.session_id, OFFER.user, OFFER.tenant, "home", "", "10:00")
    session = HostSession(
        OFFER,
        viewer,
        info,
        policy=Policy(),
        host_name="PC-01",
        backend=backend,
        display=display,
        viewer_silence_s=VIEWER_SILENCE_S,
    )
    return session, asyncio.create_task(session.run())


async def test_ending_a_session_releases_its_viewers_keys_at_once(xdisplay):
    backend, viewer = Recorder(), ScriptedViewer()
    session, run = start(xdisplay, backend, viewer)
    viewer.send(Key(True, CTRL_L, 0, 0, ""))
    await wait_until(lambda: CTRL_DOWN in backend.calls)

    session.end(CloseReason.ENDED_BY_ADMIN)
    assert backend.calls[-1] == CTRL_UP  # before the session's own clean-up has had a turn
    assert await run == CloseReason.ENDED_BY_ADMIN
    assert backend.calls.count(CTRL_UP) == 1


async def test_the_watchdog_ends_a_stuck_session_and_releases_its_keys(xdisplay, monkeypatch):
    monkeypatch.setattr(session_module, "SESSION_STUCK_AFTER_S", 0.2)
    hang = threading.Event()
    step = HostMedia.step

    def hanging_step(media: HostMedia):
        hang.wait(WORKER_WAIT_S)  # a grab that does not come back (the X server grabbed)
        return step(media)

    monkeypatch.setattr(HostMedia, "step", hanging_step)
    backend, viewer = Recorder(), ScriptedViewer()
    session, run = start(xdisplay, backend, viewer)
    try:
        viewer.send(Key(True, CTRL_L, 0, 0, ""))
        viewer.send(Feedback(0, 0, 0, 0))  # the input loop waits for the worker with it
        await wait_until(lambda: CTRL_DOWN in backend.calls)
        await asyncio.sleep(VIEWER_SILENCE_S)  # longer than the viewer-silence limit
        assert CTRL_UP not in backend.calls  # the session's own timeouts cannot help now

        # The agent's watchdog, as its tick runs it.
        async with asyncio.timeout(WORKER_WAIT_S):
            while not session.check_stuck():
                await asyncio.sleep(0.05)
        assert CTRL_UP in backend.calls
        assert not session.check_stuck()  # reported once
    finally:
        hang.set()
    assert await run == CloseReason.ERROR
    assert backend.calls.count(CTRL_UP) == 1
