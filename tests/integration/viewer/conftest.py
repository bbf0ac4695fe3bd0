"""The viewer against a real relay: offscreen Qt, a scripted office PC, a private Xvfb."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest

from apps.common.xvfb import start_xvfb
from core.errors import LocalError
from tests.integration.relay_harness import FAST, TENANT, USER, HostAgent, start_relay
from tests.integration.viewer.scripted_host import ScriptedOffice
from tests.xlib import x_connection

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SCREEN = (1280, 800)
# The relay paces each session at the office budget (100 kbit/s); these tests check pictures and
# input, not pacing, so they let a session go faster and finish in a second instead of ten.
TEST_SETTINGS = replace(FAST, session_rate_bps=20_000_000, session_burst_bytes=1_000_000)


@pytest.fixture
async def relay(tmp_path):
    relay = await start_relay(tmp_path / "relay", TEST_SETTINGS)
    yield relay
    await relay.server.close()
    relay.directory.close()


@pytest.fixture
def office():
    return ScriptedOffice()


@pytest.fixture
async def host(relay, office):
    agent = await HostAgent(relay, session=office.run_session).start()
    relay.directory.grant(TENANT, USER, agent.host_id)
    yield agent
    await agent.stop()


@pytest.fixture(scope="module")
def xvfb() -> Iterator[str]:
    """A private Xvfb on a free display number."""
    try:
        screen = start_xvfb(*SCREEN)
    except LocalError as exc:
        pytest.skip(f"the office PC's screen needs an X display: {exc}")
    yield screen.display
    screen.stop()


def fill_rectangles(display: str, rects: list[tuple[int, int, int, int, int]]) -> None:
    """Paint (x, y, w, h, 0xRRGGBB) rectangles on the root window of ``display`` with Xlib."""
    with x_connection(display) as (xlib, dpy, root):
        gc = xlib.XCreateGC(dpy, root, 0, None)
        for x, y, w, h, rgb in rects:
            xlib.XSetForeground(dpy, gc, rgb)
            xlib.XFillRectangle(dpy, root, gc, x, y, w, h)
        xlib.XFreeGC(dpy, gc)
