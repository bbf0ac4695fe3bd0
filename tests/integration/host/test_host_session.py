"""The host session on an office PC with two monitors, one above the other (a real Xvfb whose
RandR monitors are set so), against a real relay: monitor switches, policy pushed mid-session,
failed setup, and quitting the tray while a viewer holds a key.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from apps.common.xvfb import start_xvfb
from apps.host.agent import stop_agent
from apps.host.session import HostMedia
from core.errors import LocalError
from core.media.cursor import CursorPosition
from core.protocol.notices import (
    CloseReason,
    SessionPolicy,
    ViewerChoice,
    parse_host_screens,
    parse_notice,
)
from core.protocol.session import (
    SESSION_BUDGET_BPS,
    Close,
    Feedback,
    Key,
    Notice,
    Pointer,
    ScreenInfo,
    Video,
)
from tests.integration.host.conftest import Viewer, start_host
from tests.integration.relay_harness import wait_until
from tests.xlib import pointer_position, x_connection

pytestmark = pytest.mark.x11

MONITOR = (640, 480)
TOP = (0, 0, *MONITOR)
BOTTOM = (0, MONITOR[1], *MONITOR)
SHIFT_L = 0xFFE1


class _XRRMonitorInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_ulong),
        ("primary", ctypes.c_int),
        ("automatic", ctypes.c_int),
        ("noutput", ctypes.c_int),
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("mwidth", ctypes.c_int),
        ("mheight", ctypes.c_int),
        ("outputs", ctypes.c_void_p),
    ]


def _set_monitors(display: str, rects: list[tuple[int, int, int, int]]) -> None:
    """Define RandR 1.5 monitors (what mss lists) on ``display``; they outlive this client."""
    xrandr = ctypes.CDLL(ctypes.util.find_library("Xrandr"))
    xrandr.XRRSetMonitor.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.POINTER(_XRRMonitorInfo),
    ]
    with x_connection(display) as (xlib, conn, root):
        for i, (x, y, width, height) in enumerate(rects):
            name = xlib.XInternAtom(conn, f"TEST-{i}".encode(), 0)
            info = _XRRMonitorInfo(name, i == 0, 0, 0, x, y, width, height, 160, 120, None)
            xrandr.XRRSetMonitor(conn, root, ctypes.byref(info))


@pytest.fixture(scope="module")
def stacked() -> Iterator[str]:
    """An X display with two 640x480 monitors, one above the other."""
    if not (ctypes.util.find_library("X11") and ctypes.util.find_library("Xrandr")):
        pytest.skip("libX11 or libXrandr is not installed")
    try:
        screen = start_xvfb(MONITOR[0], 2 * MONITOR[1])
    except LocalError as exc:
        pytest.skip(f"needs Xvfb: {exc}")
    try:
        _set_monitors(screen.display, [TOP, BOTTOM])
        yield screen.display
    finally:
        screen.stop()


@pytest.fixture
def injecting(stacked, monkeypatch) -> str:
    """The agent's input backend opens $DISPLAY: point it at the stacked display."""
    monkeypatch.setenv("DISPLAY", stacked)
    return stacked


def _monitor_number(media: HostMedia, rect: tuple[int, int, int, int]) -> int:
    rects = [(m["left"], m["top"], m["width"], m["height"]) for m in media.monitors]
    return rects.index(rect) + 1


def _next_packet(media: HostMedia):
    """Step as the session does (the sender paces by the real clock) until a packet comes."""
    for _ in range(50):
        packet, screen, cursor, delay = media.step()
        if packet is not None:
            return packet, screen, cursor
        time.sleep(delay)
    raise AssertionError("the sender sent nothing")


