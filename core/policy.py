"""The session policy an admin sets for a tenant or an office PC, as the host applies it.

One model for every party: the admin API validates and stores it, the relay pushes it to the
host as a plain dict (:meth:`Policy.to_dict`), the host parses it (:meth:`Policy.from_dict`)
and combines it with its own local settings by :meth:`Policy.stricter` — a pushed policy can
only make the host stricter, never looser. Bad input raises :class:`PolicyError` with a
message fit for an admin.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any

from core.auth.lockout import (
    MAX_TENANT_LOCK_MINUTES,
    MAX_TENANT_LOCKOUT_FAILURES,
    MAX_USER_GUESSES_PER_HOUR,
    MIN_TENANT_LOCK_MINUTES,
    MIN_TENANT_LOCKOUT_FAILURES,
    USER_LOCK_S,
    USER_MAX_FAILURES,
)
from core.errors import Error
from core.homecheck.report import MAX_VERSION_CHARS, REQUIRABLE_CHECKS, parse_version

# IPA's Thin Telework sets idle disconnect at 300 s at the least: shorter cuts people off mid-
# thought; the host refuses anything lower.
MIN_IDLE_TIMEOUT_S = 300
MAX_IDLE_TIMEOUT_S = 24 * 3600
MIN_SESSION_S = 60
MAX_SESSION_S = 24 * 3600
MIN_SHUTDOWN_WARNING_MIN = 1
MAX_SHUTDOWN_WARNING_MIN = 60
DEFAULT_SHUTDOWN_WARNING_MIN = 10
MAX_MACS = 64
MAX_WATERMARK_TEXT = 64
# The tenant's message shown to staff at login (a notice, a helpdesk number): a few lines.
MAX_LOGIN_MESSAGE_CHARS = 200
# How old the home PC's last successful OS update may be, when a policy requires the check;
# the same default as the peer's (IPA's checker accepts a month).
MIN_UPDATE_AGE_DAYS = 1
MAX_UPDATE_AGE_DAYS = 365
DEFAULT_UPDATE_AGE_DAYS = 30

# The relay's lock length, in the minutes a tenant's policy sets it in (lockout_minutes).
DEFAULT_LOCK_MINUTES = int(USER_LOCK_S // 60)

# The allowed hours a refusal carries to the viewer (OUTSIDE_HOURS): one span per run of
# consecutive days; a week has at most four runs of one window (mon, wed, fri, sun).
MAX_HOURS_SPANS = 7

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MAC = re.compile(r"^[0-9A-F]{2}([:-]?)[0-9A-F]{2}(\1[0-9A-F]{2}){4}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = "(" + "|".join(WEEKDAYS) + ")"
_TIME = r"([01]\d|2[0-3]):([0-5]\d)"
_SPAN = re.compile(rf"{_DAY}(?:-{_DAY})? {_TIME}-(?:{_TIME}|(24):(00))")


class PolicyError(Error):
    """A policy value is malformed or out of range; the message says which and why."""


def normalise_mac(text: str) -> str:
    """``aa-bb-cc-dd-ee-ff`` / ``AABBCCDDEEFF`` / any case -> ``AA:BB:CC:DD:EE:FF``."""
    value = text.strip().upper() if isinstance(text, str) else ""
    if not _MAC.match(value):
        raise PolicyError(f"not a MAC address: {str(text)[:40]!r} (expected AA:BB:CC:DD:EE:FF)")
    digits = re.sub(r"[:-]", "", value)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _minutes(text: Any, what: str) -> int:
    if not isinstance(text, str) or not (match := _HHMM.match(text)):
        raise PolicyError(f"{what} must be a time as HH:MM (24-hour), got {text!r}")
    return int(match[1]) * 60 + int(match[2])


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class AllowedHours:
    """Days and a daily window (start < end, same day) in which sessions may run."""

    days: frozenset[str] = frozenset(WEEKDAYS)
    start_min: int = 0
    end_min: int = 24 * 60

    def allows(self, when: dt.datetime) -> bool:
        minute = when.hour * 60 + when.minute
        return WEEKDAYS[when.weekday()] in self.days and self.start_min <= minute < self.end_min

    def intersect(self, other: AllowedHours) -> AllowedHours:
        start, end = max(self.start_min, other.start_min), min(self.end_min, other.end_min)
        return AllowedHours(self.days & other.days, start, max(start, end))

    def to_dict(self) -> dict[str, Any]:
        end = "24:00" if self.end_min == 24 * 60 else _hhmm(self.end_min)
        return {
            "days": [d for d in WEEKDAYS if d in self.days],
            "start": _hhmm(self.start_min),
            "end": end,
        }

    @classmethod
    def from_dict(cls, value: Any) -> AllowedHours:
        if not isinstance(value, dict):
            raise PolicyError("allowed_hours must be an object with days, start and end")
        days = value.get("days", list(WEEKDAYS))
        if not isinstance(days, list) or not all(d in WEEKDAYS for d in days):
            raise PolicyError(f"allowed_hours.days must be a list of {', '.join(WEEKDAYS)}")
        start = _minutes(value.get("start", "00:00"), "allowed_hours.start")
        end_text = value.get("end", "24:00")
        end = 24 * 60 if end_text == "24:00" else _minutes(end_text, "allowed_hours.end")
        if start >= end:
            raise PolicyError("allowed_hours.start must be before allowed_hours.end")
        return cls(frozenset(days), start, end)

    def spans(self) -> tuple[HoursSpan, ...]:
        """The hours as runs of consecutive days (Monday to Sunday) with their window; none
        when no time is allowed at all (an intersection of disjoint hours)."""
        if self.start_min >= self.end_min:
            return ()
        runs: list[list[str]] = []
        for i, day in enumerate(WEEKDAYS):
            if day not in self.days:
                continue
            if runs and runs[-1][-1] == WEEKDAYS[i - 1]:
                runs[-1].append(day)
            else:
                runs.append([day])
        return tuple(HoursSpan(r[0], r[-1], self.start_min, self.end_min) for r in runs)


@dataclass(frozen=True)
class HoursSpan:
    """Days ``first``..``last`` (Monday-first order, ``first`` == ``last`` for one day), each
    from ``start_min`` to ``end_min`` minutes after midnight: what a refusal outside the
    allowed hours tells the viewer, on the wire as ``"mon-fri 08:30-18:00"`` (:meth:`to_wire`),
    never as free text."""

    first: str
    last: str
    start_min: int
    end_min: int

    def to_wire(self) -> str:
        days = self.first if self.first == self.last else f"{self.first}-{self.last}"
        end = "24:00" if self.end_min == 24 * 60 else _hhmm(self.end_min)
        return f"{days} {_hhmm(self.start_min)}-{end}"

    @classmethod
    def from_wire(cls, text: Any) -> HoursSpan:
        """Parse one span strictly (the relay checks an office PC's with this)."""
        match = _SPAN.fullmatch(text) if isinstance(text, str) and len(text) <= 32 else None
        if match is None:
            raise PolicyError(f"not an hours span: {str(text)[:40]!r}")
        first, last = match[1], match[2] or match[1]
        start = int(match[3]) * 60 + int(match[4])
        end = 24 * 60 if match[7] else int(match[5]) * 60 + int(match[6])
        if WEEKDAYS.index(first) > WEEKDAYS.index(last) or start >= end:
            raise PolicyError(f"not an hours span: {text!r}")
        return cls(first, last, start, end)

    @property
    def days(self) -> tuple[str, ...]:
        return WEEKDAYS[WEEKDAYS.index(self.first) : WEEKDAYS.index(self.last) + 1]


def hours_to_wire(hours: AllowedHours | None) -> list[str]:
    """The allowed hours as a refusal carries them ([] when there are none to tell)."""
    return [span.to_wire() for span in hours.spans()] if hours is not None else []


def hours_from_wire(items: Any) -> tuple[HoursSpan, ...]:
    """Spans from a refusal: all of them valid and at most :data:`MAX_HOURS_SPANS`, or none
    (a malformed list tells nothing rather than part of the truth)."""
    if not isinstance(items, list | tuple) or len(items) > MAX_HOURS_SPANS:
        return ()
    try:
        return tuple(HoursSpan.from_wire(item) for item in items)
    except PolicyError:
        return ()


@dataclass(frozen=True)
class Policy:
    """Everything optional; ``None`` means "no limit from this source"."""

    allowed_hours: AllowedHours | None = None
    shutdown_at_min: int | None = None  # minutes after midnight, local time of the office PC
    shutdown_warning_min: int = DEFAULT_SHUTDOWN_WARNING_MIN
    idle_timeout_s: int | None = None
    max_session_s: int | None = None
    watermark: bool = False
    # The admin's own words added to the watermark (the municipality's name, a warning).
    watermark_text: str | None = None
    # The office PC draws the watermark into the picture before encoding it, so no viewer can
    # leave it out (it implies ``watermark``); otherwise the viewer draws it over the picture.
    watermark_burned: bool = False
    view_only: bool = False
    allowed_macs: frozenset[str] | None = None  # the admin's central list of home PCs
    # The home-PC check (core/homecheck): the checks that must pass, how old the last OS
    # update may be, the lowest viewer version let in, and whether a login with no report at
    # all (an older viewer) is refused. The viewer's statements, not proof: SECURITY.md.
    home_checks: frozenset[str] = frozenset()
    update_max_age_days: int | None = None  # None: DEFAULT_UPDATE_AGE_DAYS
    min_viewer_version: str | None = None
    deny_unchecked: bool = False
    # The tenant's words shown by the viewer after login (the relay's, never the office PC's).
    login_message: str | None = None
    # The tenant's lockout of its staff's accounts, which the relay enforces on every node:
    # wrong OTPs that lock an account, and for how long (None: the relay's defaults). The
    # tenant's alone (an office PC's policy may not set them) and never pushed to office PCs.
    lockout_failures: int | None = None
    lockout_minutes: int | None = None

    # -- parsing ---------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> Policy:
        if not isinstance(data, dict):
            raise PolicyError("a policy is a JSON object")
        unknown = set(data) - _KEYS
        if unknown:
            raise PolicyError(f"unknown policy settings: {', '.join(sorted(unknown))}")
        hours = data.get("allowed_hours")
        shutdown = data.get("shutdown_at")
        macs = data.get("allowed_macs")
        age = data.get("update_max_age_days")
        if macs is not None and (not isinstance(macs, list) or len(macs) > MAX_MACS):
            raise PolicyError(f"allowed_macs must be a list of at most {MAX_MACS} MAC addresses")
        return cls(
            allowed_hours=AllowedHours.from_dict(hours) if hours is not None else None,
            shutdown_at_min=_minutes(shutdown, "shutdown_at") if shutdown is not None else None,
            shutdown_warning_min=_int(
                data.get("shutdown_warning_min", DEFAULT_SHUTDOWN_WARNING_MIN),
                "shutdown_warning_min",
                MIN_SHUTDOWN_WARNING_MIN,
                MAX_SHUTDOWN_WARNING_MIN,
            ),
            idle_timeout_s=_optional_int(
                data.get("idle_timeout_s"), "idle_timeout_s", MIN_IDLE_TIMEOUT_S, MAX_IDLE_TIMEOUT_S
            ),
            max_session_s=_optional_int(
                data.get("max_session_s"), "max_session_s", MIN_SESSION_S, MAX_SESSION_S
            ),
            watermark=_bool(data.get("watermark", False), "watermark"),
            watermark_text=_watermark_text(data.get("watermark_text")),
            watermark_burned=_bool(data.get("watermark_burned", False), "watermark_burned"),
            view_only=_bool(data.get("view_only", False), "view_only"),
            allowed_macs=frozenset(normalise_mac(m) for m in macs) if macs is not None else None,
            home_checks=_home_checks(data.get("home_checks", [])),
            update_max_age_days=_optional_int(
                age, "update_max_age_days", MIN_UPDATE_AGE_DAYS, MAX_UPDATE_AGE_DAYS
            ),
            min_viewer_version=_min_viewer_version(data.get("min_viewer_version")),
            deny_unchecked=_bool(data.get("deny_unchecked", False), "deny_unchecked"),
            login_message=_login_message(data.get("login_message")),
            **_lockout(data.get("lockout_failures"), data.get("lockout_minutes")),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "watermark": self.watermark,
            "view_only": self.view_only,
            "shutdown_warning_min": self.shutdown_warning_min,
        }
        if self.allowed_hours is not None:
            out["allowed_hours"] = self.allowed_hours.to_dict()
        if self.shutdown_at_min is not None:
            out["shutdown_at"] = _hhmm(self.shutdown_at_min)
        if self.idle_timeout_s is not None:
            out["idle_timeout_s"] = self.idle_timeout_s
        if self.max_session_s is not None:
            out["max_session_s"] = self.max_session_s
        if self.watermark_text is not None:
            out["watermark_text"] = self.watermark_text
        if self.allowed_macs is not None:
            out["allowed_macs"] = sorted(self.allowed_macs)
        # Only when set, like the home-PC keys below (an older agent refuses a key it does not
        # know); an agent that does know it burns the watermark in.
        if self.watermark_burned:
            out["watermark_burned"] = True
        # The home-PC keys only when set: an office PC's agent older than them refuses a
        # pushed policy with keys it does not know, so a policy without them must not grow.
        if self.home_checks:
            out["home_checks"] = [c.value for c in REQUIRABLE_CHECKS if c in self.home_checks]
        if self.update_max_age_days is not None:
            out["update_max_age_days"] = self.update_max_age_days
        if self.min_viewer_version is not None:
            out["min_viewer_version"] = self.min_viewer_version
        if self.deny_unchecked:
            out["deny_unchecked"] = True
        if self.login_message is not None:
            out["login_message"] = self.login_message
        if self.lockout_failures is not None:
            out["lockout_failures"] = self.lockout_failures
        if self.lockout_minutes is not None:
            out["lockout_minutes"] = self.lockout_minutes
        return out

    # -- combining -------------------------------------------------------------------------

    def stricter(self, other: Policy) -> Policy:
        """The policy that obeys both: tighter hours, earlier shutdown, shorter timeouts."""
        hours = _both(self.allowed_hours, other.allowed_hours, AllowedHours.intersect)
        macs = _both(self.allowed_macs, other.allowed_macs, frozenset.intersection)
        return replace(
            self,
            allowed_hours=hours,
            shutdown_at_min=_both(self.shutdown_at_min, other.shutdown_at_min, min),
            shutdown_warning_min=max(self.shutdown_warning_min, other.shutdown_warning_min),
            idle_timeout_s=_both(self.idle_timeout_s, other.idle_timeout_s, min),
            max_session_s=_both(self.max_session_s, other.max_session_s, min),
            watermark=self.watermark or other.watermark,
            # Not a limit, so no stricter one: the later, more particular source's words
            # (the office PC's over the tenant's, the pushed over the local).
            watermark_text=_both(self.watermark_text, other.watermark_text, lambda _, b: b),
            watermark_burned=self.watermark_burned or other.watermark_burned,
            view_only=self.view_only or other.view_only,
            allowed_macs=macs,
            home_checks=self.home_checks | other.home_checks,
            update_max_age_days=_both(self.update_max_age_days, other.update_max_age_days, min),
            min_viewer_version=_both(
                self.min_viewer_version, other.min_viewer_version, _higher_version
            ),
            deny_unchecked=self.deny_unchecked or other.deny_unchecked,
            login_message=_both(self.login_message, other.login_message, lambda _, b: b),
            # Fewer failures and a longer lock (unset: the relay's default), so still within
            # the guessing rate (see _lockout).
            lockout_failures=_stricter_of(
                self.lockout_failures, other.lockout_failures, USER_MAX_FAILURES, min
            ),
            lockout_minutes=_stricter_of(
                self.lockout_minutes, other.lockout_minutes, DEFAULT_LOCK_MINUTES, max
            ),
        )

    def for_office_pc(self) -> Policy:
        """What the office PC is sent: without what the relay alone applies (the login message,
        the lockout), which an office PC's agent older than those keys would refuse."""
        return replace(self, login_message=None, lockout_failures=None, lockout_minutes=None)

    def tenant_only_keys(self) -> list[str]:
        """The keys this policy sets that only a tenant's policy may (what :meth:`for_office_pc`
        leaves out: the login message, the lockout, which counts an account's failures on
        all its office PCs at once)."""
        return sorted(self.to_dict().keys() - self.for_office_pc().to_dict().keys())

    @property
    def lockout_limits(self) -> tuple[int, float]:
        """The staff accounts' lockout this policy sets: failures that lock, lock length in
        seconds (the relay's defaults where unset)."""
        minutes = self.lockout_minutes
        return (
            self.lockout_failures or USER_MAX_FAILURES,
            USER_LOCK_S if minutes is None else minutes * 60.0,
        )

    @property
    def shows_watermark(self) -> bool:
        """Whether sessions carry a watermark at all (a burned one is a watermark too)."""
        return self.watermark or self.watermark_burned

    @property
    def update_age_limit_days(self) -> int:
        """How old the last OS update may be when the check is required."""
        return self.update_max_age_days or DEFAULT_UPDATE_AGE_DAYS

    @property
    def asks_home_check(self) -> bool:
        """Whether this policy needs anything of the home-PC check."""
        return bool(self.home_checks) or self.deny_unchecked or self.min_viewer_version is not None

    # -- questions the host asks ------------------------------------------------------------

    def allows_time(self, when: dt.datetime) -> bool:
        return self.allowed_hours is None or self.allowed_hours.allows(when)

    def allows_mac(self, macs: list[str]) -> bool:
        """True when the central list is unset or holds one of the viewer's MACs."""
        return self.allowed_macs is None or bool(self.centrally_allowed(macs))

    def centrally_allowed(self, macs: list[str]) -> list[str]:
        """Those of the viewer's MACs the central list allows (all of them when it is unset)."""
        if self.allowed_macs is None:
            return list(macs)
        return [m for m in macs if _safe_mac(m) in self.allowed_macs]


_KEYS = {
    "allowed_hours",
    "shutdown_at",
    "shutdown_warning_min",
    "idle_timeout_s",
    "max_session_s",
    "watermark",
    "watermark_text",
    "watermark_burned",
    "view_only",
    "allowed_macs",
    "home_checks",
    "update_max_age_days",
    "min_viewer_version",
    "deny_unchecked",
    "login_message",
    "lockout_failures",
    "lockout_minutes",
}


def _both(a: Any, b: Any, combine: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return combine(a, b)


def _stricter_of(a: int | None, b: int | None, default: int, pick: Any) -> int | None:
    """The stricter of two settings whose unset value means ``default`` (both unset: unset)."""
    if a is None and b is None:
        return None
    return int(pick(default if a is None else a, default if b is None else b))


def _safe_mac(text: str) -> str | None:
    try:
        return normalise_mac(text)
    except PolicyError:
        return None


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{what} must be true or false")
    return value


def _watermark_text(value: Any) -> str | None:
    """One line of at most MAX_WATERMARK_TEXT printable characters; blank is none."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.isprintable():
        raise PolicyError("watermark_text must be one line of text")
    text = value.strip()
    if len(text) > MAX_WATERMARK_TEXT:
        raise PolicyError(f"watermark_text must be at most {MAX_WATERMARK_TEXT} characters")
    return text or None


def _login_message(value: Any) -> str | None:
    """At most MAX_LOGIN_MESSAGE_CHARS printable characters, lines allowed; blank is none."""
    if value is None:
        return None
    text = value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""
    if not isinstance(value, str) or not all(c.isprintable() or c == "\n" for c in text):
        raise PolicyError("login_message must be text (lines allowed)")
    if len(text) > MAX_LOGIN_MESSAGE_CHARS:
        raise PolicyError(f"login_message must be at most {MAX_LOGIN_MESSAGE_CHARS} characters")
    return text or None


def shortest_lock_minutes(failures: int) -> int:
    """The shortest lock (whole minutes) after which ``failures`` more wrong one-time passwords
    give a guesser no more than MAX_USER_GUESSES_PER_HOUR."""
    return -(-failures * 60 // MAX_USER_GUESSES_PER_HOUR)


def _lockout(failures: Any, minutes: Any) -> dict[str, int | None]:
    """The tenant's lockout, each within its bounds and the two together (with the relay's
    default for one unset) giving a guesser at most MAX_USER_GUESSES_PER_HOUR."""
    count = _optional_int(
        failures, "lockout_failures", MIN_TENANT_LOCKOUT_FAILURES, MAX_TENANT_LOCKOUT_FAILURES
    )
    length = _optional_int(
        minutes, "lockout_minutes", MIN_TENANT_LOCK_MINUTES, MAX_TENANT_LOCK_MINUTES
    )
    if count is not None or length is not None:
        effective = count or USER_MAX_FAILURES
        lock_min = length if length is not None else DEFAULT_LOCK_MINUTES
        shortest = shortest_lock_minutes(effective)
        if lock_min < shortest:
            raise PolicyError(
                f"lockout_minutes must be at least {shortest} when {effective} wrong one-time "
                f"passwords lock an account (at most {MAX_USER_GUESSES_PER_HOUR} guesses an hour)"
            )
    return {"lockout_failures": count, "lockout_minutes": length}


def _home_checks(value: Any) -> frozenset[str]:
    names = [c.value for c in REQUIRABLE_CHECKS]
    if not isinstance(value, list) or not all(isinstance(v, str) and v in names for v in value):
        raise PolicyError(f"home_checks must be a list of {', '.join(names)}")
    return frozenset(value)


def _min_viewer_version(value: Any) -> str | None:
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > MAX_VERSION_CHARS or parse_version(text) is None:
        raise PolicyError("min_viewer_version must be a version such as 1.2.0")
    return text


def _higher_version(a: str, b: str) -> str:
    return a if (parse_version(a) or ()) >= (parse_version(b) or ()) else b


def _int(value: Any, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise PolicyError(f"{what} must be a whole number from {low} to {high}")
    return value


def _optional_int(value: Any, what: str, low: int, high: int) -> int | None:
    return None if value is None else _int(value, what, low, high)
