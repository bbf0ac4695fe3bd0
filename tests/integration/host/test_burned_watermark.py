"""A burned-in watermark reaches the viewer inside the video itself: the office PC agent (real
relay on loopback, real Xvfb screen, real x264) under a policy with ``watermark_burned``, and a
scripted viewer that decodes the H.264 it receives with the viewer's own decoder. The decoded
picture shows the mark where the host's tile puts it and the plain screen elsewhere, the mark's
time follows the clock, and the viewer is not asked to draw a watermark of its own.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from apps.host.agent import stop_agent
from apps.host.watermark_tile import render_tile
from core.media.decoder import H264Decoder
from core.media.encoder import VideoPacket
from core.media.frames import Monitor
from core.media.overlay import Overlay
from core.protocol.notices import SessionPolicy, parse_notice
from core.protocol.session import Notice, Video
from desktop.capture import ScreenCapture
from tests.integration.host.conftest import Viewer, start_host

pytestmark = pytest.mark.x11

POLICY = {"watermark_burned": True, "watermark_text": "〇〇市 持出禁止"}
MARK_LEVELS = 12  # a pixel the mark moves by at least this much counts as marked
SETTLE_S = 6.0  # the picture is refined (text crisp) within ~5 s at 0.1 Mbit/s


def luma(image: np.ndarray) -> np.ndarray:
    return image[..., :3].astype(np.float32).mean(axis=2)


async def decoded_after(viewer: Viewer, decoder: H264Decoder, seconds: float) -> np.ndarray:
    """The last picture the viewer decodes in the next ``seconds`` (receiving all along)."""
    shown = None
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            video = await viewer.next(Video, timeout=left)
        except TimeoutError:
            break
        packet = VideoPacket(
            video.data, video.seq, video.capture_us, video.keyframe, video.width, video.height
        )
        image = decoder.decode(packet).image
        shown = image if image is not None else shown
    assert shown is not None, "no picture decoded"
    return shown


def expected(screen: np.ndarray, text: str) -> tuple[np.ndarray, np.ndarray]:
    """The screen as the host burns it, and where the mark changes it visibly."""
    burned = Overlay(render_tile(text)).burn(screen)
    marked = np.abs(luma(burned) - luma(screen)) >= MARK_LEVELS
    return burned, marked


async def test_the_decoded_video_carries_the_watermark_and_its_time_moves_on(
    rig, tmp_path, clock, xdisplay
) -> None:
    host = await start_host(rig, tmp_path, clock, xdisplay, inject=False, policy=POLICY)
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        notice = parse_notice(await viewer.next(Notice))
        assert isinstance(notice, SessionPolicy) and notice.watermark == ""  # no overlay asked
        with ScreenCapture(Monitor(1), display=xdisplay) as capture:
            screen = np.array(capture.grab())
        session = host.agent.session
        assert session is not None
        text = session.core.burned_watermark(clock.wall())
        assert "tanaka" in text and "PC-01" in text and "〇〇市 持出禁止" in text
        burned, marked = expected(screen, text)
        assert marked.mean() > 0.005  # the mark covers a sparse but real share of the screen

        decoder = H264Decoder()
        shown = await decoded_after(viewer, decoder, SETTLE_S)
        assert shown.shape == screen.shape
        off_mark = np.abs(luma(shown) - luma(screen))
        on_mark = np.abs(luma(shown) - luma(burned))
        # Where the mark is, the picture is the marked screen, not the plain one ...
        assert off_mark[marked].mean() > 2 * on_mark[marked].mean() + 5
        # ... and elsewhere it is the plain screen (away from the mark's edges).
        clear = ~np.pad(marked, 3)[:-6, :-6] & ~np.pad(marked, 3)[6:, 6:]
        assert off_mark[clear].mean() < 3

        # A minute later the mark carries the new time, though the screen did not change.
        clock.advance(60)
        later = session.core.burned_watermark(clock.wall())
        assert later != text and f"{clock.wall():%H:%M}" in later
        burned_later, marked_later = expected(screen, later)
        moved = marked_later != marked  # the time's digits
        assert moved.any()
        shown = await decoded_after(viewer, decoder, SETTLE_S)
        now_diff = np.abs(luma(shown) - luma(burned_later))[moved].mean()
        then_diff = np.abs(luma(shown) - luma(burned))[moved].mean()
        assert now_diff < then_diff / 2
    finally:
        viewer.close()
        await stop_agent(host.agent, host.task)  # and wait for the session's cleanup


async def test_without_the_policy_the_video_is_the_plain_screen(
    rig, tmp_path, clock, xdisplay
) -> None:
    host = await start_host(
        rig, tmp_path, clock, xdisplay, inject=False, policy={"watermark": True}
    )
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        notice = parse_notice(await viewer.next(Notice))
        assert isinstance(notice, SessionPolicy) and "tanaka" in notice.watermark  # the viewer's
        with ScreenCapture(Monitor(1), display=xdisplay) as capture:
            screen = np.array(capture.grab())
        session = host.agent.session
        assert session is not None and session.core.burned_watermark(clock.wall()) == ""
        _, marked = expected(screen, "2024-04-01 10:00 tanaka PC-01 #00000000")
        shown = await decoded_after(viewer, H264Decoder(), SETTLE_S)
        assert np.abs(luma(shown) - luma(screen))[marked].mean() < 3
    finally:
        viewer.close()
        await stop_agent(host.agent, host.task)
