"""One remote session on the office PC, as an asyncio adapter: screen out, input in, then Close.

Runs inside the end-to-end channel the relay joined. What the session means (policy, limits,
pointer geometry, what counts against the budget) lives in :mod:`apps.host.session_core`;
this module only moves bytes and pictures. Media work (mss capture, x264 encode, the cursor)
runs on one worker thread per session, because mss and the encoder must stay on the thread
that made them and a 40 ms encode must not stall input; everything else is on the asyncio
loop. The session ends by :meth:`HostSession.end` (agent: take-over, shutdown, pause, admin),
by a limit (idle, maximum length, hours), or by the viewer; the viewer is always told why with
``Close(reason)``. The keys and buttons the viewer holds are released as the session ends,
again as it cleans up, and by the agent's watchdog if the session gets stuck
(:meth:`HostSession.check_stuck`): never left held on the office PC.

When the policy burns the watermark in, its tile is drawn here (with Qt, on the loop's thread)
and handed to the sender on the worker, before the first frame and whenever its text changes.

There is no code path here that reads the clipboard or offers a file or a printer, and the
session protocol has no message that could carry them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from mss.exception import ScreenShotError

from apps.host.session_core import (
    TLS_OVERHEAD_BYTES,
    EndSession,
    HostSessionCore,
    Input,
    KeyframeRequested,
    MonitorChosen,
    Outgoing,
    SessionInfo,
    ViewerReported,
    cursor_position,
)
from apps.host.watermark_tile import render_tile
from core.errors import Error, LocalError, ProtocolError
from core.input.dispatch import Backend, InputDispatcher
from core.input.pointer import ScreenMap
from core.media.cursor import CursorMessage, CursorTracker
from core.media.frames import Monitor as CaptureMonitor
from core.media.frames import Rect, drawn_in_frame, frame_rect
from core.media.overlay import Overlay
from core.media.sender import VideoSender
from core.policy import Policy
from core.protocol.control import SessionOffer
from core.protocol.notices import (
    HOST_CUTS,
    CloseReason,
    Monitor,
    ShutdownWarning,
    make_notice,
)
from core.protocol.session import (
    HEARTBEAT_INTERVAL_S,
    SESSION_BUDGET_BPS,
    VIEWER_SILENCE_TIMEOUT_S,
    Close,
    SessionMessage,
)
from desktop.capture import ScreenCapture, list_monitors
from desktop.win_dxgi import DxgiDuplication, DxgiError
from desktop.x11_damage import X11DamageSource
from desktop.x11_focus import X11FocusSource
from transport.e2e import SecureChannel

log = logging.getLogger("telework.host.session")

CLOSE_WRITE_TIMEOUT_S = 2.0  # telling the viewer why must not hold a dead session open
# The agent's watchdog (see HostSession.check_stuck) takes a session for stuck once it has ended
# and not closed for this long, or once its input loop has not come round for this long past
# the viewer-silence limit (the loop reads, or gives up, within that limit when healthy).
SESSION_STUCK_AFTER_S = 5.0
# With the X server's damage reports, the whole frame is still compared this often: drawing a
# server does not report (a GL client writing its own buffers) shows within this, not never.
WHOLE_FRAME_COMPARE_S = 2.0
CURSOR_WIRE_OVERHEAD_BYTES = 6 + TLS_OVERHEAD_BYTES  # and a 6-byte frame header


@dataclass(frozen=True)
class ScreenLook:
    """One look at the monitor shown, as the video sender takes it (``VideoSender.offer``)."""

    frame: npt.NDArray[np.uint8] | None  # None: nothing drawn, nothing to refine, no capture
    focus: Rect | None  # the active window in frame pixels
    drawn: list[Rect] | None  # what the X server drew since the last look; None: compare all
    window: int | None = None  # the active window's identity (its X window ID), if known


class HostMedia:
    """Capture, sender and cursor of the monitor shown; lives on the session's worker thread.

    bench/bandwidth.py captures live displays through :meth:`look` too, so its figures are the
    host's: the same focus, damage reports and skipped captures."""

    def __init__(
        self,
        display: str | None,
        monitor: int,
        budget_bps: int,
        pace: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pace = pace
        self.monitors = list_monitors(display)
        if not self.monitors:
            raise LocalError("no monitor to show")
        self.display = display
        self.cursor_source: Any = None
        self.focus_source: Any = None
        self.damage_source: Any = None
        self._whole_compare_at = -WHOLE_FRAME_COMPARE_S
        self.capture: ScreenCapture | DxgiDuplication | None = None
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
            from desktop.x11_cursor import X11CursorSource

            self.cursor_source = X11CursorSource(self.display)
        except OSError:
            self.cursor_source = None
        try:
            self.focus_source = X11FocusSource(self.display)
        except Exception as exc:  # no X connection: the whole screen counts alike
            log.info("no active-window source: %s", type(exc).__name__)
        try:
            self.damage_source = X11DamageSource(self.display)
        except Exception as exc:  # no DAMAGE: whole frames are compared
            log.info("no damage reports: %s", exc)

    def _capture(self, monitor: int) -> ScreenCapture | DxgiDuplication:
        if not 1 <= monitor <= len(self.monitors):
            raise LocalError(f"no monitor {monitor}")
        if sys.platform == "win32":
            return self._windows_capture(monitor)
        return ScreenCapture(CaptureMonitor(monitor), display=self.display)

    def _windows_capture(self, monitor: int) -> ScreenCapture | DxgiDuplication:
        """DXGI Desktop Duplication, which is also the damage source (desktop/win_dxgi.py); mss
        and whole-frame comparison where there is none (a Remote Desktop session, Windows 7)."""
        if isinstance(self.capture, DxgiDuplication):
            # One duplication per output and process: the old one goes first. The new capture
            # cannot fail for good (mss stands in), so the monitor shown is not left without one.
            self.capture.close()
        m = self.monitors[monitor - 1]
        try:
            duplication = DxgiDuplication((m["left"], m["top"], m["width"], m["height"]))
        except DxgiError as exc:
            log.info("no desktop duplication (%s): capturing with mss, comparing whole frames", exc)
            self.damage_source = None
            return ScreenCapture(CaptureMonitor(monitor), display=self.display)
        self.damage_source = duplication
        return duplication

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

    def _focus(self) -> tuple[Rect | None, int | None]:
        """The active window in frame pixels (the first picture makes it sharp first) and its
        identity (a switch between two maximised windows changes nothing else)."""
        assert self.capture is not None
        active = None if self.focus_source is None else self.focus_source.active()
        if active is None:
            return None, None
        s = self.screen
        rect = frame_rect(active.rect, (s.left, s.top, s.width, s.height), self.capture.size)
        return rect, active.window

    def _drawn(self, now: float) -> list[tuple[int, int, int, int]] | None:
        """What the X server (or on Windows DWM, through the duplication) drew on the monitor
        shown since the last step (frame pixels), or None to compare whole frames: without
        reports, and every WHOLE_FRAME_COMPARE_S."""
        if self.damage_source is None:
            return None
        desktop = self.damage_source.take()
        if desktop is None or now - self._whole_compare_at >= WHOLE_FRAME_COMPARE_S:
            self._whole_compare_at = now
            return None
        s = self.screen
        assert self.capture is not None
        return drawn_in_frame(desktop, (s.left, s.top, s.width, s.height), self.capture.size)

    def look(self, now: float) -> ScreenLook:
        """The screen now, unless nothing was drawn and nothing is being refined: then not
        even a capture."""
        assert self.capture is not None
        drawn = self._drawn(now)
        if drawn == [] and not self.sender.needs_picture(now):
            return ScreenLook(None, None, drawn)
        frame = self.capture.grab()
        focus, window = self._focus()
        return ScreenLook(frame, focus, drawn, window)

    def step(self) -> tuple[Any, ScreenMap, list[CursorMessage], float]:
        """Grab, maybe encode; read the cursor. Returns (packet, the screen the packet shows,
        cursor messages, next delay)."""
        now = self._pace()
        seen = self.look(now)
        packet = None
        if seen.frame is not None:
            packet = self.sender.offer(
                seen.frame, now, focus=seen.focus, drawn=seen.drawn, window=seen.window
            )
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
        return packet, self.screen, cursor, self.sender.next_poll_delay(self._pace())

    def close(self) -> None:
        if self.capture is not None:
            self.capture.close()
        if self.cursor_source is not None:
            self.cursor_source.close()
        if self.focus_source is not None:
            self.focus_source.close()
        if self.damage_source is not None:
            self.damage_source.close()


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
        pace: Callable[[], float] = time.monotonic,
        tick_s: float = 1.0,
        budget_bps: int = SESSION_BUDGET_BPS,
        heartbeat_s: float = HEARTBEAT_INTERVAL_S,
        viewer_silence_s: float = VIEWER_SILENCE_TIMEOUT_S,
        render_watermark: Callable[[str], npt.NDArray[np.uint8]] = render_tile,
        report_cut: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self.offer = offer
        self.channel = channel
        self.core = HostSessionCore(info, policy, host_name, clock(), heartbeat_s)
        self._backend = backend
        self._display = display
        self._monitor = monitor
        self._clock = clock  # policy time: idle and session limits (tests make it jump)
        self._wall = wall
        # Media time: the rate control's, heartbeats' and watchdog's clock, which must run with
        # the asyncio timeouts and sleeps that pace the session.
        self._pace = pace
        self._tick_s = tick_s
        self._budget_bps = budget_bps
        self._viewer_silence_s = viewer_silence_s
        # Tells the relay (session ID, reason) that this office PC's policy cut the session.
        self._report_cut = report_cut
        self._write_lock = asyncio.Lock()
        self._ended = asyncio.Event()
        self._ended_at: float | None = None  # pace time when the end was asked for
        self._input_turned_at: float | None = None  # pace time of the input loop's turn
        self._found_stuck = False
        self._closed = asyncio.Event()  # run() has cleaned up: keys released, viewer told
        self._policy_changed = asyncio.Event()  # the viewer has yet to hear of a new policy
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="host-media")
        self._media: HostMedia | None = None
        self.dispatcher: InputDispatcher | None = None
        self._render_watermark = render_watermark  # on the loop's thread: Qt draws text there
        self._burned_text = ""  # the watermark text the frames carry now

    @property
    def info(self) -> SessionInfo:
        return self.core.info

    @property
    def close_reason(self) -> str:
        return self.core.close_reason

    # -- requests from the agent --------------------------------------------------------------
    def end(self, reason: str) -> None:
        if self.core.end(reason):
            self._ended_at = self._pace()
            self._ended.set()
        # At once, not only in run()'s clean-up: that may be stuck behind the worker thread,
        # or never run, and the viewer's Ctrl must not stay held meanwhile.
        self.release_input()

    def release_input(self) -> None:
        """Release every key and button the viewer holds on the office PC; any number of times,
        from inside the session or outside it (the agent, once the session's task is over)."""
        if self.dispatcher is None:
            return
        try:
            self.dispatcher.release_all()
        except Exception as exc:  # the backend's X errors are of many kinds; the end goes on
            log.warning(
                "session %s: releasing held input failed: %s",
                self.info.session_id[:8],
                type(exc).__name__,
            )

    def check_stuck(self) -> bool:
        """The agent's watchdog, from outside the session's task, on the pace clock (the one of
        the asyncio timeouts that keep a healthy session moving, not the policy clock): a
        stuck session is ended, which releases its viewer's input (again on each check, for
        what got pressed since). True the first time it is found stuck."""
        now = self._pace()
        if self._closed.is_set():
            return False
        if self._ended_at is not None:
            stuck = now - self._ended_at > SESSION_STUCK_AFTER_S
        elif self._input_turned_at is not None:
            limit = self._viewer_silence_s + SESSION_STUCK_AFTER_S
            stuck = now - self._input_turned_at > limit
        else:
            stuck = False  # still opening its media: nothing injected yet
        if not stuck:
            return False
        self.end(CloseReason.ERROR)
        first, self._found_stuck = not self._found_stuck, True
        return first

    def apply_policy(self, policy: Policy) -> None:
        """A policy pushed mid-session: enforced at once, and shown to the viewer (watermark,
        view-only). View-only, once on, stays on until the session ends."""
        if self.core.apply_policy(policy) and self.dispatcher is not None:
            self.release_input()
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
            monitors = tuple(
                Monitor(i, m["left"], m["top"], m["width"], m["height"])
                for i, m in enumerate(media.monitors)
            )
            self.core.start(monitors, media.monitor, media.screen)
            self.dispatcher = InputDispatcher(
                self._backend, media.screen, view_only=self.info.view_only
            )
            await self._send(self.core.screens_message())
            await self._burn_watermark()  # before the first frame: none leaves unmarked
            self._policy_changed.clear()  # this notice carries the policy as it is now
            await self._send(self.core.policy_message(self._wall()))
            tasks = [
                asyncio.create_task(self._video()),
                asyncio.create_task(self._input()),
                asyncio.create_task(self._watch_limits()),
                asyncio.create_task(self._announce_policy()),
                asyncio.create_task(self._keep_watermark_current()),
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
            self.release_input()
            if self.close_reason in HOST_CUTS and self._report_cut is not None:
                # The relay first, then the viewer: the relay ends the resume ticket before the
                # viewer hears of the cut and could reconnect with it (no OTP-free way back).
                await self._report_cut(self.info.session_id, self.close_reason)
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

    def _open_media(self) -> HostMedia:
        """On the worker: the media, kept on the session as soon as they exist, so that a
        session cancelled while they open still closes them."""
        self._media = HostMedia(self._display, self._monitor, self._budget_bps, self._pace)
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

    async def _announce_policy(self) -> None:
        while True:
            await self._policy_changed.wait()
            self._policy_changed.clear()
            # The picture carries a newly burned watermark before the viewer is told it need
            # not draw its own any more.
            await self._burn_watermark()
            await self._send(self.core.policy_message(self._wall()))

    async def _burn_watermark(self) -> None:
        """Burn the policy's watermark as it reads now into the frames from the next one on
        (drawn again only when its text changes: the minute, the policy)."""
        text = self.core.burned_watermark(self._wall())
        if text == self._burned_text or self._media is None:
            return
        overlay = Overlay(self._render_watermark(text)) if text else None
        self._burned_text = text
        media = self._media
        await asyncio.get_running_loop().run_in_executor(
            self._executor, media.sender.set_overlay, overlay
        )

    async def _keep_watermark_current(self) -> None:
        """The time in a burned watermark follows the clock (to the minute)."""
        while True:
            await asyncio.sleep(self._tick_s)
            await self._burn_watermark()

    async def _send(self, message: SessionMessage) -> None:
        await self._write(self.core.encode(message, self._pace()))

    async def _write(self, outgoing: Outgoing) -> None:
        async with self._write_lock:
            await self.channel.write(outgoing.data)
        # The viewer's reports count every message, so what the media thread did not count
        # must be counted here, or "in flight" would read low.
        if outgoing.uncounted_bytes:
            await self._count_sent(outgoing.uncounted_bytes)

    async def _heartbeat(self) -> None:
        while True:
            due_in = self.core.heartbeat_due_in(self._pace())
            if due_in > 0:
                await asyncio.sleep(due_in)
                continue
            await self._write(self.core.heartbeat(self._pace()))

    async def _count_sent(self, wire_bytes: int) -> None:
        media = self._media
        if media is not None and not self._ended.is_set():
            loop = asyncio.get_running_loop()
            now = self._pace()
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
                await self._send(self.core.cursor_message(message))
            if packet is not None:
                await self._send(self.core.video_message(packet, screen))
            await asyncio.sleep(delay)

    async def _input(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.dispatcher is not None and self._media is not None
        while True:
            self._input_turned_at = self._pace()
            try:
                data = await asyncio.wait_for(self.channel.read(), self._viewer_silence_s)
            except TimeoutError:
                log.info("session %s: the viewer went silent", self.info.session_id[:8])
                self.end(CloseReason.VIEWER_QUIT)
                return
            if not data:
                self.end(CloseReason.VIEWER_QUIT)
                return
            for event in self.core.receive_data(data):
                match event:
                    case EndSession(reason=reason):
                        self.end(reason)
                        return
                    case Input(message=message):
                        if self._ended.is_set():
                            return  # its input was released at the end: inject no more
                        if self.dispatcher.handle(message):
                            self.core.on_input(self._clock())
                    case ViewerReported(report=report, screen=screen):
                        media = self._media
                        await loop.run_in_executor(
                            self._executor, media.sender.apply_feedback, self._pace(), report
                        )
                        if screen is not None:
                            self.dispatcher.screen = screen
                    case KeyframeRequested():
                        await loop.run_in_executor(
                            self._executor, self._media.sender.request_keyframe
                        )
                    case MonitorChosen(monitor=monitor):
                        await self._switch_monitor(monitor)

    async def _switch_monitor(self, monitor: int) -> None:
        assert self._media is not None and self.dispatcher is not None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._media.open, monitor)
        self.core.monitor_shown(monitor)
        # The pointer mapping follows once the viewer has the new monitor's first frame.
        self.dispatcher.release_all()
        await self._send(self.core.screens_message())

    async def _watch_limits(self) -> None:
        while True:
            due = self.core.check_limits(self._clock(), self._wall())
            if isinstance(due, EndSession):
                self.end(due.reason)
                return
            if due is not None:
                await self._send(due)
            await asyncio.sleep(self._tick_s)
