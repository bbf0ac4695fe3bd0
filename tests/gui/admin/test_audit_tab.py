"""The audit tab as an admin reads it: newest first, local time, events and details in words,
office PCs by name, narrowed at once by event, staff member, PC or text, and a session found by
the tag its watermark shows."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import press, settled, viewer_session, wait_for

from apps.admin.audit_text import event_name, local_time
from apps.admin.texts import tr
from apps.host.session_core import SessionInfo, watermark_text
from core.crypto.certs import format_host_id
from core.policy import Policy
from tests.integration.relay_harness import USER, HostAgent

pytestmark = pytest.mark.usefixtures("japanese")  # the console as staff in Japan see it


def column(table, c: int) -> list[str]:
    return [table.item(r, c).text() for r in range(table.rowCount())]


def watermark_tag(session_id: str) -> str:
    """The tag as the office PC's watermark shows it (the last word of its text)."""
    info = SessionInfo(session_id, USER, "t", "home", "", "2026-04-01T10:00:00")
    text = watermark_text(Policy(watermark=True), info, "PC", dt.datetime.now())
    return text.split()[-1]


def test_the_audit_log_reads_as_words_newest_first_and_a_session_is_found_by_its_tag(
    console, live, qloop
):
    run = qloop.run_until_complete
    relay, audit = live.relay, console.audit
    host = live.run(HostAgent(relay).start())
    try:
        run(console.hosts.refresh())
        run(console.hosts.rename(host.host_id, "税務課 窓口1"))
        run(console.grants.grant(USER, host.host_id))
        run(console.home_pcs.register("02-00-00-00-00-01", "login", USER, "自宅"))
        channel, ok = live.run(viewer_session(relay, host.host_id))
        live.close(channel)
        wait_for(lambda: not relay.server.sessions)
        wait_for(lambda: relay.directory.list_audit(event="session_end"))
    finally:
        live.run(host.stop())
    run(audit.refresh())
    table = audit.table

    times = column(table, 0)
    assert times == sorted(times, reverse=True)  # newest first
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in times)
    events = column(table, 1)
    assert event_name("admin.grant") == "利用許可を追加" and "利用許可を追加" in events
    assert not [e for e in events if re.fullmatch(r"[a-z0-9_.]+", e)]  # no code left as is
    details = column(table, 5)
    assert not [d for d in details if "{" in d or "_s" in d or "bytes" in d]
    pc = f"税務課 窓口1 ({format_host_id(host.host_id)})"
    assert pc in column(table, 3)
    assert "MACアドレス 02:00:00:00:00:01" in " ".join(details)

    # Narrowed at once, by each filter.
    audit.event_kind.setCurrentIndex(audit.event_kind.findData("session_end"))
    assert column(table, 1) == [event_name("session_end")]
    (end_detail,) = column(table, 5)
    assert "利用時間" in end_detail and "理由:" in end_detail and "セッション番号 #" in end_detail
    assert audit.filters()["event"] == "session_end"
    audit.event_kind.setCurrentIndex(0)
    audit.user.setCurrentIndex(audit.user.findData(USER))
    assert set(column(table, 2)) == {USER} and table.rowCount() >= 4
    audit.user.setCurrentIndex(0)
    audit.host.setCurrentIndex(audit.host.findText(pc))
    assert set(column(table, 3)) == {pc}
    audit.host.setCurrentIndex(0)
    audit.text.setText("02:00:00:00:00:01")
    assert column(table, 1) == [event_name("admin.home_pc_add")]
    audit.text.clear()
    everything = table.rowCount()

    # The tag on the watermark finds its session.
    tag = watermark_tag(ok.session_id)
    assert tag.startswith("#") and len(tag) == 9
    audit.tag.setText(tag.upper().replace("#", "# "))
    press(audit, "find_session")
    run(settled(console))
    assert set(column(table, 1)) == {
        event_name("session_start"),
        event_name("session_end"),
    }
    line = audit.session_line.text()
    assert tag in line and USER in line and pc in line
    assert local_time(relay.directory.list_audit(event="session_start")[0].ts) in line
    press(audit, "show_all")
    run(settled(console))
    assert table.rowCount() == everything and audit.session_line.text() == ""

    # A tag that is not one, or of a session outside the days fetched, is told as such.
    audit.tag.setText("#12345")
    press(audit, "find_session")
    run(settled(console))
    assert console.statusBar().currentMessage() == tr("error", message=tr("not_a_session_tag"))
    audit.tag.setText("#00000000")
    press(audit, "find_session")
    run(settled(console))
    assert tr("session_not_found", tag="#00000000") in console.statusBar().currentMessage()
