"""Host decisions with injected clocks: MAC list, accept/refuse, limits, shutdown, back-off."""

from __future__ import annotations

import datetime as dt
import stat

import pytest

from apps.host.mac_list import MacList
from core.homecheck.report import HomeReport, Status
from core.hostpolicy.backoff import Backoff
from core.hostpolicy.decision import decide
from core.hostpolicy.limits import (
    EndReason,
    IdleWarningDue,
    SessionLimits,
    ShutdownDue,
    ShutdownPlanner,
    ShutdownWarningDue,
)
from core.hostpolicy.macs import RegisteredMac, registered_on_both
from core.policy import Policy, PolicyError
from core.protocol.control import RefusalReason

MONDAY_10 = dt.datetime(2024, 4, 1, 10, 0)  # a Monday
HOME = "AA:BB:CC:DD:EE:01"
HOME_PC = RegisteredMac(HOME)


def test_mac_list_normalises_labels_and_is_private(tmp_path):
    macs = MacList(tmp_path)
    assert macs.load() == []
    macs.allow("aa-bb-cc-dd-ee-01", "自宅PC")
    macs.allow("AABBCCDDEE02")
    macs.allow("aa:bb:cc:dd:ee:01", "Tanaka home")  # re-register: label updated, no duplicate
    assert macs.load() == [RegisteredMac("AA:BB:CC:DD:EE:02"), RegisteredMac(HOME, "Tanaka home")]
    assert stat.S_IMODE(macs.path.stat().st_mode) == 0o600
    assert macs.match(["bogus", "aa-bb-cc-dd-ee-02"]) == RegisteredMac("AA:BB:CC:DD:EE:02")
    assert macs.match(["02:00:00:00:00:09"]) is None
    assert macs.deny("AA-BB-CC-DD-EE-02") and not macs.deny("AA-BB-CC-DD-EE-02")
    with pytest.raises(PolicyError):
        macs.allow("not a mac")


def verdict(
    policy=None,
    *,
    registered=HOME_PC,
    paused=False,
    busy=False,
    take_over=False,
    now=MONDAY_10,
    device_registered=True,
    home_report=None,
):
    return decide(
        device_registered=device_registered,
        registered=registered,
        policy=policy or Policy(),
        paused=paused,
        busy=busy,
        allow_take_over=take_over,
        now=now,
        home_report=home_report,
    )


def test_the_local_and_the_central_list_must_hold_the_same_reported_mac():
    """A viewer reporting one MAC the office PC registered and another the admin registered
    passes neither check: each list must hold the same address."""
    local_only, central_only = "AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"
    office_pc_list = [RegisteredMac(local_only)]
    central = Policy.from_dict({"allowed_macs": [central_only]})
    reported = [local_only, central_only]
    registered = registered_on_both(office_pc_list, central, reported)
    assert registered is None
    assert verdict(central, registered=registered).refusal is RefusalReason.MAC_NOT_REGISTERED
    both = Policy.from_dict({"allowed_macs": [central_only, local_only]})
    assert registered_on_both(office_pc_list, both, reported) == office_pc_list[0]
    assert registered_on_both(office_pc_list, Policy(), reported) == office_pc_list[0]
    emptied = Policy.from_dict({"allowed_macs": []})  # a central list whose entries all went
    assert registered_on_both(office_pc_list, emptied, reported) is None
    assert verdict(emptied).refusal is RefusalReason.MAC_NOT_REGISTERED


def test_decision_rules_in_order():
    assert verdict().refusal is None and verdict().device == RegisteredMac(HOME)
    assert verdict(paused=True, registered=None).refusal is RefusalReason.HOST_PAUSED
    unknown_key = verdict(device_registered=False, registered=None)
    assert unknown_key.refusal is RefusalReason.DEVICE_NOT_REGISTERED  # before the MAC
    assert verdict(registered=None).refusal is RefusalReason.MAC_NOT_REGISTERED
    central = Policy.from_dict({"allowed_macs": ["AA:BB:CC:DD:EE:99"]})
    assert verdict(central).refusal is RefusalReason.MAC_NOT_REGISTERED
    both = Policy.from_dict({"allowed_macs": [HOME]})
    assert verdict(both).refusal is None
    hours = Policy.from_dict({"allowed_hours": {"days": ["mon"], "start": "08:30", "end": "17:15"}})
    assert verdict(hours).refusal is None
    assert verdict(hours, now=MONDAY_10.replace(hour=18)).refusal is RefusalReason.OUTSIDE_HOURS
    assert (
        verdict(hours, now=MONDAY_10 + dt.timedelta(days=1)).refusal is RefusalReason.OUTSIDE_HOURS
    )
    assert verdict(busy=True).refusal is RefusalReason.HOST_BUSY
    taken = verdict(busy=True, take_over=True)
    assert taken.refusal is None and taken.take_over


