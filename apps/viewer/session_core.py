"""The viewer's end of a session, without I/O: bytes in, events and bytes out.

Qt-free and clock-free (every call that needs time takes ``now``, monotonic seconds). The
asyncio adapter (:mod:`apps.viewer.client`) feeds it what the secure channel reads and writes
out :meth:`ViewerSession.data_to_send`; the Qt widgets only ever see its events.

What arrives: video (decoded here, one picture per packet, into a BGRA array a QImage wraps
without copying), cursor, notices, screen layout, close. What leaves: input (nothing at all in
view-only mode), receiver reports every :data:`FEEDBACK_INTERVAL_S`, keyframe requests when the
decoder lost track, the monitor choice, close. Pictures are never kept beyond the newest one.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.errors import ProtocolError
from core.media.cursor import CursorState
from core.media.decoder import H264Decoder
from core.media.encoder import VideoPacket
from core.protocol.notices import (
    CloseReason,
    HostScreens,
    IdleWarning,
    SessionPolicy,
    ShutdownWarning,
    ViewerChoice,
    parse_host_screens,
    parse_notice,
)
from core.protocol.session import (
    Button,
    Close,
    Cursor,
    Feedback,
    Key,
    KeyframeRequest,
    Notice,
    Pointer,
    Role,
    ScreenInfo,
    SessionChannel,
    SessionMessage,
    SpecialKeys,
    Video,
    Wheel,
)

FEEDBACK_INTERVAL_S = 0.5
# The connection as staff see it, from the picture's delay: up to GOOD_DELAY_MS typing feels
# immediate; up to FAIR_DELAY_MS it lags but works; beyond, the link is struggling.
GOOD_DELAY_MS = 200
FAIR_DELAY_MS = 500
RATE_WINDOW_S = 2.0  # receive rate is measured over this much recent time
KEYFRAME_REQUEST_INTERVAL_S = 1.0  # ask again if the keyframe has not come after this long
# Each message from the host reaches us inside two TLS 1.3 records (end-to-end and relay), ~22
# bytes each; the sender counts the same overhead, so both ends agree on "bytes received".
TLS_OVERHEAD_BYTES = 2 * 22
INPUT_TYPES = (Key, Pointer, Button, Wheel, SpecialKeys)
# "I am still here": input to the office PC's idle timer, nothing to inject (no whole notch).
STILL_HERE = Wheel(0, 0)


@dataclass(frozen=True)
class Picture:
    """A new picture: (h, w, 4) BGRA, C-contiguous; replaces the previous one."""

    image: npt.NDArray[np.uint8]
    seq: int


@dataclass(frozen=True)
class CursorChanged:
    cursor: CursorState


@dataclass(frozen=True)
class PolicyChanged:
    policy: SessionPolicy


@dataclass(frozen=True)
class ScreensChanged:
    screens: HostScreens


@dataclass(frozen=True)
class Warned:
    """A notice to show the user (shutdown or idle warning)."""

    notice: ShutdownWarning | IdleWarning


@dataclass(frozen=True)
class Closed:
    reason: str


Event = Picture | CursorChanged | PolicyChanged | ScreensChanged | Warned | Closed


class ConnectionQuality(enum.StrEnum):
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


def connection_quality(delay_ms: int) -> ConnectionQuality:
    """One word for staff, from the picture's delay (the receive rate follows the screen's
    activity, not the link, so it does not say how good the connection is)."""
    if delay_ms <= GOOD_DELAY_MS:
        return ConnectionQuality.GOOD
    if delay_ms <= FAIR_DELAY_MS:
        return ConnectionQuality.FAIR
    return ConnectionQuality.POOR


class ReceiveStats:
    """What the receiver reports: bytes, newest frame, delay trend and receive rate."""

    def __init__(self) -> None:
        self.received_bytes = 0
        self.highest_seq = 0
        self.delay_ms = 0
        self._baseline_us: int | None = None  # smallest (arrival - capture) seen
        self._recent: deque[tuple[float, int]] = deque()

    def on_bytes(self, now: float, count: int) -> None:
        self.received_bytes += count
        self._recent.append((now, count))

    def on_video(self, now: float, seq: int, capture_us: int) -> None:
        """Host and viewer clocks differ, so delay is measured against the quickest frame."""
        self.highest_seq = max(self.highest_seq, seq)
        offset = int(now * 1_000_000) - capture_us
        if self._baseline_us is None or offset < self._baseline_us:
            self._baseline_us = offset
        self.delay_ms = (offset - self._baseline_us) // 1000

    def receive_kbps(self, now: float) -> int:
        while self._recent and self._recent[0][0] < now - RATE_WINDOW_S:
            self._recent.popleft()
        return int(sum(n for _, n in self._recent) * 8 / 1000 / RATE_WINDOW_S)

    def feedback(self, now: float) -> Feedback:
        return Feedback(
            self.highest_seq & 0xFFFFFFFF,
            self.received_bytes & 0xFFFFFFFF,
            max(0, self.delay_ms),
            self.receive_kbps(now),
        )


class ViewerSession:
    def __init__(self) -> None:
        self._channel = SessionChannel(Role.VIEWER)
        self._decoder = H264Decoder()
        self._outgoing = bytearray()
        self.cursor = CursorState()
        self.stats = ReceiveStats()
        self.policy = SessionPolicy(
            watermark="", view_only=False, idle_timeout_s=0, max_session_s=0
        )
        self.screens: HostScreens | None = None
        self.user_view_only = False
        self.closed: str | None = None
        self.frames_shown = 0
        self.last_good_seq = 0
        self._keyframe_asked_at: float | None = None
        self._next_feedback_at = 0.0

    @property
    def view_only(self) -> bool:
        return self.policy.view_only or self.user_view_only

    # ----- incoming ----------------------------------------------------------------------
    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Feed bytes from the channel; raises only :class:`ProtocolError` (the host's fault)."""
        events: list[Event] = []
        for message, framed_size in self._channel.receive_sized(data):
            self.stats.on_bytes(now, framed_size + TLS_OVERHEAD_BYTES)
            event = self._handle(message, now)
            if event is not None:
                events.append(event)
        return events

    def _handle(self, message: SessionMessage, now: float) -> Event | None:
        match message:
            case Video():
                return self._video(message, now)
            case Cursor(message=cursor_message):
                self.cursor.apply(cursor_message)
                return CursorChanged(self.cursor)
            case Notice():
                body = parse_notice(message)
                if isinstance(body, SessionPolicy):
                    self.policy = body
                    return PolicyChanged(body)
                return Warned(body)
            case ScreenInfo():
                self.screens = parse_host_screens(message)
                return ScreensChanged(self.screens)
            case Close(reason=reason):
                self.closed = reason
                return Closed(reason)
        raise ProtocolError(f"unexpected {type(message).__name__}")  # pragma: no cover

    def _video(self, video: Video, now: float) -> Event | None:
        self.stats.on_video(now, video.seq, video.capture_us)
        packet = VideoPacket(
            video.data,
            video.seq,
            video.capture_us // 1000,
            video.keyframe,
            video.width,
            video.height,
        )
        decoded = self._decoder.decode(packet)
        if decoded.need_keyframe:
            self._ask_keyframe(now)
        if decoded.image is None:
            return None
        self._keyframe_asked_at = None
        self.last_good_seq = video.seq
        self.frames_shown += 1
        if video.keyframe:
            # Report at once: the host maps our clicks by the picture we have, and switches to
            # a new monitor's or size's geometry only when it hears this picture arrived.
            self._send_feedback(now)
        return Picture(decoded.image, video.seq)

    def _ask_keyframe(self, now: float) -> None:
        asked = self._keyframe_asked_at
        if asked is not None and now - asked < KEYFRAME_REQUEST_INTERVAL_S:
            return
        self._keyframe_asked_at = now
        self._send(KeyframeRequest(self.last_good_seq))

    # ----- outgoing ----------------------------------------------------------------------
    def _send(self, message: SessionMessage) -> None:
        if self.closed is None:
            self._outgoing += self._channel.send(message)

    def send_input(self, message: Key | Pointer | Button | Wheel | SpecialKeys) -> bool:
        """Queue one input message; in view-only mode nothing is sent (returns False)."""
        if not isinstance(message, INPUT_TYPES) or self.view_only or self.closed is not None:
            return False
        self._send(message)
        return True

    def still_here(self) -> None:
        """The user answered the idle warning (「続ける」): a wheel turn of nothing, which the
        office PC counts as input (its idle timer starts again) and injects nothing for. Sent
        in view-only mode too, since it acts on nothing: watching is using the session."""
        self._send(STILL_HERE)

    def choose_monitor(self, index: int) -> None:
        self._send(ViewerChoice(index).message())

    def tick(self, now: float) -> None:
        """Call often (every few hundred ms): sends the receiver report when it is due."""
        if now >= self._next_feedback_at:
            self._send_feedback(now)

    def _send_feedback(self, now: float) -> None:
        self._next_feedback_at = now + FEEDBACK_INTERVAL_S
        self._send(self.stats.feedback(now))

    def close(self, reason: str = CloseReason.VIEWER_QUIT) -> None:
        self._send(Close(reason))
        self.closed = reason

    def data_to_send(self) -> bytes:
        data, self._outgoing = bytes(self._outgoing), bytearray()
        return data
