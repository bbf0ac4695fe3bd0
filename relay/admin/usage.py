"""Daily usage from the audit log's ``session_start`` / ``session_end`` records, and CSV output.

Per day (in the relay's local time): office PCs used ("terminals"), staff who worked, sessions
started, the peak number of sessions running at once, and the hours spent in sessions. A
session that spans midnight counts towards both days for the part it spent in each; one still
running counts up to ``now``. A session cut by a relay restart and resumed by its viewer counts
once (its parts' hours add up, without the outage).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from relay.admin.errors import BadRequest, ErrorCode
from relay.restart import RELAY_RESTART
from relay.store.audit import AuditRecord

# Longest span one usage query may cover; a year of days is plenty for a chart or a report.
MAX_USAGE_DAYS = 366
# Days a report covers when only its last day is given: a week.
DEFAULT_USAGE_DAYS = 7
# The days a report may name: from the first whole day of POSIX time in every time zone, to a
# year before Python's dates end (9999-12-31), whose midnights (and the next) all have a time.
MIN_USAGE_DAY = dt.date(1970, 1, 2)
MAX_USAGE_DAY = dt.date(9998, 12, 31)
# Characters that make spreadsheet programs treat a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class DayUsage:
    day: str  # ISO date
    office_pcs: int
    staff: int
    sessions: int
    peak_concurrent: int
    hours: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "office_pcs": self.office_pcs,
            "staff": self.staff,
            "sessions": self.sessions,
            "peak_concurrent": self.peak_concurrent,
            "hours": self.hours,
        }


@dataclass(frozen=True)
class _Interval:
    start: float
    end: float
    user: str | None
    host_id: str | None
    continues_cut_session: bool  # not a new session: see SessionSpans


def report_days(
    since: dt.date | None, until: dt.date | None, today: dt.date
) -> tuple[dt.date, dt.date]:
    """The first and last day of a report asked for from ``since`` to ``until`` (defaults: a
    week ending today); :class:`BadRequest` for days outside the reportable ones, the wrong way
    round, or more than MAX_USAGE_DAYS of them."""
    last = until or min(today, MAX_USAGE_DAY)
    _check_reportable(last, "until")
    first = since or max(MIN_USAGE_DAY, last - dt.timedelta(days=DEFAULT_USAGE_DAYS - 1))
    _check_reportable(first, "since")
    if last < first:
        raise BadRequest("'until' must not be before 'since'", ErrorCode.USAGE_DAYS_REVERSED)
    if (last - first).days + 1 > MAX_USAGE_DAYS:
        raise BadRequest(
            f"at most {MAX_USAGE_DAYS} days at once",
            ErrorCode.USAGE_TOO_MANY_DAYS,
            maximum=MAX_USAGE_DAYS,
        )
    return first, last


def _check_reportable(day: dt.date, name: str) -> None:
    if not MIN_USAGE_DAY <= day <= MAX_USAGE_DAY:
        raise BadRequest(
            f"'{name}' must be from {MIN_USAGE_DAY} to {MAX_USAGE_DAY}",
            ErrorCode.USAGE_DAY_OUT_OF_RANGE,
            field=name,
            minimum=MIN_USAGE_DAY.isoformat(),
            maximum=MAX_USAGE_DAY.isoformat(),
        )


class SessionSpans:
    """Each session's span, from its audit records given in the order they were written (by
    ID), as a resumed session's start comes after the end of the session it continues. Only
    what a span needs is kept of each record, so a report can feed a year of records a page
    at a time without holding them."""

    def __init__(self) -> None:
        self.starts: dict[str, tuple[float, str | None, str | None]] = {}
        self.ends: dict[str, float] = {}
        self.continuing: set[str] = set()
        self.last_end_reason: dict[tuple[str | None, str | None], str] = {}
        self.start_records = 0
        self.end_records = 0

    def add(self, record: AuditRecord) -> None:
        session = record.detail.get("session")
        if not isinstance(session, str):
            return
        pair = (record.user, record.host_id)
        if record.event == "session_start":
            self.start_records += 1
            self.starts[session] = (record.ts, record.user, record.host_id)
            # A resume right after a relay restart cut the session is the same work going on.
            if record.detail.get("resumed") and self.last_end_reason.get(pair) == RELAY_RESTART:
                self.continuing.add(session)
        elif record.event == "session_end":
            self.end_records += 1
            self.ends[session] = record.ts
            self.last_end_reason[pair] = str(record.detail.get("reason", ""))

    def intervals(self, now: float) -> list[_Interval]:
        """The spans; a session with no end yet runs up to ``now``."""
        return [
            _Interval(ts, max(ts, self.ends.get(sid, now)), user, host, sid in self.continuing)
            for sid, (ts, user, host) in self.starts.items()
        ]


def _intervals(records: Iterable[AuditRecord], now: float) -> list[_Interval]:
    """Each session's span, whatever order the caller gathered the records in."""
    spans = SessionSpans()
    for record in sorted(records, key=lambda r: r.id):
        spans.add(record)
    return spans.intervals(now)


