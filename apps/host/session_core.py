"""The office PC's end of a session, without I/O: what the viewer's messages mean, what to send.

Qt-free, asyncio-free and clock-free (every call that needs time takes ``now``). The asyncio
adapter (:mod:`apps.host.session`) reads the secure channel, feeds each read to
:meth:`HostSessionCore.receive_data` and acts on the events it yields (inject input, apply a
receiver report, switch monitor, end); it writes what :meth:`HostSessionCore.encode` frames.
The core keeps the session's state: the policy as enforced (view-only, once on, stays on), the
limits (idle, maximum length, hours), the close reason, the pointer geometry the viewer's
positions refer to, and what the heartbeat repeats.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from apps.common.session_tag import session_tag
from core.hostpolicy.limits import EndReason, IdleWarningDue, SessionLimits
from core.input.dispatch import INPUT_TYPES
from core.input.pointer import ScreenMap
from core.media.cursor import CursorMessage, CursorPosition
from core.media.encoder import VideoPacket
from core.media.rate import ReceiverReport
from core.policy import Policy
from core.protocol.notices import (
    CloseReason,
    HostScreens,
    IdleWarning,
    Monitor,
    SessionPolicy,
    make_notice,
    parse_viewer_choice,
)
from core.protocol.session import (
    HEARTBEAT_INTERVAL_S,
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

TLS_OVERHEAD_BYTES = 2 * 22  # each message travels in two TLS records (end-to-end and relay)
# Picture geometries (monitor, economy size) sent but not yet reported received by the viewer.
# Each one is a keyframe, so a few cover any real use; beyond that the oldest are forgotten and
# the pointer mapping skips straight to a newer one.
MAX_PENDING_GEOMETRIES = 8
# Video and cursor bytes are counted against the budget where they are made (the media thread);
# a Close is the last word and counts for nothing. Every other message is counted when sent.
COUNTED_WHERE_MADE = (Video, Cursor, Close)


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
    """Date and time, user, office PC, a short session hash and the admin's words if any;
    empty when the policy is off. The admin's words come last: the length cap cuts them, never
    the tag that identifies the session."""
    if not policy.shows_watermark:
        return ""
    text = f"{when:%Y-%m-%d %H:%M} {info.user} {host_name} #{session_tag(info.session_id)}"
    if policy.watermark_text:
        text = f"{text} {policy.watermark_text}"
    return text[:256]


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


@dataclass(frozen=True)
class Input:
    """Keyboard or pointer input from the viewer, for the dispatcher (it decides view-only)."""

    message: SessionMessage


@dataclass(frozen=True)
class ViewerReported:
    """The viewer's receiver report, for the sender's rate control; ``screen`` is the pointer
    geometry input must use from now on, when this report changed it."""

    report: ReceiverReport
    screen: ScreenMap | None


@dataclass(frozen=True)
class KeyframeRequested:
    """The viewer's decoder lost track: the next frame must be a keyframe."""


@dataclass(frozen=True)
class MonitorChosen:
    """The viewer chose another monitor (numbered from 1, as capture counts them)."""

    monitor: int


@dataclass(frozen=True)
class EndSession:
    """The session is to end with this close reason (the viewer left, or a limit was reached)."""

    reason: str


Event = Input | ViewerReported | KeyframeRequested | MonitorChosen | EndSession


@dataclass(frozen=True)
class Outgoing:
    """One framed message to write, and the wire bytes still to count against the budget."""

    data: bytes
    uncounted_bytes: int