def _xdotool(display: str, *args: str) -> str:
    return subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- the media of one session (on this thread, as on the session's worker) ---------------------


def test_a_monitor_switch_keeps_the_sessions_rate_control_and_frame_count(stacked) -> None:
    media = HostMedia(stacked, 1, SESSION_BUDGET_BPS)
    try:
        media.open(_monitor_number(media, TOP))
        sender, rate = media.sender, media.sender.rate
        first, _, _ = _next_packet(media)
        room = rate.window_room(0.0)
        media.open(_monitor_number(media, BOTTOM))
        assert media.sender is sender and media.sender.rate is rate
        assert rate.window_room(0.0) == room  # what the first monitor sent still counts
        switched, screen, _ = _next_packet(media)
        assert switched.keyframe and switched.frame_index > first.frame_index
        assert (screen.left, screen.top) == BOTTOM[:2]
    finally:
        media.close()


def test_the_cursor_on_the_monitor_above_is_hidden(stacked) -> None:
    media = HostMedia(stacked, 1, SESSION_BUDGET_BPS)
    try:
        if media.cursor_source is None:
            pytest.skip("no XFixes cursor source")
        media.open(_monitor_number(media, BOTTOM))
        _xdotool(stacked, "mousemove", "100", "700")
        _, _, cursor = _next_packet(media)
        assert CursorPosition(100, 700 - MONITOR[1], True) in cursor
        _xdotool(stacked, "mousemove", "100", "100")  # same x, but on the top monitor
        positions = [m for m in media.step()[2] if isinstance(m, CursorPosition)]
        assert positions and not positions[-1].visible
    finally:
        media.close()


def test_a_monitor_that_does_not_exist_leaves_no_x_connection_open(stacked) -> None:
    HostMedia(stacked, 1, SESSION_BUDGET_BPS).close()  # libraries loaded once, outside the count
    before = _open_fds()
    for _ in range(3):
        with pytest.raises(LocalError):
            HostMedia(stacked, 9, SESSION_BUDGET_BPS)
    assert _open_fds() == before


# -- whole sessions ----------------------------------------------------------------------------


async def test_clicks_follow_the_picture_the_viewer_has(rig, tmp_path, clock, injecting) -> None:
    """After a switch the viewer still shows (and points into) the old monitor until the new
    one's first frame arrives; its positions must land where it saw them."""
    display = injecting
    host = await start_host(rig, tmp_path, clock, display)
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        screens = parse_host_screens(await viewer.next(ScreenInfo))
        rects = [(m.left, m.top, m.width, m.height) for m in screens.monitors]
        assert rects[screens.active] == TOP
        first = await viewer.next(Video)
        await viewer.send(Pointer(10, 20))
        await wait_until(lambda: pointer_position(display) == (10, 20))

        await viewer.send(ViewerChoice(rects.index(BOTTOM)).message())
        await viewer.send(Pointer(30, 40))  # the viewer still shows the top monitor
        await wait_until(lambda: pointer_position(display) == (30, 40))

        switched = parse_host_screens(await viewer.next(ScreenInfo))
        assert rects[switched.active] == BOTTOM
        new = await viewer.next(Video, where=lambda m: m.keyframe and m.seq > first.seq)
        await viewer.send(Feedback(new.seq, viewer.channel.bytes_in & 0xFFFFFFFF, 0, 0))
        await viewer.send(Pointer(50, 60))  # now on the bottom monitor's picture
        await wait_until(lambda: pointer_position(display) == (50, 60 + MONITOR[1]))
    finally:
        viewer.close()
        await stop_agent(host.agent, host.task)  # and wait for the session's cleanup


async def test_a_policy_pushed_mid_session_reaches_the_viewer(
    rig, tmp_path, clock, stacked
) -> None:
    host = await start_host(rig, tmp_path, clock, stacked, inject=False)
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        before = parse_notice(await viewer.next(Notice))
        assert isinstance(before, SessionPolicy) and not before.view_only and not before.watermark
        policy = {"watermark": True, "view_only": True}
        assert await rig.relay.server.push_policy(host.agent.host_id, policy)
        after = parse_notice(await viewer.next(Notice))
        assert isinstance(after, SessionPolicy) and after.view_only
        assert "tanaka" in after.watermark and "PC-01" in after.watermark
        assert host.agent.status()["session"]["view_only"] is True
    finally:
        viewer.close()
        await stop_agent(host.agent, host.task)  # and wait for the session's cleanup


async def test_a_monitor_that_does_not_exist_ends_the_session_with_a_reason(
    rig, tmp_path, clock, stacked, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="telework.host.session")
    host = await start_host(rig, tmp_path, clock, stacked, inject=False, monitor=9)
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        assert (await viewer.next(Close)).reason == CloseReason.ERROR
        await wait_until(lambda: host.agent.session is None)
        assert any("no monitor 9" in r.getMessage() for r in caplog.records)
    finally:
        viewer.close()
        await stop_agent(host.agent, host.task)  # and wait for the session's cleanup


async def test_no_x_server_ends_the_session_with_a_reason(rig, tmp_path, clock, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="telework.host.session")
    host = await start_host(rig, tmp_path, clock, ":4099", inject=False)  # nothing there
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        assert (await viewer.next(Close)).reason == CloseReason.ERROR
        await wait_until(lambda: host.agent.session is None)
        assert any("cannot be shown" in r.getMessage() for r in caplog.records)
    finally:
        viewer.close()
        await stop_agent(host.agent, host.task)  # and wait for the session's cleanup


async def test_quitting_the_tray_releases_keys_and_tells_the_viewer(
    rig, tmp_path, clock, injecting
) -> None:
    import Xlib.display

    display = injecting
    host = await start_host(rig, tmp_path, clock, display)
    viewer = await Viewer.connect(rig, host.agent.host_id)
    x = Xlib.display.Display(display)
    shift = x.keysym_to_keycode(SHIFT_L)

    def shift_down() -> bool:
        return bool(x.query_keymap()[shift // 8] & (1 << (shift % 8)))

    try:
        await viewer.next(Video)
        await viewer.send(Key(True, SHIFT_L, 0, 0))
        await wait_until(shift_down)
        await stop_agent(host.agent, host.task)
        assert host.task.done() and host.agent.session is None
        assert not shift_down()
        assert (await viewer.next(Close)).reason == CloseReason.HOST_QUIT
    finally:
        x.close()
        viewer.close()
        await stop_agent(host.agent, host.task)  # and wait for the session's cleanup
