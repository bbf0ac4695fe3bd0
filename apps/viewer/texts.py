"""What the viewer says to a person: the ``viewer`` catalog in one language, and the protocol's
progress stages and notices as calm, plain sentences. Protocol codes never reach the screen as
they are. Qt-free."""

from __future__ import annotations

from apps.common.i18n import Translator
from core.policy import HoursSpan
from core.protocol.control import ProgressStage
from core.protocol.notices import IdleWarning, NoticeBody, SessionPolicy, ShutdownWarning


class Texts(Translator):
    """The viewer's catalog in one language (``ja`` or ``en``), shared reasons included."""

    def __init__(self, language: str) -> None:
        super().__init__("viewer", language)

    def progress(self, stage: ProgressStage, elapsed_s: float = 0.0) -> str:
        """A stage in words; waking the office PC says how long it has been (``elapsed_s``),
        since that wait is minutes long."""
        if stage == ProgressStage.WAKING_HOST:
            return self(f"progress_{stage}", elapsed=_minutes_seconds(elapsed_s))
        return self(f"progress_{stage}")

    def notice(self, body: NoticeBody) -> str:
        match body:
            case ShutdownWarning(at=at, minutes_left=minutes):
                return self("notice_shutdown", at=at, minutes=minutes)
            case IdleWarning(seconds_left=seconds):
                return self("notice_idle", seconds=seconds)
            case SessionPolicy(view_only=True):
                return self("notice_view_only")
        return ""

    def hours(self, spans: tuple[HoursSpan, ...]) -> str:
        """The allowed hours in words, e.g. 「平日 8:30〜18:00」 / "weekdays 8:30–18:00"; spans
        with the same window share it (「月曜・水曜 9:00〜12:00」); "" for none."""
        groups: list[tuple[list[str], int, int]] = []
        for span in spans:
            days = self._days(span)
            if groups and groups[-1][1:] == (span.start_min, span.end_min):
                groups[-1][0].append(days)
            else:
                groups.append(([days], span.start_min, span.end_min))
        return self("hours_joiner").join(
            self(
                "hours_span",
                days=self("hours_days_joiner").join(days),
                start=_clock(start),
                end=_clock(end),
            )
            for days, start, end in groups
        )

    def _days(self, span: HoursSpan) -> str:
        named = _NAMED_RUNS.get((span.first, span.last))
        if named is not None:
            return self(named)
        if span.first == span.last:
            return self(f"day_{span.first}")
        return self("days_range", first=self(f"day_{span.first}"), last=self(f"day_{span.last}"))


# Runs of days with a name of their own.
_NAMED_RUNS = {
    ("mon", "fri"): "days_weekdays",
    ("sat", "sun"): "days_weekend",
    ("mon", "sun"): "days_every_day",
}


def _minutes_seconds(seconds: float) -> str:
    """An elapsed time as m:ss (4:05)."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def _clock(minutes: int) -> str:
    """8:30, 18:00, 24:00: the hour without a leading zero, as Japanese notices write it."""
    return f"{minutes // 60}:{minutes % 60:02d}"
