"""A host session cancelled at an awkward moment still closes its X connections (capture,
cursor, active window) on a real X display (Xvfb): while its media are opening, or while their
close waits on the worker thread behind a grab. Left open, each would stay open as long as the
agent runs, and the garbage collector would report them in some later, unrelated test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading

import pytest

from apps.host.session import SESSION_BUDGET_BPS, HostMedia, HostSession, SessionInfo
from core.policy import Policy
from core.protocol.control import SessionOffer
from tests.integration.relay_harness import wait_until

pytestmark = pytest.mark.x11

OFFER = SessionOffer("s-1", "t", "tanaka", "pem", [], "127.0.0.1")
WORKER_WAIT_S = 10.0  # a bound for the test's own gate, never reached when all goes well


class SilentViewer:
    """A channel whose viewer sends nothing until it quits; what the host writes is dropped."""

    def __init__(self) -> None:
        self._quit = asyncio.Event()

    async def read(self) -> bytes:
        await self._quit.wait()
        return b""

    async def write(self, data: bytes) -> None:
        pass

    def quit(self) -> None:
        self._quit.set()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _fds_with_x_libraries_loaded(display: str) -> int:
    """Descriptors open now, once the X libraries are loaded (they keep a few open)."""
    HostMedia(display, 1, SESSION_BUDGET_BPS).close()
    return _open_fds()


class Gate:
    """Holds the session's worker thread in a patched step until the test lets it go on."""

    def __init__(self, armed: bool) -> None:
        self.armed = threading.Event()
        if armed:
            self.armed.set()
        self.reached = threading.Event()
        self.opened = threading.Event()

    def hold(self) -> None:
        if self.armed.is_set():
            self.reached.set()
            self.opened.wait(WORKER_WAIT_S)

    async def wait_reached(self) -> None:
        await wait_until(self.reached.is_set)

    async def cancel_while_held(self, task: asyncio.Task[str]) -> None:
        """Cancel ``task`` while the worker is held, then let the worker go on."""
        task.cancel()
        await asyncio.sleep(0.05)  # the cancellation reaches what the session awaits
        self.opened.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _session(display: str, channel: SilentViewer) -> HostSession:
    info = SessionInfo(OFFER.session_id, OFFER.user, OFFER.tenant, "home", "", "10:00")
    return HostSession(
        OFFER, channel, info, policy=Policy(), host_name="PC-01", backend=None, display=display
    )


async def test_cancelled_while_its_media_open_it_still_closes_them(xdisplay, monkeypatch) -> None:
    before = _fds_with_x_libraries_loaded(xdisplay)
    gate = Gate(armed=True)
    open_media = HostMedia.__init__

    def slow_open(media: HostMedia, *args: object) -> None:
        open_media(media, *args)
        gate.hold()

    monkeypatch.setattr(HostMedia, "__init__", slow_open)
    try:
        run = asyncio.create_task(_session(xdisplay, SilentViewer()).run())
        await gate.wait_reached()
        await gate.cancel_while_held(run)
        await wait_until(lambda: _open_fds() == before)
    finally:
        gate.opened.set()  # never leave the worker waiting


async def test_cancelled_while_its_media_close_waits_behind_a_grab_it_still_closes_them(
    xdisplay, monkeypatch
) -> None:
    before = _fds_with_x_libraries_loaded(xdisplay)
    gate = Gate(armed=False)
    step = HostMedia.step

    def slow_step(media: HostMedia):
        result = step(media)
        gate.hold()
        return result

    monkeypatch.setattr(HostMedia, "step", slow_step)
    viewer = SilentViewer()
    try:
        run = asyncio.create_task(_session(xdisplay, viewer).run())
        gate.armed.set()
        await gate.wait_reached()
        viewer.quit()  # the session ends while a grab is held on the worker
        await asyncio.sleep(0.05)  # and queues its media's close behind that grab
        await gate.cancel_while_held(run)  # the agent stopping at that moment
        await wait_until(lambda: _open_fds() == before)
    finally:
        gate.opened.set()
