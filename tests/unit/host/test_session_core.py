"""The host session's pure core: exact viewer bytes in, exact events and bytes out."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from apps.host.session_core import (
    TLS_OVERHEAD_BYTES,
    EndSession,
    HostSessionCore,
    Input,
    KeyframeRequested,
    MonitorChosen,
    SessionInfo,
    ViewerReported,
)
from core.errors import ProtocolError
from core.input.pointer import ScreenMap
from core.media.cursor import CursorPosition
from core.media.encoder import VideoPacket
from core.media.rate import ReceiverReport
from core.policy import Policy
from core.protocol.notices import (
    HostScreens,
    IdleWarning,
    Monitor,
    SessionPolicy,
    ViewerChoice,
    parse_host_screens,
    parse_notice,
)
from core.protocol.session import (
    Close,
    Cursor,
    Feedback,
    Key,
    KeyframeRequest,
    Pointer,
    Role,
    ScreenInfo,
    SessionChannel,
    Video,
)

TOP = ScreenMap(0, 0, 1920, 1080, 1920, 1080)
BOTTOM = ScreenMap(0, 1080, 1920, 1080, 1920, 1080)
MONITORS = (Monitor(0, 0, 0, 1920, 1080), Monitor(1, 0, 1080, 1920, 1080))
WALL = dt.datetime(2026, 4, 1, 10, 30)
VIEWER = SessionChannel(Role.VIEWER)


def started(policy: Policy | None = None) -> HostSessionCore:
    info = SessionInfo("session-1", "tanaka", "example-city", "home", "", "10:00")
    core = HostSessionCore(info, policy or Policy(), "PC-01", now=100.0)
    core.start(MONITORS, 1, TOP)
    return core


def from_viewer(*messages) -> bytes:
    return b"".join(VIEWER.send(m) for m in messages)


def to_viewer(data: bytes):
    return SessionChannel(Role.VIEWER).receive_data(data)


def packet(index: int) -> VideoPacket:
    return VideoPacket(b"\x00\x00\x01", index, 5_000, index == 0, 1920, 1080)


def test_input_reports_and_keyframe_requests_become_events_in_order():
    core = started()
    key, pointer = Key(True, 0x61, 30, 0, "a"), Pointer(10, 20)
    data = from_viewer(key, pointer, Feedback(0, 1234, 5, 60), KeyframeRequest(0))
    assert list(core.receive_data(data)) == [
        Input(key),
        Input(pointer),
        ViewerReported(ReceiverReport(1234, 0, False), None),
        KeyframeRequested(),
    ]


def test_the_viewers_close_ends_the_session_and_nothing_after_it_counts():
    core = started()
    data = from_viewer(Pointer(1, 1), Close("viewer_quit"), Pointer(2, 2))
    assert list(core.receive_data(data)) == [
        Input(Pointer(1, 1)),
        EndSession("viewer_quit"),
    ]


def test_a_monitor_choice_counts_only_for_another_existing_monitor():
    core = started()
    choose = [from_viewer(ViewerChoice(n).message()) for n in range(3)]
    assert list(core.receive_data(choose[0])) == []  # already shown
    assert list(core.receive_data(choose[2])) == []  # there is no third
    assert list(core.receive_data(choose[1])) == [MonitorChosen(2)]
    core.monitor_shown(2)
    assert list(core.receive_data(choose[1])) == []
    screens = parse_host_screens(to_viewer(core.encode(core.screens_message(), 0.0).data)[0])
    assert screens == HostScreens("PC-01", MONITORS, 1)


def test_a_garbled_choice_is_the_viewers_fault():
    with pytest.raises(ProtocolError):
        list(started().receive_data(from_viewer(ScreenInfo({"economy": False}))))


def test_input_follows_a_new_geometry_once_the_viewer_has_its_first_frame():
    core = started()
    core.video_message(packet(0), TOP)
    core.video_message(packet(1), BOTTOM)
    has = [from_viewer(Feedback(seq, 0, 0, 0)) for seq in (0, 1, 5)]
    assert list(core.receive_data(has[2])) == [  # frame 5 was never sent: not about the picture
        ViewerReported(ReceiverReport(0, 5, False), None)
    ]
    assert list(core.receive_data(has[0])) == [ViewerReported(ReceiverReport(0, 0, False), None)]
    assert list(core.receive_data(has[1])) == [ViewerReported(ReceiverReport(0, 1, False), BOTTOM)]


def test_what_is_sent_is_counted_unless_the_media_thread_counted_it():
    core = started()
    notice = core.policy_message(WALL)
    sent = core.encode(notice, now=7.0)
    assert sent.data == SessionChannel(Role.HOST).send(notice)
    assert sent.uncounted_bytes == len(sent.data) + TLS_OVERHEAD_BYTES
    video = core.video_message(packet(0), TOP)
    assert video == Video(True, 0, 5_000, 1920, 1080, b"\x00\x00\x01")
    assert core.encode(video, now=7.5).uncounted_bytes == 0
    assert core.encode(Close("error"), now=7.5).uncounted_bytes == 0


def test_the_heartbeat_repeats_the_last_cursor_position_after_a_quiet_spell():
    core = started()
    core.encode(core.cursor_message(CursorPosition(40, 50, True)), now=10.0)
    assert core.heartbeat_due_in(10.5) == pytest.approx(1.5)
    assert core.heartbeat_due_in(12.0) == 0.0
    beat = core.heartbeat(now=12.0)
    assert to_viewer(beat.data) == [Cursor(CursorPosition(40, 50, True))]
    assert beat.uncounted_bytes == len(beat.data) + TLS_OVERHEAD_BYTES
    assert core.heartbeat_due_in(12.0) == 2.0


def test_view_only_once_pushed_stays_on_and_the_viewer_is_told():
    core = started(Policy(watermark=True))
    assert not core.info.view_only
    assert core.apply_policy(Policy(view_only=True)) is True
    assert core.apply_policy(Policy(view_only=True)) is False  # already on: nothing to release
    assert core.apply_policy(Policy(watermark=True)) is False
    body = parse_notice(to_viewer(core.encode(core.policy_message(WALL), 0.0).data)[0])
    short = hashlib.sha256(b"session-1").hexdigest()[:8]
    assert body == SessionPolicy(f"2026-04-01 10:30 tanaka PC-01 #{short}", True, 0, 0)


def test_the_admins_watermark_words_follow_the_session_tag():
    core = started(Policy(watermark=True, watermark_text="〇〇市 持出禁止"))
    body = parse_notice(to_viewer(core.encode(core.policy_message(WALL), 0.0).data)[0])
    short = hashlib.sha256(b"session-1").hexdigest()[:8]
    assert body.watermark == f"2026-04-01 10:30 tanaka PC-01 #{short} 〇〇市 持出禁止"


def test_a_burned_watermark_is_burned_not_drawn_by_the_viewer():
    core = started(Policy(watermark=True, watermark_text="〇〇市 持出禁止"))
    assert core.burned_watermark(WALL) == ""  # the viewer draws this one
    core.apply_policy(Policy(watermark_burned=True, watermark_text="〇〇市 持出禁止"))
    short = hashlib.sha256(b"session-1").hexdigest()[:8]
    assert core.burned_watermark(WALL) == f"2026-04-01 10:30 tanaka PC-01 #{short} 〇〇市 持出禁止"
    later = core.burned_watermark(WALL + dt.timedelta(minutes=1))
    assert later.startswith("2026-04-01 10:31 ")  # the time in it follows the clock
    body = parse_notice(to_viewer(core.encode(core.policy_message(WALL), 0.0).data)[0])
    assert body.watermark == ""  # in the picture already: not drawn twice


def test_the_first_reason_to_end_stands():
    core = started()
    assert core.close_reason == "error" and not core.ended
    assert core.end("shutdown") is True
    assert core.end("viewer_quit") is False
    assert core.close_reason == "shutdown" and core.ended


def test_idle_limit_warns_once_then_ends_and_input_resets_it():
    core = started(Policy(idle_timeout_s=300))
    assert core.check_limits(200.0, WALL) is None
    warning = core.check_limits(350.0, WALL)
    assert parse_notice(warning) == IdleWarning(50)
    assert core.check_limits(351.0, WALL) is None  # once
    core.on_input(360.0)
    assert core.check_limits(400.0, WALL) is None
    assert core.check_limits(660.0, WALL) == EndSession("idle_timeout")
