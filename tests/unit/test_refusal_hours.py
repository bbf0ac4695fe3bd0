"""The allowed hours an OUTSIDE_HOURS refusal carries: core turns a policy's hours into spans
of consecutive days (``mon-fri 08:30-18:00``) and reads them back strictly; the viewer puts
them in Japanese and English words."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.viewer.texts import Texts
from core.hostpolicy.decision import decide
from core.hostpolicy.macs import RegisteredMac
from core.policy import (
    MAX_HOURS_SPANS,
    WEEKDAYS,
    AllowedHours,
    HoursSpan,
    Policy,
    hours_from_wire,
    hours_to_wire,
)
from core.protocol.control import RefusalReason

OFFICE_HOURS = AllowedHours(frozenset(WEEKDAYS[:5]), 8 * 60 + 30, 18 * 60)


def spans(*items: str) -> tuple[HoursSpan, ...]:
    return hours_from_wire(list(items))


def test_a_policys_hours_as_runs_of_days():
    assert hours_to_wire(OFFICE_HOURS) == ["mon-fri 08:30-18:00"]
    gaps = AllowedHours(frozenset({"mon", "wed", "thu", "sun"}), 0, 24 * 60)
    assert hours_to_wire(gaps) == ["mon 00:00-24:00", "wed-thu 00:00-24:00", "sun 00:00-24:00"]
    assert hours_to_wire(None) == []
    # Intersected hours that allow no time at all have nothing to tell.
    assert hours_to_wire(OFFICE_HOURS.intersect(AllowedHours(start_min=19 * 60))) == []
    assert hours_to_wire(AllowedHours(frozenset(), 0, 60)) == []


def test_every_set_of_days_fits_the_bound_and_reads_back():
    for mask in range(1, 2**7):
        days = frozenset(d for i, d in enumerate(WEEKDAYS) if mask >> i & 1)
        wire = hours_to_wire(AllowedHours(days, 9 * 60, 17 * 60))
        assert 1 <= len(wire) <= MAX_HOURS_SPANS
        read = hours_from_wire(wire)
        assert {d for span in read for d in span.days} == days
        assert [span.to_wire() for span in read] == wire


@pytest.mark.parametrize(
    "items",
    [
        ["mon-fri 8:30-18:00"],
        ["mon-fri 08:30-18:00 "],
        ["mon-fri 08:30-18:00\n"],
        ["Mon-Fri 08:30-18:00"],
        ["fri-mon 08:30-18:00"],
        ["mon 18:00-08:30"],
        ["mon 24:00-24:00"],
        ["mon 08:30-24:30"],
        ["<b>mon</b> 08:30-18:00"],
        ["mon 08:30-18:00", 5],
        ["mon 08:30-18:00"] * (MAX_HOURS_SPANS + 1),
        "mon 08:30-18:00",
        None,
    ],
)
def test_anything_else_reads_as_no_hours(items):
    assert hours_from_wire(items) == ()


def test_the_decision_outside_hours_carries_them():
    policy = Policy(allowed_hours=OFFICE_HOURS)
    verdict = decide(
        device_registered=True,
        registered=RegisteredMac("02:00:00:00:00:01", "home"),
        policy=policy,
        paused=False,
        busy=False,
        allow_take_over=False,
        now=dt.datetime(2024, 4, 1, 22, 30),  # a Monday evening
    )
    assert verdict.refusal is RefusalReason.OUTSIDE_HOURS
    assert verdict.hours == ("mon-fri 08:30-18:00",)


@pytest.mark.parametrize(
    ("language", "items", "words"),
    [
        ("ja", ["mon-fri 08:30-18:00"], "平日 8:30〜18:00"),
        ("en", ["mon-fri 08:30-18:00"], "weekdays 8:30–18:00"),
        ("ja", ["mon-sun 00:00-24:00"], "毎日 0:00〜24:00"),
        ("en", ["sat-sun 09:00-12:00"], "weekends 9:00–12:00"),
        ("ja", ["mon-wed 09:00-17:00"], "月曜〜水曜 9:00〜17:00"),
        ("en", ["mon 09:00-17:00", "thu-fri 09:00-17:00"], "Mon, Thu–Fri 9:00–17:00"),
        ("ja", ["mon 09:00-17:00", "thu-fri 09:00-17:00"], "月曜・木曜〜金曜 9:00〜17:00"),
        ("ja", ["mon-fri 08:30-18:00", "sat 09:00-12:00"], "平日 8:30〜18:00、土曜 9:00〜12:00"),
        ("en", ["mon-fri 08:30-18:00", "sat 09:00-12:00"], "weekdays 8:30–18:00; Sat 9:00–12:00"),
        ("en", [], ""),
    ],
)
def test_the_viewer_says_the_hours(language, items, words):
    assert Texts(language).hours(spans(*items)) == words


def test_the_sentence_in_both_languages():
    hours = spans("mon-fri 08:30-18:00")
    ja, en = Texts("ja"), Texts("en")
    assert ja("refused_outside_hours_are", hours=ja.hours(hours)).startswith(
        "接続できる時間は 平日 8:30〜18:00 です"
    )
    assert en("refused_outside_hours_are", hours=en.hours(hours)).startswith(
        "Connections are allowed weekdays 8:30–18:00"
    )
