"""One remote session on the office PC: screen out, input in, policy enforced, then Close.

Runs inside the end-to-end channel the relay joined. Media work (mss capture, x264 encode, the
cursor) runs on one worker thread per session, because mss and the encoder must stay on the
thread that made them and a 40 ms encode must not stall input; everything else is on the
asyncio loop. The session ends by :meth:`HostSession.end` (agent: take-over, shutdown, pause,
admin), by a limit (idle, maximum length, hours), or by the viewer; the viewer is always told
why with ``Close(reason)``.

There is no code path here that reads the clipboard or offers a file or a printer, and the
session protocol has no message that could carry them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import mss

from apps.host.focus import X11FocusSource, frame_rect
from core.errors import Error, LocalError, ProtocolError
from core.hostpolicy.limits import EndReason, IdleWarningDue, SessionLimits
from core.input.dispatch import Backend, InputDispatcher
from core.input.pointer import ScreenMap
from core.media.capture import Monitor as CaptureMonitor
from core.media.capture import ScreenCapture
from core.media.cursor import CursorMessage, CursorPosition, CursorTracker
from core.media.rate import ReceiverReport
from core.media.sender import VideoSender
from core.policy import Policy
from core.protocol.control import SessionOffer
from core.protocol.notices import (
    CloseReason,
    HostScreens,
    IdleWarning,
    Monitor,
    SessionPolicy,
    ShutdownWarning,
    make_notice,
    parse_viewer_choice,
)
from core.protocol.session import (
    Close,
    Cursor,
    Feedback,
    KeyframeRequest,
    Role,
    ScreenInfo,
    SessionChannel,
    SessionMessage,
    Video,
)
from transport.e2e import SecureChannel

log = logging.getLogger("telework.host.session")

SESSION_BUDGET_BPS = 100_000  # the office network's 0.1 Mbps per session
CLOSE_WRITE_TIMEOUT_S = 2.0  # telling the viewer why must not hold a dead session open
CURSOR_WIRE_OVERHEAD_BYTES = 6 + 2 * 22  # frame header and two TLS records


@dataclass
class SessionInfo:
    """Who is connected, for the tray, notifications and ``status``."""

    session_id: str
    user: str
    tenant: str
    device: str  # the registered label, or the MAC when it has none
    mac: str
    started_at: str  # ISO 8601, local time of the office PC
    view_only: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "user": self.user,
            "tenant": self.tenant,
            "device": self.device,
            "mac": self.mac,
            "started_at": self.started_at,
            "view_only": self.view_only,
        }


def watermark_text(policy: Policy, info: SessionInfo, host_name: str, when: dt.datetime) -> str:
    """Date and time, user, office PC and a short session hash; empty when the policy is off."""
    if not policy.watermark:
        return ""
    short = hashlib.sha256(info.session_id.encode()).hexdigest()[:8]
    return f"{when:%Y-%m-%d %H:%M} {info.user} {host_name} #{short}"[:256]


class _Media:
    """Capture, sender and cursor of the monitor shown; lives on the session's worker thread."""

    def __init__(self, display: str | None, monitor: int, budget_bps: int) -> None:
        kwargs: dict[str, Any] = {}
        if sys.platform.startswith("linux"):
            kwargs = {"with_cursor": False, **({"display": display} if display else {})}
        with mss.MSS(**kwargs) as grabber:
            self.monitors = [dict(m) for m in grabber.monitors[1:]]
        if not self.monitors:
            raise LocalError("no monitor to show")
        self.display = display
        self.budget_bps = budget_bps
        self.cursor_source: Any = None
        if sys.platform.startswith("linux"):
            try:
                from core.media.cursor import X11CursorSource

                self.cursor_source = X11CursorSource(display)
            except OSError:
                self.cursor_source = None
        self.focus_source: Any = None
        if sys.platform.startswith("linux"):
            try:
                self.focus_source = X11FocusSource(display)
            except Exception as exc:  # no X connection: the whole screen counts alike
                log.info("no active-window source: %s", type(exc).__name__)
        self.capture: ScreenCapture | None = None
        self.open(monitor)

    def open(self, monitor: int) -> None:
        if not 1 <= monitor <= len(self.monitors):
            raise LocalError(f"no monitor {monitor}")
        if self.capture is not None:
            self.capture.close()
        self.monitor = monitor
        self.capture = ScreenCapture(CaptureMonitor(monitor), display=self.display)
        width, height = self.capture.size
        self.sender = VideoSender(width, height, self.budget_bps)
        self.tracker = CursorTracker()
        m = self.monitors[monitor - 1]
        self.screen = ScreenMap(m["left"], m["top"], m["width"], m["height"], width, height)

    def _focus(self) -> tuple[int, int, int, int] | None:
        """The active window in frame pixels: the first picture makes it sharp first."""
        assert self.capture is not None
        if self.focus_source is None:
            return None
        desktop = self.focus_source.rect()
        if desktop is None:
            return None
        s = self.screen
        return frame_rect(desktop, (s.left, s.top, s.width, s.height), self.capture.size)

    def step(self) -> tuple[Any, list[CursorMessage], float]:
        """Grab, maybe encode; read the cursor. Returns (packet, cursor messages, next delay)."""
        assert self.capture is not None
        now = time.monotonic()
        packet = self.sender.offer(self.capture.grab(), now, focus=self._focus())
        if packet is not None and (packet.width, packet.height) != (
            self.screen.picture_width,
            self.screen.picture_height,
        ):
            s = self.screen
            self.screen = ScreenMap(s.left, s.top, s.width, s.height, packet.width, packet.height)
        cursor: list[CursorMessage] = []
        if self.cursor_source is not None:
            state = self.cursor_source.read()
            if state is not None:
                position, shape = state
                x, y = self.screen.to_picture(position.x, position.y)
                inside = self.screen.left <= position.x < self.screen.left + self.screen.width
                cursor = self.tracker.update(CursorPosition(x, y, inside), shape)
                for message in cursor:
                    self.sender.on_other_sent(
                        now, len(message.to_bytes()) + CURSOR_WIRE_OVERHEAD_BYTES
                    )
        return packet, cursor, self.sender.next_poll_delay(time.monotonic())

    def close(self) -> None:
        if self.capture is not None:
            self.capture.close()
        if self.cursor_source is not None:
            self.cursor_source.close()
        if self.focus_source is not None:
            self.focus_source.close()


