"""What the JSON-bodied session messages mean: notices, screen layout, close reasons.

:class:`core.protocol.session.Notice` and ``ScreenInfo`` carry small JSON objects; these
dataclasses are their only producers and parsers, so host and viewer agree on every key.
Parsers raise only :class:`ProtocolError`.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import asdict, dataclass
from typing import Any

from core.errors import ProtocolError
from core.protocol.session import Notice, ScreenInfo

MAX_MONITORS = 16
MAX_TEXT = 256


class CloseReason(enum.StrEnum):
    """Why a session ended, sent in :class:`core.protocol.session.Close`."""

    VIEWER_QUIT = "viewer_quit"
    HOST_QUIT = "host_quit"
    IDLE_TIMEOUT = "idle_timeout"
    MAX_SESSION = "max_session"
    SHUTDOWN = "shutdown"
    OUTSIDE_HOURS = "outside_hours"
    TAKEN_OVER = "taken_over"
    PAUSED = "paused"
    ENDED_BY_ADMIN = "ended_by_admin"  # the relay's SessionEnd reason for an admin's action
    ERROR = "error"


# The office PC's own policy cut the session (it stayed idle, or reached its longest length):
# the office PC tells the relay so on its control channel (SessionEnd) before it tells the
# viewer, and the relay ends the session's resume ticket. A cut the viewer could undo by
# reconnecting without an OTP would be no cut at all.
HOST_CUTS = frozenset({CloseReason.IDLE_TIMEOUT, CloseReason.MAX_SESSION})
# Ends that take the session's resume ticket with them: the next login needs an OTP.
TICKET_ENDING = HOST_CUTS | {CloseReason.ENDED_BY_ADMIN}


@dataclass(frozen=True)
class SessionPolicy:
    """The host's effective policy as the viewer needs to know it."""

    watermark: str  # text to tile over the picture, empty when off
    view_only: bool
    idle_timeout_s: int  # 0 when none
    max_session_s: int  # 0 when none


@dataclass(frozen=True)
class ShutdownWarning:
    at: str  # HH:MM, the office PC's local time
    minutes_left: int


@dataclass(frozen=True)
class IdleWarning:
    seconds_left: int


NoticeBody = SessionPolicy | ShutdownWarning | IdleWarning
_KINDS: dict[str, type[NoticeBody]] = {
    "policy": SessionPolicy,
    "shutdown_warning": ShutdownWarning,
    "idle_warning": IdleWarning,
}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}


def make_notice(body: NoticeBody) -> Notice:
    return Notice({"kind": _KIND_OF[type(body)], **asdict(body)})


def parse_notice(notice: Notice) -> NoticeBody:
    data = dict(notice.body)
    cls = _KINDS.get(str(data.pop("kind", "")))
    if cls is None:
        raise ProtocolError("notice of unknown kind")
    return cls(**_fields(cls, data))


@dataclass(frozen=True)
class Monitor:
    index: int
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class HostScreens:
    """Host -> viewer: the office PC's monitors and which one is shown."""

    host_name: str
    monitors: tuple[Monitor, ...]
    active: int

    def message(self) -> ScreenInfo:
        return ScreenInfo(
            {
                "host_name": self.host_name,
                "active": self.active,
                "monitors": [asdict(m) for m in self.monitors],
            }
        )


@dataclass(frozen=True)
class ViewerChoice:
    """Viewer -> host: show this monitor; economy mode for a slow link."""

    monitor: int
    economy: bool = False

    def message(self) -> ScreenInfo:
        return ScreenInfo(asdict(self))


def parse_host_screens(info: ScreenInfo) -> HostScreens:
    body = info.body
    monitors = body.get("monitors")
    if not isinstance(monitors, list) or not 1 <= len(monitors) <= MAX_MONITORS:
        raise ProtocolError(f"screen info needs 1 to {MAX_MONITORS} monitors")
    parsed = tuple(Monitor(**_fields(Monitor, m if isinstance(m, dict) else {})) for m in monitors)
    rest = _fields(HostScreens, body, skip=frozenset({"monitors"}))
    if not 0 <= rest["active"] < len(parsed):
        raise ProtocolError("screen info: active monitor out of range")
    return HostScreens(rest["host_name"], parsed, rest["active"])


def parse_viewer_choice(info: ScreenInfo) -> ViewerChoice:
    return ViewerChoice(**_fields(ViewerChoice, dict(info.body)))


_TYPES: dict[str, type] = {"str": str, "int": int, "bool": bool}


def _fields(cls: Any, data: dict[str, Any], skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Check that ``data`` holds ``cls``'s simple fields with the right types and sizes."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        if f.name not in data and f.default is not dataclasses.MISSING:
            continue
        expected = _TYPES[str(f.type)]
        value = data.get(f.name)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ProtocolError(f"{cls.__name__}.{f.name}: expected {expected.__name__}")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ProtocolError(f"{cls.__name__}.{f.name}: longer than {MAX_TEXT} characters")
        if isinstance(value, int) and not -(2**31) <= value < 2**31:
            raise ProtocolError(f"{cls.__name__}.{f.name}: out of range")
        out[f.name] = value
    return out