def _midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time()).astimezone().timestamp()


def daily_usage(
    records: Iterable[AuditRecord], first: dt.date, last: dt.date, now: float
) -> list[DayUsage]:
    """Usage for each day from ``first`` to ``last`` inclusive."""
    return usage_of(_intervals(records, now), first, last)


def usage_of(intervals: Iterable[_Interval], first: dt.date, last: dt.date) -> list[DayUsage]:
    """Usage for each day from ``first`` to ``last`` inclusive, of the sessions' spans.

    A session counts in a day it overlaps, or that it starts in (a session of no length at a
    midnight counts in the day it starts). Each session is put in its days by bisecting the
    midnights, so a year of a large tenant's sessions takes a fraction of a second, not the
    days times the sessions."""
    days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    midnights = [_midnight(day) for day in days] + [_midnight(last + dt.timedelta(days=1))]
    members: list[list[_Interval]] = [[] for _ in days]
    started = [0] * len(days)
    for i in intervals:
        # The day it starts in (-1: before the first), and the last day begun before its end.
        start_day = bisect.bisect_right(midnights, i.start) - 1
        end_day = bisect.bisect_left(midnights, i.end) - 1
        if 0 <= start_day < len(days) and not i.continues_cut_session:
            started[start_day] += 1
        for k in range(max(start_day, 0), min(max(start_day, end_day), len(days) - 1) + 1):
            members[k].append(i)
    usage = []
    for k, day in enumerate(days):
        lo, hi, inside = midnights[k], midnights[k + 1], members[k]
        usage.append(
            DayUsage(
                day=day.isoformat(),
                office_pcs=len({i.host_id for i in inside}),
                staff=len({i.user for i in inside}),
                sessions=started[k],
                peak_concurrent=_peak(inside, lo, hi),
                hours=round(sum(min(i.end, hi) - max(i.start, lo) for i in inside) / 3600, 3),
            )
        )
    return usage


def _peak(intervals: Sequence[_Interval], lo: float, hi: float) -> int:
    # Ends sort before starts at the same instant: back-to-back sessions are not concurrent.
    edges = sorted(
        [(max(i.start, lo), 1) for i in intervals] + [(min(i.end, hi), -1) for i in intervals]
    )
    peak = running = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text; cells that a spreadsheet would run as a formula are quoted with a leading '."""
    return csv_header(header) + csv_rows(rows)


def csv_header(header: Sequence[str]) -> str:
    """The CSV's first line (:func:`to_csv` a part at a time, with :func:`csv_rows`)."""
    return csv_rows([header])


def csv_rows(rows: Iterable[Sequence[Any]]) -> str:
    """CSV lines of ``rows``, their cells quoted as :func:`to_csv` does."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()
