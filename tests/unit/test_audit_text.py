"""The audit log in words: events, details, units, and the watermark's session tag."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.admin.audit_text import (
    data_size,
    days_text,
    detail_text,
    duration,
    event_name,
    parse_tag,
    record_tag,
)
from apps.common.i18n import set_language
from apps.common.session_tag import session_tag
from apps.viewer.watermark import watermark_lines


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language(None)


def test_events_in_words_and_an_unknown_one_as_it_is():
    assert event_name("admin.staff_add") == "Staff member added"
    assert event_name("session_end") == "Remote session ended"
    assert event_name("someday.new_event") == "someday.new_event"
    set_language("ja")
    assert event_name("admin.staff_add") == "職員を追加"


def test_durations_sizes_and_days():
    assert duration(5400) == "1 h 30 min" and duration(75) == "1 min 15 s"
    assert duration(0.4) == "0 s"
    assert data_size(999) == "999 B" and data_size(2_500_000) == "2.5 MB"
    assert days_text(["mon", "tue", "wed", "thu", "fri"]) == "Mon–Fri"
    assert days_text(["sat", "mon"]) == "Sat, Mon"


def test_details_read_as_a_sentence_with_units_and_local_times():
    text = detail_text(
        "session_end",
        {
            "bytes_to_host": 1200,
            "bytes_to_viewer": 3_400_000,
            "duration_s": 3725.2,
            "reason": "idle_timeout",
            "session": "abc",
        },
    )
    assert text == (
        f"reason: Disconnected after inactivity, session #{session_tag('abc')}, "
        "lasted 1 h 2 min, screen sent 3.4 MB, input received 1.2 kB"
    )
    expires = dt.datetime(2026, 4, 1, 9, 30).timestamp()
    assert detail_text("admin.enrollment_token", {"admin": "alice", "expires_at": expires}) == (
        "by administrator alice, valid until 2026-04-01 09:30"
    )
    assert detail_text("login_refused", {"reason": "not_granted"}).startswith("reason: ")
    assert "not_granted" not in detail_text("login_refused", {"reason": "not_granted"})
    assert detail_text("admin.bandwidth_limits", {"alert_bps": 2_000_000, "cap_bps": None}) == (
        "alert threshold 2,000 kbit/s"
    )
    assert detail_text("admin.staff_names", {"admin": "alice", "fields": ["full_name"]}) == (
        "by administrator alice, changed: full name"
    )
    assert event_name("otp_used") == "One-time password used"
    assert detail_text("otp_used", {"otp": "code"}) == "a single-use code"
    assert detail_text("otp_used", {"otp": "totp"}) == "from the authenticator app"
    # What this console does not know, or in a shape it does not expect, is shown as it is.
    assert detail_text("x", {"colour": "blue", "duration_s": "long"}) == (
        "duration_s: long, colour: blue"
    )


def test_the_tag_is_the_watermarks_and_is_read_however_it_is_typed():
    tag = f"#{session_tag('session-1')}"
    (_, second) = watermark_lines("Confidential", dt.datetime.now(), "tanaka", "PC", "session-1")
    assert second.endswith(tag)
    assert record_tag({"detail": {"session": "session-1"}}) == tag
    assert record_tag({"detail": {}}) == ""
    assert parse_tag(tag.upper()) == tag and parse_tag(" # " + tag[1:5] + " " + tag[5:]) == tag
    assert parse_tag("#12345") is None and parse_tag("#1234567g") is None


def test_home_pc_check_details_and_policy_in_words():
    refused = {
        "reason": "home_pc_check_failed",
        "checks": ["firewall", "antivirus"],
        "home_check": {
            "viewer_version": "0.1.0",
            "os_name": "Debian GNU/Linux 12",
            "updates_age_days": 3,
            "antivirus": "not_available",
            "firewall": "fail",
            "disk_encryption": "pass",
            "os_supported": "pass",
        },
    }
    text = detail_text("login_refused", refused)
    assert "not met: Firewall, Antivirus" in text
    assert "home PC: Debian GNU/Linux 12, version 0.1.0, OS updates 3 days ago" in text
    assert "Antivirus unknown, Firewall not met, Disk encryption OK" in text
    policy = {"home_checks": ["os_updates"], "min_viewer_version": "1.2", "deny_unchecked": True}
    assert detail_text("admin.policy_set", {"policy": policy}) == (
        "home-PC checks: OS updates, viewer 1.2 or later, unchecked home PCs refused"
    )
    set_language("ja")
    assert "不適合: ファイアウォール" in detail_text("login_refused", refused)


def test_letting_an_office_pc_wake_others_in_words():
    record = {"admin": "alice", "can_wake": True}
    assert event_name("admin.host_can_wake") == "Office PC's permission to wake others changed"
    assert detail_text("admin.host_can_wake", record) == (
        "by administrator alice, may wake other office PCs"
    )
    assert detail_text("admin.host_can_wake", {"can_wake": False}) == (
        "may not wake other office PCs"
    )
    set_language("ja")
    assert event_name("admin.host_can_wake") == "職場PCによる他のPCの起動の許可を変更"
    assert detail_text("admin.host_can_wake", {"can_wake": False}).endswith("許可しない")


def test_a_tenant_lockout_in_a_policy_change_in_words():
    policy = {"watermark": True, "lockout_failures": 3, "lockout_minutes": 60}
    assert detail_text("admin.policy_set", {"policy": policy}) == (
        "watermark, locks after 3 failures, locked for 60 min"
    )
    set_language("ja")
    assert detail_text("admin.policy_set", {"policy": {"lockout_minutes": 30}}) == "ロック 30分"


def test_central_registration_in_words():
    assert event_name("admin.signing_key_set") == "Municipality's signing key set"
    assert detail_text(
        "admin.signing_key_set", {"admin": "alice", "fingerprint": "ab" * 32, "replaced": False}
    ) == ("by administrator alice, fingerprint abababababababab, the first key")
    detail = {"serial": 1700000000000, "devices": ["ABCDEFGHIJKLMNOPQRST"]}
    assert detail_text("admin.device_list_set", detail) == (
        "list 1700000000000, home-PC codes: ABCDE-FGHIJ-KLMNO-PQRST"
    )
    assert detail_text("admin.device_list_set", {"devices": []}) == "no home-PC codes"
    set_language("ja")
    assert event_name("admin.device_list_set") == "自宅PCを一括登録"
