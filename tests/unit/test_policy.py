import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.auth.lockout import (
    MAX_TENANT_LOCK_MINUTES,
    MAX_TENANT_LOCKOUT_FAILURES,
    MAX_USER_GUESSES_PER_HOUR,
    MIN_TENANT_LOCK_MINUTES,
    MIN_TENANT_LOCKOUT_FAILURES,
    USER_LOCK_S,
    USER_MAX_FAILURES,
    USER_WINDOW_S,
    user_window_s,
)
from core.homecheck.report import parse_version
from core.policy import MIN_IDLE_TIMEOUT_S, AllowedHours, Policy, PolicyError, normalise_mac

MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0)
SUNDAY_9 = dt.datetime(2026, 11, 29, 9, 0)


@pytest.mark.parametrize(
    "text", ["aa:bb:cc:dd:ee:ff", "AA-BB-CC-DD-EE-FF", "aabbccddeeff", " Aa:bB:cc:dd:ee:ff "]
)
def test_mac_forms_normalise(text):
    assert normalise_mac(text) == "AA:BB:CC:DD:EE:FF"


@pytest.mark.parametrize(
    "text", ["", "aa:bb:cc:dd:ee", "aa:bb-cc:dd:ee:ff", "gg:bb:cc:dd:ee:ff", 5, None]
)
def test_bad_macs_refused(text):
    with pytest.raises(PolicyError):
        normalise_mac(text)


def test_round_trip_and_questions():
    policy = Policy.from_dict(
        {
            "allowed_hours": {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "start": "08:00",
                "end": "20:00",
            },
            "shutdown_at": "22:00",
            "idle_timeout_s": 600,
            "max_session_s": 36000,
            "watermark": True,
            "allowed_macs": ["aa-bb-cc-dd-ee-ff"],
        }
    )
    assert Policy.from_dict(policy.to_dict()) == policy
    assert policy.allows_time(MONDAY_9) and not policy.allows_time(SUNDAY_9)
    assert not policy.allows_time(MONDAY_9.replace(hour=20))
    assert policy.allows_mac(["02:00:00:00:00:01", "aa:bb:cc:dd:ee:ff"])
    assert not policy.allows_mac(["02:00:00:00:00:01", "garbage"])
    assert Policy().allows_mac([]) and Policy().allows_time(SUNDAY_9)


@pytest.mark.parametrize(
    "data, words",
    [
        ({"idle_timeout_s": MIN_IDLE_TIMEOUT_S - 1}, "idle_timeout_s"),
        ({"idle_timeout_s": True}, "idle_timeout_s"),
        ({"shutdown_at": "25:00"}, "shutdown_at"),
        ({"allowed_hours": {"start": "20:00", "end": "08:00"}}, "before"),
        ({"allowed_hours": {"days": ["someday"]}}, "days"),
        ({"watermark": "yes"}, "watermark"),
        ({"watermark_text": "x" * 65}, "watermark_text"),
        ({"watermark_text": "two\nlines"}, "watermark_text"),
        ({"watermark_text": 7}, "watermark_text"),
        ({"watermark_burned": "yes"}, "watermark_burned must be true or false"),
        ({"watermark_burned": 1}, "watermark_burned must be true or false"),
        ({"allowed_macs": ["zz"]}, "MAC"),
        ({"allowed_macs": "aa:bb:cc:dd:ee:ff"}, "allowed_macs"),
        ({"clipboard": True}, "unknown"),
        ({"home_checks": ["firewall", "viewer_version"]}, "home_checks"),
        ({"home_checks": "firewall"}, "home_checks"),
        ({"update_max_age_days": 0}, "update_max_age_days"),
        ({"update_max_age_days": 366}, "update_max_age_days"),
        ({"min_viewer_version": "latest"}, "min_viewer_version"),
        ({"min_viewer_version": 1}, "min_viewer_version"),
        ({"deny_unchecked": 1}, "deny_unchecked"),
        ({"login_message": "x" * 201}, "login_message"),
        ({"login_message": "bell\a"}, "login_message"),
        ({"lockout_failures": 2}, "lockout_failures must be a whole number from 3 to 10"),
        ({"lockout_failures": 11}, "lockout_failures must be a whole number from 3 to 10"),
        ({"lockout_failures": "5"}, "lockout_failures"),
        ({"lockout_failures": True}, "lockout_failures"),
        ({"lockout_minutes": 9}, "lockout_minutes must be a whole number from 10 to 1440"),
        ({"lockout_minutes": 1441}, "lockout_minutes must be a whole number from 10 to 1440"),
        ({"lockout_minutes": 15.5}, "lockout_minutes"),
        # More tries an hour than the defaults (5 per 15 minutes) give a guesser:
        ({"lockout_failures": 10}, "lockout_minutes must be at least 30 when 10 wrong"),
        ({"lockout_failures": 6, "lockout_minutes": 17}, "at least 18 when 6 wrong"),
        ({"lockout_minutes": 14}, "at least 15 when 5 wrong"),
        ([], "object"),
    ],
)
def test_bad_policies_refused_with_a_reason(data, words):
    with pytest.raises(PolicyError, match=words):
        Policy.from_dict(data)


