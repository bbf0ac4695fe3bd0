"""A scripted office PC for viewer tests: real session messages, real H.264, real TLS.

Until the host agent (apps/host) is the one on the other end, this plays its part of the
contract (docs/contracts.md): ``HostScreens``, then the ``SessionPolicy`` notice, then video
from a keyframe, a cursor position, and that position again whenever it has been quiet for
``heartbeat_s`` (None: silent, like a dead link); it records everything the viewer sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from apps.host.session_core import HEARTBEAT_INTERVAL_S
from core.media.cursor import CursorPosition
from core.media.encoder import H264Encoder, VideoPacket
from core.protocol.control import SessionOffer
from core.protocol.notices import HostScreens, Monitor, SessionPolicy, make_notice
from core.protocol.session import (
    Cursor,
    KeyframeRequest,
    Role,
    SessionChannel,
    SessionMessage,
    Video,
)
from transport.e2e import SecureChannel

REFINE_FRAMES = 4  # x264 sharpens a still picture over a few frames


@dataclass
class ScriptedOffice:
    grab: Callable[[], npt.NDArray[np.uint8]] | None = None
    host_name: str = "PC-01"
    watermark: str = ""
    cursor: CursorPosition = field(default_factory=lambda: CursorPosition(640, 400))
    received: list[SessionMessage] = field(default_factory=list)
    packets: list[VideoPacket] = field(default_factory=list)
    sessions: int = 0
    heartbeat_s: float | None = HEARTBEAT_INTERVAL_S

    async def run_session(self, offer: SessionOffer, channel: SecureChannel) -> None:
        self.sessions += 1
        session = SessionChannel(Role.HOST)
        frame = self.grab() if self.grab else np.zeros((64, 64, 4), np.uint8)
        h, w = frame.shape[:2]
        encoder = H264Encoder(w, h)
        encoder.set_vbv(4_000_000, 4_000_000)  # these tests check pictures, not the budget
        screens = HostScreens(self.host_name, (Monitor(0, 0, 0, w, h),), 0)
        await channel.write(session.send(screens.message()))
        policy = SessionPolicy(self.watermark, view_only=False, idle_timeout_s=0, max_session_s=0)
        await channel.write(session.send(make_notice(policy)))

        async def send_frames(count: int) -> None:
            for _ in range(count):
                capture_us = time.monotonic_ns() // 1000
                packet = encoder.encode(np.ascontiguousarray(frame), capture_us // 1000)
                self.packets.append(packet)
                video = Video(packet.keyframe, packet.frame_index, capture_us, w, h, packet.data)
                await channel.write(session.send(video))

        async def heartbeat(interval: float) -> None:
            while True:
                await asyncio.sleep(interval)
                await channel.write(session.send(Cursor(self.cursor)))

        await send_frames(1 + REFINE_FRAMES)
        await channel.write(session.send(Cursor(self.cursor)))
        beating = asyncio.create_task(heartbeat(self.heartbeat_s)) if self.heartbeat_s else None
        try:
            while data := await channel.read():
                for message in session.receive_data(data):
                    self.received.append(message)
                    if isinstance(message, KeyframeRequest):
                        encoder.request_keyframe()
                        await send_frames(1)
        finally:
            if beating is not None:
                beating.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError, ConnectionError):
                    await beating