class HostSessionCore:
    def __init__(
        self,
        info: SessionInfo,
        policy: Policy,
        host_name: str,
        now: float,
        heartbeat_s: float = HEARTBEAT_INTERVAL_S,
    ) -> None:
        self.info = info
        self.policy = policy
        self.host_name = host_name
        self.limits = SessionLimits(policy, now)
        self.heartbeat_s = heartbeat_s
        self.close_reason: str = CloseReason.ERROR
        self.ended = False
        self.monitors: tuple[Monitor, ...] = ()
        self.monitor = 0  # the monitor shown, from 1; 0 until the screen is open
        self.pointer: PointerMapping | None = None
        # What the heartbeat repeats: the cursor as the viewer last heard of it.
        self.cursor_position = CursorPosition(0, 0, visible=False)
        self.last_sent_at = -math.inf  # nothing sent yet: a heartbeat would be due at once
        self._channel = SessionChannel(Role.HOST)

    # ----- the session's life ------------------------------------------------------------
    def end(self, reason: str) -> bool:
        """End with ``reason``; False if it had ended already (the first reason stands)."""
        if self.ended:
            return False
        self.close_reason, self.ended = reason, True
        return True

    def start(self, monitors: tuple[Monitor, ...], monitor: int, screen: ScreenMap) -> None:
        """The screen is open: ``monitors`` (numbered from 0), ``monitor`` shown (from 1)."""
        self.monitors, self.monitor = monitors, monitor
        self.info.view_only = self.policy.view_only
        self.pointer = PointerMapping(screen)

    def apply_policy(self, policy: Policy) -> bool:
        """A policy pushed mid-session, enforced at once; True if it just made the session
        view-only (the caller releases held keys). View-only, once on, stays on."""
        self.policy = policy
        self.limits.policy = policy
        if policy.view_only and not self.info.view_only:
            self.info.view_only = True
            return True
        return False

    def on_input(self, now: float) -> None:
        """Input was injected (or would have been, in view-only mode): the user is there."""
        self.limits.on_input(now)

    def check_limits(self, now: float, wall: dt.datetime) -> EndSession | SessionMessage | None:
        """What a limit calls for now: the end, an idle warning to send, or nothing."""
        due = self.limits.check(now, wall)
        if isinstance(due, EndReason):
            return EndSession(due.value)
        if isinstance(due, IdleWarningDue):
            return make_notice(IdleWarning(due.seconds_left))
        return None

    # ----- what the viewer says ----------------------------------------------------------
    def receive_data(self, data: bytes) -> Iterator[Event]:
        """The events in bytes read from the channel, one by one: the caller acts on each
        before the next is made (a monitor switch changes what the next choice means).
        Raises only :class:`~core.errors.ProtocolError` (the viewer's fault)."""
        for message in self._channel.receive_data(data):
            if isinstance(message, Close):
                yield EndSession(CloseReason.VIEWER_QUIT)
                return  # nothing after the viewer's goodbye counts
            event = self._event(message)
            if event is not None:
                yield event

    def _event(self, message: SessionMessage) -> Event | None:
        if isinstance(message, INPUT_TYPES):
            return Input(message)
        if isinstance(message, Feedback):
            report = ReceiverReport(message.received_bytes, message.highest_seq, False)
            assert self.pointer is not None
            changed = self.pointer.on_viewer_has(message.highest_seq)
            return ViewerReported(report, self.pointer.screen if changed else None)
        if isinstance(message, KeyframeRequest):
            return KeyframeRequested()
        if isinstance(message, ScreenInfo):
            target = parse_viewer_choice(message).monitor + 1  # the viewer counts from 0
            if target != self.monitor and 1 <= target <= len(self.monitors):
                return MonitorChosen(target)
        return None

    def monitor_shown(self, monitor: int) -> None:
        """The monitor switch asked for by :class:`MonitorChosen` is done."""
        self.monitor = monitor

    # ----- what to send ------------------------------------------------------------------
    def encode(self, message: SessionMessage, now: float) -> Outgoing:
        data = self._channel.send(message)
        self.last_sent_at = now
        uncounted = 0 if isinstance(message, COUNTED_WHERE_MADE) else len(data) + TLS_OVERHEAD_BYTES
        return Outgoing(data, uncounted)

    def screens_message(self) -> SessionMessage:
        return HostScreens(self.host_name, self.monitors, self.monitor - 1).message()

    def burned_watermark(self, when: dt.datetime) -> str:
        """The watermark text to burn into the picture now; empty when the policy does not."""
        if not self.policy.watermark_burned:
            return ""
        return watermark_text(self.policy, self.info, self.host_name, when)

    def policy_message(self, when: dt.datetime) -> SessionMessage:
        """The policy as the viewer must show it, view-only as this session enforces it. A
        burned-in watermark is in the picture already: the viewer is not asked to draw it
        again over it."""
        policy = self.policy
        text = (
            ""
            if policy.watermark_burned
            else watermark_text(policy, self.info, self.host_name, when)
        )
        notice = SessionPolicy(
            text, self.info.view_only, policy.idle_timeout_s or 0, policy.max_session_s or 0
        )
        return make_notice(notice)

    def cursor_message(self, message: CursorMessage) -> SessionMessage:
        """A cursor change from the media thread, remembered for the heartbeat."""
        if isinstance(message, CursorPosition):
            self.cursor_position = message
        return Cursor(message)

    def video_message(self, packet: VideoPacket, screen: ScreenMap) -> SessionMessage:
        """A frame to send; ``screen`` is the geometry it shows, for the pointer mapping."""
        assert self.pointer is not None
        self.pointer.on_frame_sent(packet.frame_index, screen)
        return Video(
            packet.keyframe,
            packet.frame_index,
            packet.capture_us,
            packet.width,
            packet.height,
            packet.data,
        )

    def heartbeat_due_in(self, now: float) -> float:
        """Seconds until the heartbeat is due; 0 when it is due now."""
        return max(0.0, self.last_sent_at + self.heartbeat_s - now)

    def heartbeat(self, now: float) -> Outgoing:
        """The cursor position again. It is made here, not on the media thread, so it is
        counted against the budget like the messages :meth:`encode` counts."""
        sent = self.encode(Cursor(self.cursor_position), now)
        return Outgoing(sent.data, len(sent.data) + TLS_OVERHEAD_BYTES)
