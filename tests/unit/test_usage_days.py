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
