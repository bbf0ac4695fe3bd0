"""Which days a usage report covers: defaults, and refusals (a 400, never an overflow) at the
ends of the calendar, the wrong way round or over MAX_USAGE_DAYS."""

from __future__ import annotations

import datetime as dt

import pytest

from relay.admin.errors import BadRequest
from relay.admin.usage import (
    DEFAULT_USAGE_DAYS,
    MAX_USAGE_DAY,
    MAX_USAGE_DAYS,
    MIN_USAGE_DAY,
    daily_usage,
    report_days,
)

DAY = dt.timedelta(days=1)
TODAY = dt.date(2026, 3, 10)


def test_defaults_are_the_week_ending_today_or_until():
    assert report_days(None, None, TODAY) == (TODAY - (DEFAULT_USAGE_DAYS - 1) * DAY, TODAY)
    until = dt.date(2026, 1, 31)
    assert report_days(None, until, TODAY) == (dt.date(2026, 1, 25), until)
    assert report_days(dt.date(2026, 1, 1), None, TODAY) == (dt.date(2026, 1, 1), TODAY)


def test_the_default_week_is_cut_at_the_first_reportable_day():
    assert report_days(None, MIN_USAGE_DAY, TODAY) == (MIN_USAGE_DAY, MIN_USAGE_DAY)
    assert report_days(None, MIN_USAGE_DAY + 2 * DAY, TODAY)[0] == MIN_USAGE_DAY


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (None, dt.date.min),
        (None, dt.date(1, 1, 1) + DAY),
        (dt.date.max, dt.date.max),
        (None, dt.date.max),
        (MAX_USAGE_DAY, MAX_USAGE_DAY + DAY),
        (MIN_USAGE_DAY - DAY, MIN_USAGE_DAY),
        (dt.date.min, MIN_USAGE_DAY),
    ],
)
def test_days_outside_the_reportable_ones_are_refused(since, until):
    with pytest.raises(BadRequest, match=f"from {MIN_USAGE_DAY} to {MAX_USAGE_DAY}"):
        report_days(since, until, TODAY)


def test_order_and_span_are_checked():
    with pytest.raises(BadRequest, match="before"):
        report_days(TODAY, TODAY - DAY, TODAY)
    with pytest.raises(BadRequest, match=str(MAX_USAGE_DAYS)):
        report_days(TODAY - MAX_USAGE_DAYS * DAY, TODAY, TODAY)
    assert report_days(TODAY - (MAX_USAGE_DAYS - 1) * DAY, TODAY, TODAY)[0] < TODAY


@pytest.mark.parametrize("day", [MIN_USAGE_DAY, MAX_USAGE_DAY])
def test_every_reportable_day_can_be_counted(day):
    (usage,) = daily_usage([], *report_days(day, day, TODAY), now=0.0)
    assert usage.day == day.isoformat() and usage.sessions == 0


def _counted_day_by_day(records, first, last, now):
    """The plain reading of a day's usage, day by day over every session (what daily_usage
    computes faster): a session counts in a day it overlaps or starts in."""
    from relay.admin.usage import _intervals, _midnight, _peak

    intervals = _intervals(records, now)
    days, day = [], first
    while day <= last:
        lo, hi = _midnight(day), _midnight(day + DAY)
        inside = [i for i in intervals if i.start < hi and (i.end > lo or i.start >= lo)]
        started = [i for i in intervals if lo <= i.start < hi and not i.continues_cut_session]
        days.append(
            (
                day.isoformat(),
                len({i.host_id for i in inside}),
                len({i.user for i in inside}),
                len(started),
                _peak(inside, lo, hi),
                round(sum(min(i.end, hi) - max(i.start, lo) for i in inside) / 3600, 3),
            )
        )
        day += DAY
    return days


def test_sessions_are_put_in_their_days_as_a_day_by_day_count_would():
    """Starts and ends at, just before and just after midnights, sessions of no length, ones
    spanning days, from before the first day, still running, and resumed after a restart."""
    import random

    from relay.admin.usage import _midnight
    from relay.restart import RELAY_RESTART
    from relay.store.audit import AuditRecord

    rng = random.Random(7)
    first, last = dt.date(2026, 3, 1), dt.date(2026, 3, 12)
    midnights = [_midnight(first + k * DAY) for k in range(-3, 15)]
    now = midnights[-4] + 100
    records, ids = [], iter(range(1, 10**6))
    for n in range(400):
        start = rng.choice(midnights) + rng.choice([0, 0, -0.5, 0.5, rng.uniform(-9e4, 9e4)])
        length = rng.choice([0, 0.5, 60, rng.uniform(0, 3 * 86400)])
        later = [m for m in midnights if m > start]
        user, host = f"u{rng.randrange(300)}", f"H{rng.randrange(300)}"
        detail = {"session": f"s{n}"}
        if rng.random() < 0.1:
            detail["resumed"] = True
        records.append(AuditRecord(next(ids), start, "session_start", "t", user, host, "", detail))
        if rng.random() < 0.9:
            reason = RELAY_RESTART if rng.random() < 0.3 else "viewer_left"
            end = {"session": f"s{n}", "reason": reason}
            end_ts = rng.choice([start + length, *later[:2]])  # ending at a midnight, too
            records.append(AuditRecord(next(ids), end_ts, "session_end", "t", user, host, "", end))
    fast = [
        (d.day, d.office_pcs, d.staff, d.sessions, d.peak_concurrent, d.hours)
        for d in daily_usage(records, first, last, now)
    ]
    assert fast == _counted_day_by_day(records, first, last, now)
    assert any(row[3] for row in fast) and any(row[4] > 1 for row in fast)
