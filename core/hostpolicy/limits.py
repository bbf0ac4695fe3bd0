"""When a running session must end, and when the office PC shuts down.

:class:`SessionLimits` watches one session: idle time (no input), maximum length and the
allowed hours. :class:`ShutdownPlanner` watches the daily scheduled shutdown: it warns from
``shutdown_warning_min`` minutes before (once per minute left) and then fires once per day.
Both take the time in every call.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from core.policy import Policy

IDLE_WARNING_S = 60  # tell the remote user this long before an idle disconnect


class EndReason(enum.StrEnum):
    """Values are :class:`core.protocol.notices.CloseReason` values."""

    IDLE_TIMEOUT = "idle_timeout"
    MAX_SESSION = "max_session"
    OUTSIDE_HOURS = "outside_hours"


@dataclass(frozen=True)
class IdleWarningDue:
    seconds_left: int


class SessionLimits:
    def __init__(self, policy: Policy, started: float) -> None:
        self.policy = policy
        self.started = started
        self.last_input = started
        self._idle_warned = False

    def on_input(self, now: float) -> None:
        self.last_input = now
        self._idle_warned = False

    def check(self, now: float, wall: dt.datetime) -> EndReason | IdleWarningDue | None:
        """What is due now: the reason to end, an idle warning (once), or nothing."""
        policy = self.policy
        if policy.max_session_s is not None and now - self.started >= policy.max_session_s:
            return EndReason.MAX_SESSION
        if not policy.allows_time(wall):
            return EndReason.OUTSIDE_HOURS
        if policy.idle_timeout_s is not None:
            idle = now - self.last_input
            if idle >= policy.idle_timeout_s:
                return EndReason.IDLE_TIMEOUT
            left = policy.idle_timeout_s - idle
            if left <= IDLE_WARNING_S and not self._idle_warned:
                self._idle_warned = True
                return IdleWarningDue(max(1, int(left)))
        return None


@dataclass(frozen=True)
class ShutdownWarningDue:
    at: str  # HH:MM
    minutes_left: int


@dataclass(frozen=True)
class ShutdownDue:
    at: str


class ShutdownPlanner:
    """The next scheduled shutdown after ``now``; a time already past today means tomorrow."""

    def __init__(self, policy: Policy, now: dt.datetime) -> None:
        self.policy = policy
        self.target = self._next(now, strictly_after=True)
        self._last_warned: int | None = None

    def _next(self, now: dt.datetime, *, strictly_after: bool) -> dt.datetime | None:
        at = self.policy.shutdown_at_min
        if at is None:
            return None
        today = now.replace(hour=at // 60, minute=at % 60, second=0, microsecond=0)
        if today < now or (strictly_after and today == now):
            return today + dt.timedelta(days=1)
        return today

    def replace_policy(self, policy: Policy, now: dt.datetime) -> None:
        if policy.shutdown_at_min != self.policy.shutdown_at_min:
            self._last_warned = None
            self.policy = policy
            self.target = self._next(now, strictly_after=False)
        self.policy = policy

    def check(self, now: dt.datetime) -> ShutdownDue | ShutdownWarningDue | None:
        target = self.target
        if target is None:
            return None
        at = f"{target.hour:02d}:{target.minute:02d}"
        if now >= target:
            self.target = target + dt.timedelta(days=1)
            self._last_warned = None
            return ShutdownDue(at)
        seconds_left = (target - now).total_seconds()
        if seconds_left <= self.policy.shutdown_warning_min * 60:
            minutes_left = max(1, int(-(-seconds_left // 60)))  # round up: "1 minute" to the end
            if minutes_left != self._last_warned:
                self._last_warned = minutes_left
                return ShutdownWarningDue(at, minutes_left)
        return None
