"""A relay killed mid-session three times, as its audit log shows it: on each start the session
left open gets its session_end (relay_restart), and usage counts one session, not four."""

from __future__ import annotations

import datetime as dt

from relay.admin.usage import daily_usage
from relay.restart import RELAY_RESTART, end_sessions_left_open
from relay.store.directory import Directory

DAY = dt.date(2026, 6, 1)
T0 = dt.datetime.combine(DAY, dt.time(9)).astimezone().timestamp()
WHO = {"tenant": "city", "user": "tanaka", "host_id": "AAAAABBBBBCCCCCDDDDD"}


def test_a_shared_database_leaves_open_sessions_to_the_relays_that_may_hold_them(
    tmp_path, database_url
):
    with Directory.open(tmp_path, database=database_url) as directory:
        directory.audit("session_start", **WHO, detail={"session": "a"}, now=T0)
        ended = end_sessions_left_open(directory, now=T0 + 60)
        assert directory.shared == (database_url is not None)
        assert ended == (0 if directory.shared else 1)


def test_three_kills_leave_one_session_with_its_real_hours(tmp_path):
    with Directory.open(tmp_path) as directory:
        # Each run: a session starts (the viewer resumes the cut one), lives 30 min (a login
        # elsewhere is its last record), then the relay is killed; it restarts 1 s later.
        start = T0
        for run in range(4):
            detail = {"session": f"s{run}"} | ({"resumed": True} if run else {})
            directory.audit("session_start", **WHO, detail=detail, now=start)
            directory.audit("login", tenant="city", user="sato", now=start + 1800)
            if run < 3:  # killed: no session_end
                assert end_sessions_left_open(directory, now=start + 1801) == 1
                start += 1802
        directory.audit(
            "session_end", **WHO, detail={"session": "s3", "reason": "x"}, now=start + 1800
        )
        ends = directory.list_audit(event="session_end")
        assert [e.detail["reason"] for e in ends] == [RELAY_RESTART] * 3 + ["x"]
        assert [e.detail["duration_s"] for e in ends[:3]] == [1800.0] * 3
        assert end_sessions_left_open(directory, now=start + 7200) == 0  # nothing open now
        records = directory.list_audit(limit=1000)
    eight_hours_later = start + 8 * 3600
    (usage,) = daily_usage(records, DAY, DAY, now=eight_hours_later)
    assert (usage.sessions, usage.peak_concurrent, usage.staff) == (1, 1, 1)
    assert usage.hours == 2.0  # 4 × 30 min, not growing with the clock


def test_a_new_session_after_a_restart_is_counted_as_new(tmp_path):
    with Directory.open(tmp_path) as directory:
        directory.audit("session_start", **WHO, detail={"session": "a"}, now=T0)
        end_sessions_left_open(directory, now=T0 + 60)
        directory.audit("session_start", **WHO, detail={"session": "b"}, now=T0 + 120)
        records = directory.list_audit()
    (usage,) = daily_usage(records, DAY, DAY, now=T0 + 180)
    assert usage.sessions == 2  # "b" logged in with an OTP: not a resume


def test_usage_reads_the_records_in_the_order_they_were_written_whatever_it_is_given(tmp_path):
    with Directory.open(tmp_path) as directory:
        directory.audit("session_start", **WHO, detail={"session": "a"}, now=T0)
        end_sessions_left_open(directory, now=T0 + 60)
        directory.audit(
            "session_start", **WHO, detail={"session": "b", "resumed": True}, now=T0 + 61
        )
        directory.audit("session_end", **WHO, detail={"session": "b", "reason": "x"}, now=T0 + 120)
        # As the admin API gathers them: every start, then every end.
        grouped = [
            r for e in ("session_start", "session_end") for r in directory.list_audit(event=e)
        ]
    (usage,) = daily_usage(grouped, DAY, DAY, now=T0 + 180)
    assert usage.sessions == 1  # "b" continues the session the restart cut