def test_stricter_takes_the_tighter_of_each():
    local = Policy(
        idle_timeout_s=1800, allowed_hours=AllowedHours(start_min=7 * 60, end_min=22 * 60)
    )
    pushed = Policy.from_dict(
        {
            "idle_timeout_s": 600,
            "shutdown_at": "21:00",
            "view_only": True,
            "allowed_hours": {"start": "08:00", "end": "23:00"},
        }
    )
    both = local.stricter(pushed)
    assert both.idle_timeout_s == 600 and both.shutdown_at_min == 21 * 60 and both.view_only
    assert (both.allowed_hours.start_min, both.allowed_hours.end_min) == (8 * 60, 22 * 60)


policies = st.builds(
    Policy,
    idle_timeout_s=st.none() | st.integers(300, 86400),
    max_session_s=st.none() | st.integers(60, 86400),
    shutdown_at_min=st.none() | st.integers(0, 1439),
    watermark=st.booleans(),
    watermark_burned=st.booleans(),
    view_only=st.booleans(),
    allowed_macs=st.none()
    | st.frozensets(st.sampled_from(["AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"])),
    home_checks=st.frozensets(st.sampled_from(["os_updates", "firewall", "antivirus"])),
    update_max_age_days=st.none() | st.integers(1, 365),
    min_viewer_version=st.none() | st.sampled_from(["0.1", "1.0", "1.2.3", "2"]),
    deny_unchecked=st.booleans(),
    lockout_failures=st.none() | st.integers(3, 10),
    lockout_minutes=st.none() | st.integers(10, 1440),
)


@given(policies, policies)
def test_a_pushed_policy_never_loosens(local, pushed):
    both = local.stricter(pushed)
    for mine in (local, pushed):
        if mine.idle_timeout_s is not None:
            assert both.idle_timeout_s <= mine.idle_timeout_s
        if mine.max_session_s is not None:
            assert both.max_session_s <= mine.max_session_s
        if mine.allowed_macs is not None:
            assert both.allowed_macs <= mine.allowed_macs
        assert both.watermark >= mine.watermark and both.view_only >= mine.view_only
        assert both.watermark_burned >= mine.watermark_burned
        assert both.home_checks >= mine.home_checks and both.deny_unchecked >= mine.deny_unchecked
        if mine.update_max_age_days is not None:
            assert both.update_max_age_days <= mine.update_max_age_days
        if mine.min_viewer_version is not None:
            assert parse_version(both.min_viewer_version) >= parse_version(mine.min_viewer_version)
        assert both.lockout_limits[0] <= mine.lockout_limits[0]  # an unset one: the default
        assert both.lockout_limits[1] >= mine.lockout_limits[1]


def test_the_watermark_words_are_trimmed_kept_and_the_particular_sources_win():
    tenant = Policy.from_dict({"watermark": True, "watermark_text": "  〇〇市 持出禁止 "})
    assert tenant.watermark_text == "〇〇市 持出禁止"
    assert Policy.from_dict(tenant.to_dict()) == tenant
    assert Policy.from_dict({"watermark_text": "  "}).watermark_text is None
    host = Policy(watermark_text="税務課")
    assert tenant.stricter(host).watermark_text == "税務課"
    assert tenant.stricter(Policy()).watermark_text == "〇〇市 持出禁止"


def test_home_pc_keys_round_trip_and_stay_out_of_a_policy_without_them():
    data = {
        "home_checks": ["firewall", "os_updates"],
        "update_max_age_days": 14,
        "min_viewer_version": " 1.2.0 ",
        "deny_unchecked": True,
        "login_message": "  本日17時から保守のため接続できません。\r\nヘルプデスク: 内線1234  ",
    }
    policy = Policy.from_dict(data)
    assert policy.home_checks == {"firewall", "os_updates"} and policy.asks_home_check
    assert policy.min_viewer_version == "1.2.0"
    assert policy.login_message == "本日17時から保守のため接続できません。\nヘルプデスク: 内線1234"
    assert Policy.from_dict(policy.to_dict()) == policy
    assert policy.to_dict()["home_checks"] == ["os_updates", "firewall"]  # in the checks' order
    # An office PC's agent older than these keys refuses a policy with keys it does not know.
    assert set(Policy(watermark=True).to_dict()) == {
        "watermark",
        "view_only",
        "shutdown_warning_min",
    }
    assert not Policy().asks_home_check
    assert "login_message" not in policy.for_office_pc().to_dict()