def test_idle_timeout_warns_once_then_ends():
    limits = SessionLimits(Policy(idle_timeout_s=300), started=1000.0)
    assert limits.check(1200.0, MONDAY_10) is None
    assert limits.check(1245.0, MONDAY_10) == IdleWarningDue(55)
    assert limits.check(1246.0, MONDAY_10) is None
    limits.on_input(1250.0)  # activity resets the timer
    assert limits.check(1480.0, MONDAY_10) is None
    assert limits.check(1495.0, MONDAY_10) == IdleWarningDue(55)
    assert limits.check(1550.0, MONDAY_10) is EndReason.IDLE_TIMEOUT


def test_max_session_and_hours_end_a_session():
    limits = SessionLimits(Policy(max_session_s=3600), started=0.0)
    assert limits.check(3599.0, MONDAY_10) is None
    assert limits.check(3600.0, MONDAY_10) is EndReason.MAX_SESSION
    hours = Policy.from_dict({"allowed_hours": {"start": "08:00", "end": "10:00"}})
    assert SessionLimits(hours, 0.0).check(1.0, MONDAY_10) is EndReason.OUTSIDE_HOURS


def test_shutdown_warns_each_minute_then_fires_once_a_day():
    policy = Policy.from_dict({"shutdown_at": "18:00", "shutdown_warning_min": 3})
    planner = ShutdownPlanner(policy, MONDAY_10)
    assert planner.check(MONDAY_10.replace(hour=17, minute=56)) is None
    assert planner.check(MONDAY_10.replace(hour=17, minute=57)) == ShutdownWarningDue("18:00", 3)
    assert planner.check(MONDAY_10.replace(hour=17, minute=57, second=30)) is None
    assert planner.check(MONDAY_10.replace(hour=17, minute=58, second=30)) == ShutdownWarningDue(
        "18:00", 2
    )
    assert planner.check(MONDAY_10.replace(hour=18)) == ShutdownDue("18:00")
    assert planner.check(MONDAY_10.replace(hour=18, minute=1)) is None
    assert planner.target == dt.datetime(2024, 4, 2, 18, 0)


def test_shutdown_time_already_past_at_start_means_tomorrow():
    policy = Policy.from_dict({"shutdown_at": "09:00"})
    planner = ShutdownPlanner(policy, MONDAY_10)
    assert planner.check(MONDAY_10) is None
    assert planner.target == dt.datetime(2024, 4, 2, 9, 0)
    assert ShutdownPlanner(Policy(), MONDAY_10).check(MONDAY_10) is None
    planner.replace_policy(Policy.from_dict({"shutdown_at": "10:30"}), MONDAY_10)
    assert planner.target == MONDAY_10.replace(minute=30)


def test_backoff_grows_is_randomised_and_capped():
    low, high = Backoff(rand=lambda: 0.0), Backoff(rand=lambda: 0.999999)
    lows = [low.next_delay() for _ in range(12)]
    highs = [high.next_delay() for _ in range(12)]
    assert lows[:3] == [0.5, 0.75, 1.125]  # steps grow by half: back soon after a restart
    assert max(highs) <= 30.0 and highs[-1] == pytest.approx(30.0)
    assert lows[-1] == 15.0  # at the cap, hosts still spread over 15..30 s
    low.reset()
    assert low.next_delay() == 0.5


def test_the_first_retry_after_a_drop_is_spread_from_zero():
    first = [
        Backoff(rand=lambda r=r: r, first_spread_steps=3.0).next_delay() for r in (0.0, 0.5, 0.999)
    ]
    assert first == [0.0, 1.5, pytest.approx(2.997)]  # 0..3 first steps: 2,000 PCs over 3 s
    spread = Backoff(rand=lambda: 0.0, first_spread_steps=3.0)
    spread.next_delay()
    assert spread.next_delay() == 0.75  # then the growing steps as before


def test_the_office_pcs_own_policy_may_require_home_pc_checks():
    """The relay checked the tenant's policy; the office PC judges the same report by the
    policy it obeys (its own made stricter by the pushed one), after the home PC's key and MAC
    and before the hours."""
    good = HomeReport("0.1.0", "Debian GNU/Linux 12", 2, *(Status.PASS,) * 4)
    no_av = HomeReport("0.1.0", "Debian", 2, Status.NOT_AVAILABLE, *(Status.PASS,) * 3)
    policy = Policy(home_checks=frozenset({"antivirus", "firewall"}))
    assert verdict(policy, home_report=good).refusal is None
    refused = verdict(policy, home_report=no_av)
    assert refused.refusal is RefusalReason.HOME_PC_CHECK_FAILED
    assert refused.checks == ("antivirus",)
    assert verdict(policy).refusal is RefusalReason.HOME_PC_UNCHECKED
    too_old = verdict(Policy(min_viewer_version="0.2"), home_report=good)
    assert too_old.refusal is RefusalReason.VIEWER_TOO_OLD
    # A home PC that is not registered hears that first, whatever its check says.
    assert verdict(policy, device_registered=False).refusal is (RefusalReason.DEVICE_NOT_REGISTERED)
