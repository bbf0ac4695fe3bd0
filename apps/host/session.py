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
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import mss
from mss.exception import ScreenShotError

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
TLS_OVERHEAD_BYTES = 2 * 22  # each message travels in two TLS records (end-to-end and relay)
CURSOR_WIRE_OVERHEAD_BYTES = 6 + TLS_OVERHEAD_BYTES  # and a 6-byte frame header
# Picture geometries (monitor, economy size) sent but not yet reported received by the viewer.
# Each one is a keyframe, so a few cover any real use; beyond that the oldest are forgotten and
# the pointer mapping skips straight to a newer one.
MAX_PENDING_GEOMETRIES = 8
# A still screen sends nothing, so after this long without sending, the cursor position is sent
# again: the viewer tells a quiet office PC from a dead link by it. About 56 bytes on the wire
# each time, ~0.2 kbit/s, counted against the budget like every other message.
HEARTBEAT_INTERVAL_S = 2.0
# The viewer reports every 0.5 s (Feedback); nothing from it for this long means its network is
# gone though TCP has not noticed. The session ends as if it had left, so the office PC is free
# again when the viewer resumes.
VIEWER_SILENCE_TIMEOUT_S = 10.0


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


def cursor_position(screen: ScreenMap, x: int, y: int) -> CursorPosition:
    """The desktop cursor at (x, y) in picture pixels; hidden while it is on another monitor,
    whether beside the one shown or above or below it."""
    inside = (
        screen.left <= x < screen.left + screen.width
        and screen.top <= y < screen.top + screen.height
    )
    return CursorPosition(*screen.to_picture(x, y), inside)


