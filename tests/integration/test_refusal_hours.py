"""An office PC refusing a viewer outside its allowed hours says the hours, through a real relay:
the relay passes on only well-formed spans (at most MAX_HOURS_SPANS, rewritten from their
parsed values, only with OUTSIDE_HOURS), audits them, and the viewer's refusal carries them."""

from __future__ import annotations

import pytest

from core.policy import MAX_HOURS_SPANS, HoursSpan
from core.protocol.control import RefusalReason
from tests.integration.relay_harness import TENANT, USER, login
from transport.client import Decline, RefusedByRelay

WEEKDAYS_830_1800 = HoursSpan("mon", "fri", 8 * 60 + 30, 18 * 60)


async def refused(relay, host_id) -> RefusedByRelay:
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    with pytest.raises(RefusedByRelay) as caught:
        channel, _ = await login(relay, host_id, code)
        channel.close()
    return caught.value


async def test_the_viewer_is_told_the_hours(relay, host):
    host.refuse_with = Decline(
        RefusalReason.OUTSIDE_HOURS, hours=("mon-fri 08:30-18:00", "sat 09:00-12:00")
    )
    refusal = await refused(relay, host.host_id)
    assert refusal.reason == RefusalReason.OUTSIDE_HOURS
    assert refusal.hours == (WEEKDAYS_830_1800, HoursSpan("sat", "sat", 9 * 60, 12 * 60))
    detail = relay.directory.list_audit(event="login_refused")[0].detail
    assert detail == {
        "reason": "outside_hours",
        "hours": ["mon-fri 08:30-18:00", "sat 09:00-12:00"],
    }


@pytest.mark.parametrize(
    "hours",
    [
        ("<b>mon-fri</b> 08:30-18:00",),  # markup
        ("mon-fri 08:30-18:00", "call 0120-000-000"),  # free text beside a good span
        ("mon-fri 08:30-18:00\n",),
        ("fri-mon 08:30-18:00",),  # days backwards
        ("mon 18:00-08:30",),  # ends before it starts
        ("mon 08:30-18:00",) * (MAX_HOURS_SPANS + 1),  # too many
    ],
)
async def test_anything_but_well_formed_spans_tells_no_hours(relay, host, hours):
    host.refuse_with = Decline(RefusalReason.OUTSIDE_HOURS, hours=hours)
    refusal = await refused(relay, host.host_id)
    assert refusal.reason == RefusalReason.OUTSIDE_HOURS and refusal.hours == ()
    assert "hours" not in relay.directory.list_audit(event="login_refused")[0].detail


async def test_hours_go_only_with_an_outside_hours_refusal(relay, host):
    host.refuse_with = Decline(RefusalReason.HOST_PAUSED, hours=("mon-fri 08:30-18:00",))
    refusal = await refused(relay, host.host_id)
    assert refusal.reason == RefusalReason.HOST_PAUSED and refusal.hours == ()
