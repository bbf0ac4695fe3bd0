"""When the viewer's resume ticket runs out: counted from the drop, not from the login."""

from __future__ import annotations

import random

from apps.viewer.reconnect import EXPIRY_MARGIN_S, REFUSAL_TICKET_TTL_S, ReconnectPlan

TTL_S = 600.0


def test_the_ticket_time_starts_at_the_last_bytes_heard_not_at_the_login():
    plan = ReconnectPlan.after_login("ticket", TTL_S)
    plan.rng = random.Random(1)
    hours_later = 3 * 3600.0
    assert plan.usable(hours_later)  # the relay keeps it alive while the session runs
    plan.dropped(last_heard=hours_later)
    assert plan.schedule(hours_later + 10) is not None
    assert not plan.usable(hours_later + TTL_S - EXPIRY_MARGIN_S)


def test_a_resumed_session_runs_without_a_deadline_until_its_own_drop():
    plan = ReconnectPlan.after_login("first", TTL_S)
    plan.dropped(last_heard=100.0)
    plan.schedule(101.0)
    plan.renewed("second", TTL_S)
    assert plan.ticket == "second" and plan.attempts == 0
    assert plan.usable(100.0 + 10 * TTL_S)
    plan.dropped(last_heard=5000.0)
    assert plan.usable(5000.0 + TTL_S / 2) and not plan.usable(5000.0 + TTL_S)


def test_a_ticket_from_a_refusal_is_trusted_for_a_while_only():
    plan = ReconnectPlan.after_refusal("ticket", now=50.0)
    assert plan.usable(50.0)
    assert not plan.usable(50.0 + REFUSAL_TICKET_TTL_S)