class PointerMapping:
    """Which screen the viewer's pointer positions refer to.

    The host changes the picture (another monitor, the economy size) when it encodes a frame,
    but the viewer shows, and clicks into, the old picture until that frame arrives: seconds
    later on a slow link. So a new geometry applies to input only once the viewer reports
    (``Feedback.highest_seq``) that it has the first frame that carried it.
    """

    def __init__(self, screen: ScreenMap) -> None:
        self.screen = screen  # what the viewer's positions mean now
        self._newest = screen  # the geometry of the newest frame sent
        self._sent_index = -1  # the newest frame index sent
        self._pending: deque[tuple[int, ScreenMap]] = deque(maxlen=MAX_PENDING_GEOMETRIES)

    def on_frame_sent(self, index: int, screen: ScreenMap) -> None:
        """Record the geometry of a frame about to be sent."""
        self._sent_index = max(self._sent_index, index)
        if screen != self._newest:
            self._newest = screen
            self._pending.append((index, screen))

    def on_viewer_has(self, highest_seq: int) -> bool:
        """Take the viewer's newest frame into account; True if the mapping changed.

        A report of a frame never sent is not about the viewer's picture and is ignored. (Frame
        indices stay far below the report's 32 bits: that is 9 years at 15 fps.)"""
        if highest_seq > self._sent_index:
            return False
        changed = False
        while self._pending and self._pending[0][0] <= highest_seq:
            self.screen = self._pending.popleft()[1]
            changed = True
        return changed


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
        self.cursor_source: Any = None
        self.focus_source: Any = None
        self.capture: ScreenCapture | None = None
        self.tracker = CursorTracker()  # the viewer keeps the shapes it has across monitors
        try:  # a failure here must not leave X connections open: close() what was opened
            if sys.platform.startswith("linux"):
                self._open_x11_sources()
            self.capture = self._capture(monitor)
            # One sender for the whole session: a monitor switch resizes it (see open()).
            self.sender = VideoSender(*self.capture.size, budget_bps)
            self._show(monitor)
        except BaseException:
            self.close()
            raise

    def _open_x11_sources(self) -> None:
        try:
            from core.media.cursor import X11CursorSource

            self.cursor_source = X11CursorSource(self.display)
        except OSError:
            self.cursor_source = None
        try:
            self.focus_source = X11FocusSource(self.display)
        except Exception as exc:  # no X connection: the whole screen counts alike
            log.info("no active-window source: %s", type(exc).__name__)

    def _capture(self, monitor: int) -> ScreenCapture:
        if not 1 <= monitor <= len(self.monitors):
            raise LocalError(f"no monitor {monitor}")
        return ScreenCapture(CaptureMonitor(monitor), display=self.display)

    def open(self, monitor: int) -> None:
        """Show ``monitor`` from the next frame on, with the session's sender resized, not
        replaced: a new one would start with an empty budget window and a byte count that no
        longer matches the viewer's, so switching monitors would get round the budget."""
        capture = self._capture(monitor)  # the monitor shown stays if this fails
        assert self.capture is not None
        self.capture.close()
        self.capture = capture
        self.sender.resize(*capture.size)
        self._show(monitor)

    def _show(self, monitor: int) -> None:
        assert self.capture is not None
        self.monitor = monitor
        m = self.monitors[monitor - 1]
        width, height = self.capture.size
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

    def step(self) -> tuple[Any, ScreenMap, list[CursorMessage], float]:
        """Grab, maybe encode; read the cursor. Returns (packet, the screen the packet shows,
        cursor messages, next delay)."""
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
                cursor = self.tracker.update(
                    cursor_position(self.screen, position.x, position.y), shape
                )
                for message in cursor:
                    self.sender.on_other_sent(
                        now, len(message.to_bytes()) + CURSOR_WIRE_OVERHEAD_BYTES
                    )
        return packet, self.screen, cursor, self.sender.next_poll_delay(time.monotonic())

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
        heartbeat_s: float = HEARTBEAT_INTERVAL_S,
        viewer_silence_s: float = VIEWER_SILENCE_TIMEOUT_S,
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
        self._heartbeat_s = heartbeat_s
        self._viewer_silence_s = viewer_silence_s
        self._last_sent_at = time.monotonic()
        # What the heartbeat repeats: the cursor as the viewer last heard of it.
        self._cursor_position = CursorPosition(0, 0, visible=False)
        self._protocol = SessionChannel(Role.HOST)
        self._write_lock = asyncio.Lock()
        self._ended = asyncio.Event()
        self._closed = asyncio.Event()  # run() has cleaned up: keys released, viewer told
        self._policy_changed = asyncio.Event()  # the viewer has yet to hear of a new policy
        self.close_reason: str = CloseReason.ERROR
        self.limits = SessionLimits(policy, clock())
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="host-media")
        self._media: _Media | None = None
        self.dispatcher: InputDispatcher | None = None
        self._pointer: PointerMapping | None = None

    # -- requests from the agent --------------------------------------------------------------
    def end(self, reason: str) -> None:
        if not self._ended.is_set():
            self.close_reason = reason
            self._ended.set()

    def apply_policy(self, policy: Policy) -> None:
        """A policy pushed mid-session: enforced at once, and shown to the viewer (watermark,
        view-only). View-only, once on, stays on until the session ends."""
        self.policy = policy
        self.limits.policy = policy
        if policy.view_only and not self.info.view_only:
            self.info.view_only = True
            if self.dispatcher is not None:
                self.dispatcher.release_all()
                self.dispatcher.view_only = True
        self._policy_changed.set()

    async def wait_closed(self) -> None:
        """Until :meth:`run` has cleaned up (keys released, the viewer told, media closed)."""
        await self._closed.wait()

    async def warn_shutdown(self, at: str, minutes_left: int) -> None:
        await self._send_quietly(make_notice(ShutdownWarning(at, minutes_left)))

    # -- the session --------------------------------------------------------------------------
    async def run(self) -> str:
        """Run until the session ends; returns the close reason sent to the viewer."""
        loop = asyncio.get_running_loop()
        try:
            media = await loop.run_in_executor(self._executor, self._open_media)
            self.info.view_only = self.policy.view_only
            self.dispatcher = InputDispatcher(
                self._backend, media.screen, view_only=self.info.view_only
            )
            self._pointer = PointerMapping(media.screen)
            await self._send(self._screens())
            self._policy_changed.clear()  # this notice carries the policy as it is now
            await self._send(self._policy_notice())
            tasks = [
                asyncio.create_task(self._video()),
                asyncio.create_task(self._input()),
                asyncio.create_task(self._watch_limits()),
                asyncio.create_task(self._announce_policy()),
                asyncio.create_task(self._heartbeat()),
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
        except (Error, OSError, ConnectionError, ScreenShotError) as exc:
            self._fail(exc)
        finally:
            await self._clean_up()
        return self.close_reason

    async def _clean_up(self) -> None:
        """Release the keys, tell the viewer, close the media: the media even if the session is
        cancelled meanwhile (the agent stopping as the viewer quits), or their X connections
        would stay open for as long as the agent runs."""
        try:
            if self.dispatcher is not None:
                self.dispatcher.release_all()
            if self.close_reason != CloseReason.VIEWER_QUIT:
                await self._send_quietly(Close(self.close_reason))
        finally:
            # Queued on the worker behind whatever still runs there (the media opening, a
            # grab), and shielded: a cancellation must not take the close back off the queue.
            closing = asyncio.get_running_loop().run_in_executor(self._executor, self._close_media)
            self._executor.shutdown(wait=False)  # what is queued still runs
            try:
                await asyncio.shield(closing)
            finally:  # even if cancelled again meanwhile: wait_closed() must not hang
                self._closed.set()

    def _open_media(self) -> _Media:
        """On the worker: the media, kept on the session as soon as they exist, so that a
        session cancelled while they open still closes them."""
        self._media = _Media(self._display, self._monitor, self._budget_bps)
        return self._media

    def _close_media(self) -> None:
        """On the worker, after whatever was queued there before."""
        if self._media is not None:
            self._media.close()

    def _fail(self, exc: BaseException | None) -> None:
        session = self.info.session_id[:8]
        if isinstance(exc, ProtocolError):
            log.info("session %s: viewer broke the protocol", session)
        elif isinstance(exc, LocalError | ScreenShotError):
            # Ours (no such monitor, no X server): the text is ours too, and says what to fix.
            log.warning("session %s ended: the screen cannot be shown: %s", session, exc)
        elif exc is not None:
            log.info("session %s ended: %s", session, type(exc).__name__)
            log.debug("session error", exc_info=exc)
        self.end(CloseReason.ERROR)

    def _screens(self) -> ScreenInfo:
        assert self._media is not None
        monitors = tuple(
            Monitor(i, m["left"], m["top"], m["width"], m["height"])
            for i, m in enumerate(self._media.monitors)
        )
        return HostScreens(self.host_name, monitors, self._media.monitor - 1).message()

    def _policy_notice(self) -> SessionMessage:
        """The policy as the viewer must show it, view-only as this session enforces it."""
        policy = self.policy
        text = watermark_text(policy, self.info, self.host_name, self._wall())
        notice = SessionPolicy(
            text, self.info.view_only, policy.idle_timeout_s or 0, policy.max_session_s or 0
        )
        return make_notice(notice)

    async def _announce_policy(self) -> None:
        while True:
            await self._policy_changed.wait()
            self._policy_changed.clear()
            await self._send(self._policy_notice())

    async def _send(self, message: SessionMessage) -> int:
        """Send one message; returns its framed size."""
        self._last_sent_at = time.monotonic()
        data = self._protocol.send(message)
        async with self._write_lock:
            await self.channel.write(data)
        # Video and cursor bytes are counted where they are made; the viewer's reports count
        # every message, so the rest must be counted too or "in flight" would read low.
        if not isinstance(message, Video | Cursor | Close):
            await self._count_sent(len(data) + TLS_OVERHEAD_BYTES)
        return len(data)

    async def _heartbeat(self) -> None:
        while True:
            quiet_for = time.monotonic() - self._last_sent_at
            if quiet_for < self._heartbeat_s:
                await asyncio.sleep(self._heartbeat_s - quiet_for)
                continue
            size = await self._send(Cursor(self._cursor_position))
            # Made here, not on the media thread, so _send did not count it: count it now.
            await self._count_sent(size + TLS_OVERHEAD_BYTES)

    async def _count_sent(self, wire_bytes: int) -> None:
        media = self._media
        if media is not None and not self._ended.is_set():
            loop = asyncio.get_running_loop()
            now = time.monotonic()
            await loop.run_in_executor(self._executor, media.sender.on_other_sent, now, wire_bytes)

    async def _send_quietly(self, message: SessionMessage) -> None:
        with contextlib.suppress(Error, OSError, ConnectionError, TimeoutError, RuntimeError):
            await asyncio.wait_for(self._send(message), CLOSE_WRITE_TIMEOUT_S)

    async def _video(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._media is not None
        while True:
            media = self._media
            packet, screen, cursor, delay = await loop.run_in_executor(self._executor, media.step)
            for message in cursor:
                if isinstance(message, CursorPosition):
                    self._cursor_position = message
                await self._send(Cursor(message))
            if packet is not None:
                assert self._pointer is not None
                self._pointer.on_frame_sent(packet.frame_index, screen)
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
        assert self._pointer is not None
        while True:
            try:
                data = await asyncio.wait_for(self.channel.read(), self._viewer_silence_s)
            except TimeoutError:
                log.info("session %s: the viewer went silent", self.info.session_id[:8])
                self.end(CloseReason.VIEWER_QUIT)
                return
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
                    if self._pointer.on_viewer_has(message.highest_seq):
                        self.dispatcher.screen = self._pointer.screen
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
        # The pointer mapping follows once the viewer has the new monitor's first frame.
        self.dispatcher.release_all()
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