def test_a_burned_watermark_is_parsed_combined_and_sent_only_when_set():
    policy = Policy.from_dict({"watermark_burned": True, "watermark_text": "〇〇市"})
    assert policy.watermark_burned and policy.shows_watermark and not policy.watermark
    assert Policy.from_dict(policy.to_dict()) == policy
    assert policy.for_office_pc().to_dict()["watermark_burned"] is True
    # An office PC's agent older than the key refuses a policy with keys it does not know.
    assert "watermark_burned" not in Policy(watermark=True).to_dict()
    assert "watermark_burned" not in Policy.from_dict({"watermark_burned": False}).to_dict()
    # Stricter wins, either way round: a tenant's burned watermark binds every office PC.
    assert Policy(watermark=True).stricter(policy).watermark_burned
    assert policy.stricter(Policy(watermark=True)).watermark_burned
    assert not Policy().shows_watermark and Policy(watermark=True).shows_watermark


def test_home_pc_keys_combine_to_the_stricter():
    tenant = Policy(min_viewer_version="1.10", home_checks=frozenset({"firewall"}))
    host = Policy(min_viewer_version="1.9.5", update_max_age_days=7, login_message="host")
    both = tenant.stricter(host)
    assert both.min_viewer_version == "1.10"  # numerically higher, not as text
    assert both.home_checks == {"firewall"} and both.update_max_age_days == 7
    assert both.update_age_limit_days == 7 and tenant.update_age_limit_days == 30
    assert both.login_message == "host"


def test_the_lockout_keys_round_trip_and_stay_with_the_relay():
    policy = Policy.from_dict({"lockout_failures": 3, "lockout_minutes": 60, "watermark": True})
    assert (policy.lockout_failures, policy.lockout_minutes) == (3, 60)
    assert policy.lockout_limits == (3, 3600.0)
    assert Policy.from_dict(policy.to_dict()) == policy
    # Not sent to office PCs (an older agent refuses keys it does not know), and an office PC's
    # own policy may not set them: the lockout counts an account's failures on all its PCs.
    assert set(policy.for_office_pc().to_dict()) == {
        "watermark",
        "view_only",
        "shutdown_warning_min",
    }
    assert policy.tenant_only_keys() == ["lockout_failures", "lockout_minutes"]
    assert Policy(login_message="hi").tenant_only_keys() == ["login_message"]
    assert Policy(watermark=True).tenant_only_keys() == []


@pytest.mark.parametrize(
    ("data", "limits"),
    [
        ({}, (USER_MAX_FAILURES, USER_LOCK_S)),
        ({"lockout_failures": 3}, (3, USER_LOCK_S)),
        ({"lockout_minutes": 24 * 60}, (USER_MAX_FAILURES, 86400.0)),
        ({"lockout_failures": 10, "lockout_minutes": 30}, (10, 1800.0)),
        ({"lockout_failures": 3, "lockout_minutes": 10}, (3, 600.0)),
    ],
)
def test_the_lockout_limits_are_the_tenants_or_the_defaults(data, limits):
    assert Policy.from_dict(data).lockout_limits == limits


def test_no_lockout_a_tenant_may_set_gives_a_guesser_more_tries_than_the_defaults():
    for failures in range(MIN_TENANT_LOCKOUT_FAILURES, MAX_TENANT_LOCKOUT_FAILURES + 1):
        for minutes in range(MIN_TENANT_LOCK_MINUTES, MAX_TENANT_LOCK_MINUTES + 1):
            data = {"lockout_failures": failures, "lockout_minutes": minutes}
            try:
                max_failures, lock_s = Policy.from_dict(data).lockout_limits
            except PolicyError:
                continue
            # Locking: max_failures per lock; staying under the count: max_failures - 1 per
            # window. Either way no more an hour than the defaults allow.
            assert max_failures * 3600 / lock_s <= MAX_USER_GUESSES_PER_HOUR
            window_s = user_window_s(max_failures)
            assert (max_failures - 1) * 3600 / window_s <= MAX_USER_GUESSES_PER_HOUR
    assert USER_MAX_FAILURES * 3600 / USER_LOCK_S == MAX_USER_GUESSES_PER_HOUR  # the defaults'
    assert user_window_s(USER_MAX_FAILURES) == USER_WINDOW_S


def test_the_lockout_combines_to_the_stricter():
    tenant = Policy(lockout_failures=6, lockout_minutes=20)
    other = Policy(lockout_failures=4, lockout_minutes=15)
    both = tenant.stricter(other)
    assert (both.lockout_failures, both.lockout_minutes) == (4, 20)
    assert tenant.stricter(Policy()).lockout_limits == (5, 1200.0)  # unset: the default, 5
    assert Policy().stricter(Policy()).lockout_failures is None