class HostSession:
    def __init__(
        self,
        offer: SessionOffer,
        channel: SecureChannel,
        info: SessionInfo,
        *,
        policy: Policy,
        host_name: str,
        backend: Backend | None,
        display: str | None = None,
        monitor: int = 1,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = dt.datetime.now,
        tick_s: float = 1.0,
        budget_bps: int = SESSION_BUDGET_BPS,
    ) -> None:
        self.offer = offer
        self.channel = channel
        self.info = info
        self.policy = policy
        self.host_name = host_name
        self._backend = backend
        self._display = display
        self._monitor = monitor
        self._clock = clock
        self._wall = wall
        self._tick_s = tick_s
        self._budget_bps = budget_bps
        self._protocol = SessionChannel(Role.HOST)
        self._write_lock = asyncio.Lock()
        self._ended = asyncio.Event()
        self.close_reason: str = CloseReason.ERROR
        self.limits = SessionLimits(policy, clock())
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="host-media")
        self._media: _Media | None = None
        self.dispatcher: InputDispatcher | None = None

    # -- requests from the agent --------------------------------------------------------------
    def end(self, reason: str) -> None:
        if not self._ended.is_set():
            self.close_reason = reason
            self._ended.set()

    def apply_policy(self, policy: Policy) -> None:
        self.policy = policy
        self.limits.policy = policy
        if self.dispatcher is not None and policy.view_only and not self.dispatcher.view_only:
            self.dispatcher.release_all()
            self.dispatcher.view_only = True

    async def warn_shutdown(self, at: str, minutes_left: int) -> None:
        await self._send_quietly(make_notice(ShutdownWarning(at, minutes_left)))

    # -- the session --------------------------------------------------------------------------
    async def run(self) -> str:
        """Run until the session ends; returns the close reason sent to the viewer."""
        loop = asyncio.get_running_loop()
        try:
            self._media = media = await loop.run_in_executor(
                self._executor, _Media, self._display, self._monitor, self._budget_bps
            )
            view_only = self.policy.view_only
            self.info.view_only = view_only
            self.dispatcher = InputDispatcher(self._backend, media.screen, view_only=view_only)
            await self._send(self._screens())
            text = watermark_text(self.policy, self.info, self.host_name, self._wall())
            notice = SessionPolicy(
                text, view_only, self.policy.idle_timeout_s or 0, self.policy.max_session_s or 0
            )
            await self._send(make_notice(notice))
            tasks = [
                asyncio.create_task(self._video()),
                asyncio.create_task(self._input()),
                asyncio.create_task(self._watch_limits()),
                asyncio.create_task(self._ended.wait()),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        self._fail(task.exception())
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        except (Error, OSError, ConnectionError) as exc:
            self._fail(exc)
        finally:
            if self.dispatcher is not None:
                self.dispatcher.release_all()
            if self.close_reason != CloseReason.VIEWER_QUIT:
                await self._send_quietly(Close(self.close_reason))
            if self._media is not None:
                await loop.run_in_executor(self._executor, self._media.close)
            self._executor.shutdown(wait=False)
        return self.close_reason

    def _fail(self, exc: BaseException | None) -> None:
        if isinstance(exc, ProtocolError):
            log.info("session %s: viewer broke the protocol", self.info.session_id[:8])
        elif exc is not None:
            log.info("session %s ended: %s", self.info.session_id[:8], type(exc).__name__)
            log.debug("session error", exc_info=exc)
        self.end(CloseReason.ERROR)

    def _screens(self) -> ScreenInfo:
        assert self._media is not None
        monitors = tuple(
            Monitor(i, m["left"], m["top"], m["width"], m["height"])
            for i, m in enumerate(self._media.monitors)
        )
        return HostScreens(self.host_name, monitors, self._media.monitor - 1).message()

    async def _send(self, message: SessionMessage) -> None:
        data = self._protocol.send(message)
        async with self._write_lock:
            await self.channel.write(data)

    async def _send_quietly(self, message: SessionMessage) -> None:
        with contextlib.suppress(Error, OSError, ConnectionError, TimeoutError, RuntimeError):
            await asyncio.wait_for(self._send(message), CLOSE_WRITE_TIMEOUT_S)

    async def _video(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._media is not None
        while True:
            media = self._media
            packet, cursor, delay = await loop.run_in_executor(self._executor, media.step)
            if self.dispatcher is not None:
                self.dispatcher.screen = media.screen
            for message in cursor:
                await self._send(Cursor(message))
            if packet is not None:
                await self._send(
                    Video(
                        packet.keyframe,
                        packet.frame_index,
                        packet.capture_us,
                        packet.width,
                        packet.height,
                        packet.data,
                    )
                )
            await asyncio.sleep(delay)

    async def _input(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.dispatcher is not None and self._media is not None
        while True:
            data = await self.channel.read()
            if not data:
                self.end(CloseReason.VIEWER_QUIT)
                return
            for message in self._protocol.receive_data(data):
                if isinstance(message, Close):
                    self.end(CloseReason.VIEWER_QUIT)
                    return
                if self.dispatcher.handle(message):
                    self.limits.on_input(self._clock())
                elif isinstance(message, Feedback):
                    report = ReceiverReport(message.received_bytes, message.highest_seq, False)
                    media = self._media
                    await loop.run_in_executor(
                        self._executor, media.sender.apply_feedback, time.monotonic(), report
                    )
                elif isinstance(message, KeyframeRequest):
                    await loop.run_in_executor(self._executor, self._media.sender.request_keyframe)
                elif isinstance(message, ScreenInfo):
                    await self._switch_monitor(message)

    async def _switch_monitor(self, message: ScreenInfo) -> None:
        choice = parse_viewer_choice(message)
        assert self._media is not None and self.dispatcher is not None
        target = choice.monitor + 1  # the viewer counts monitors from 0 like HostScreens
        if target == self._media.monitor or not 1 <= target <= len(self._media.monitors):
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._media.open, target)
        self.dispatcher.release_all()
        self.dispatcher.screen = self._media.screen
        await self._send(self._screens())

    async def _watch_limits(self) -> None:
        while True:
            due = self.limits.check(self._clock(), self._wall())
            if isinstance(due, EndReason):
                self.end(due.value)
                return
            if isinstance(due, IdleWarningDue):
                await self._send(make_notice(IdleWarning(due.seconds_left)))
            await asyncio.sleep(self._tick_s)
