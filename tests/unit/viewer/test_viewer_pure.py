"""The viewer's Qt-free parts: key map, coordinates, texts, settings, reconnect, session core."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from PySide6.QtCore import Qt

from apps.common.i18n import pick_language
from apps.viewer import geometry, keymap
from apps.viewer.keymap import KeyInput, KeyTracker
from apps.viewer.reconnect import EXPIRY_MARGIN_S, MAX_DELAY_S, ReconnectPlan
from apps.viewer.session_core import (
    FEEDBACK_INTERVAL_S,
    Closed,
    Picture,
    PolicyChanged,
    ScreensChanged,
    ViewerSession,
    Warned,
)
from apps.viewer.settings import Settings, form_problem, load_settings, mac_addresses, save_settings
from apps.viewer.texts import Texts
from core.errors import ProtocolError
from core.media.encoder import H264Encoder
from core.protocol.control import ProgressStage, RefusalReason
from core.protocol.framing import MAX_SESSION_PAYLOAD, encode_frame
from core.protocol.notices import (
    CloseReason,
    HostScreens,
    IdleWarning,
    Monitor,
    SessionPolicy,
    ShutdownWarning,
    make_notice,
)
from core.protocol.session import (
    MAX_NOTICE_BYTES,
    Close,
    Feedback,
    Key,
    KeyframeRequest,
    Modifier,
    Pointer,
    Role,
    ScreenInfo,
    SessionChannel,
    SessionType,
    Video,
)


# ----- key map ---------------------------------------------------------------------------
def test_qt_constants_match_pyside():
    assert Qt.KeyboardModifier.ShiftModifier.value == keymap.QT_SHIFT
    assert Qt.KeyboardModifier.ControlModifier.value == keymap.QT_CONTROL
    assert Qt.KeyboardModifier.AltModifier.value == keymap.QT_ALT
    assert Qt.KeyboardModifier.MetaModifier.value == keymap.QT_META
    assert Qt.KeyboardModifier.KeypadModifier.value == keymap.QT_KEYPAD
    assert Qt.Key.Key_Print.value == keymap.QT_KEY_PRINT
    assert Qt.Key.Key_F1.value == keymap.QT_KEY_F1 and Qt.Key.Key_F35.value == keymap.QT_KEY_F35
    assert Qt.Key.Key_Kanji.value == keymap.QT_JAPANESE_FIRST
    assert Qt.Key.Key_Eisu_toggle.value == keymap.QT_JAPANESE_LAST


@pytest.mark.parametrize(
    ("qt_key", "keysym"),
    [
        (Qt.Key.Key_Zenkaku_Hankaku, 0xFF2A),
        (Qt.Key.Key_Henkan, 0xFF23),
        (Qt.Key.Key_Muhenkan, 0xFF22),
        (Qt.Key.Key_Hiragana_Katakana, 0xFF27),
        (Qt.Key.Key_Eisu_toggle, 0xFF30),
        (Qt.Key.Key_Kanji, 0xFF21),
        (Qt.Key.Key_yen, 0xA5),
        (Qt.Key.Key_Underscore, 0x5F),
        (Qt.Key.Key_Backslash, 0x5C),
        (Qt.Key.Key_Super_L, 0xFFEB),
        (Qt.Key.Key_Meta, 0xFFEB),
        (Qt.Key.Key_Tab, 0xFF09),
        (Qt.Key.Key_Return, 0xFF0D),
        (Qt.Key.Key_Delete, 0xFFFF),
        (Qt.Key.Key_F12, 0xFFC9),
        (Qt.Key.Key_Z, ord("z")),
        (Qt.Key.Key_At, ord("@")),
    ],
)
def test_keysyms(qt_key, keysym):
    assert keymap.keysym_for(qt_key.value) == keysym


def test_keypad_unicode_and_swallowed_keys():
    assert keymap.keysym_for(Qt.Key.Key_5.value, keymap.QT_KEYPAD) == 0xFFB5
    assert keymap.keysym_for(ord("あ")) == 0x01000000 | ord("あ")
    assert keymap.keysym_for(Qt.Key.Key_Print.value) is None
    assert keymap.keysym_for(Qt.Key.Key_SysReq.value) is None


def test_tracker_sends_only_set1_scancodes_but_pairs_by_the_native_one():
    tracker = KeyTracker(scancodes_are_set1=False)  # X11: native codes are X keycodes
    shift = keymap.QT_SHIFT
    at = tracker.event(KeyInput(Qt.Key.Key_At.value, shift, 11, "@"))
    two_up = tracker.event(KeyInput(Qt.Key.Key_2.value, 0, 11, "2", down=False))
    assert at == Key(True, ord("@"), 0, Modifier.SHIFT, "@")
    assert two_up is not None and (two_up.down, two_up.keysym, two_up.scancode) == (
        False,
        ord("@"),
        0,
    )


def test_tracker_repeats_releases_and_focus_loss():
    tracker = KeyTracker(scancodes_are_set1=True)
    a = KeyInput(Qt.Key.Key_A.value, 0, 38, "a")
    assert tracker.event(a) == Key(True, ord("a"), 38, 0, "a")
    assert tracker.event(KeyInput(Qt.Key.Key_A.value, 0, 38, "a", autorepeat=True)).down
    assert tracker.event(KeyInput(Qt.Key.Key_A.value, 0, 38, down=False, autorepeat=True)) is None
    assert tracker.event(KeyInput(Qt.Key.Key_Print.value, 0, 107)) is None
    assert tracker.event(KeyInput(Qt.Key.Key_Print.value, 0, 107, down=False)) is None
    ctrl = KeyInput(Qt.Key.Key_C.value, keymap.QT_CONTROL, 54, "\x03")
    assert tracker.event(ctrl).text == ""
    assert sorted(k.keysym for k in tracker.release_all()) == [ord("a"), ord("c")]
    assert tracker.release_all() == []


# ----- coordinates -----------------------------------------------------------------------
def test_fit_keeps_aspect_and_centres():
    where = geometry.placement(1000, 1000, 1920, 1080, 1.0, fit=True)
    assert where.width == pytest.approx(1000) and where.height == pytest.approx(562.5)
    assert where.y == pytest.approx(218.75)
    assert geometry.to_picture(500, 500, where, 1920, 1080) == (960, 540)
    assert geometry.to_picture(500, 100, where, 1920, 1080) is None  # letterbox
    assert geometry.clamp_to_picture(1200, 100, where, 1920, 1080) == (1919, 0)


def test_one_to_one_is_device_pixels_on_hidpi():
    where = geometry.placement(800, 600, 1920, 1080, 2.0, fit=False)
    assert (where.width, where.height) == (960, 540)
    assert geometry.natural_size(1920, 1080, 2.0) == (960, 540)
    assert geometry.to_picture(480.25, 270.75, where, 1920, 1080) == (960, 541)


# ----- texts -----------------------------------------------------------------------------
def test_every_refusal_and_close_reason_has_its_own_words():
    for language in ("ja", "en"):
        texts = Texts(language)
        other = texts("refused_other")
        for reason in RefusalReason:
            if reason not in (
                "protocol_error",
                "server_error",
                "bad_enrollment_token",
                "bad_host_credential",
            ):
                assert texts.refusal(reason) != other, reason
        for reason in CloseReason:
            assert texts.close_reason(reason) != texts("closed_unknown"), reason
    assert Texts("en").refusal("something new") == Texts("en")("refused_other")
    assert "18:30" in Texts("en").notice(ShutdownWarning("18:30", 5))
    assert "60" in Texts("ja").notice(IdleWarning(60))


def test_every_progress_stage_has_its_own_words():
    for language in ("ja", "en"):
        texts = Texts(language)
        words = [texts.progress(stage) for stage in ProgressStage]
        assert all(words) and len(set(words)) == len(words)


def test_language_follows_the_os_locale():
    assert pick_language("ja_JP") == "ja" and pick_language("Japanese_Japan.932") == "ja"
    assert pick_language("en_US") == "en" and pick_language("") == "en"


# ----- settings --------------------------------------------------------------------------
def test_settings_round_trip_only_five_fields(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings("r:1", "ab" * 32, "t", "u", "ABCDEFGHIJKLMNOPQRST")
    save_settings(path, settings)
    assert load_settings(path) == settings
    assert set(json.loads(path.read_text())) == {
        "relay",
        "fingerprint",
        "tenant",
        "user",
        "host_id",
    }
    path.write_text('{"relay": "x:2", "otp": "123456", "user": 5}')
    assert load_settings(path) == Settings(relay="x:2")
    path.write_text("not json")
    assert load_settings(path) == Settings()
    assert Settings(relay="a:1", user="x").merged(Settings(user="y")) == Settings("a:1", user="y")


def test_form_problems():
    good = Settings("relay.example.jp:443", "ab" * 32, "t", "u", "ABCDE-FGHIJ-KLMNO-PQRST")
    assert form_problem(good, "123456") is None
    assert form_problem(good, " ") == ("missing_field", {"field": "field_otp"})
    assert form_problem(Settings(), "1")[1] == {"field": "field_relay"}
    assert form_problem(Settings(**{**good.__dict__, "relay": "nohost"}), "1")[0] == "bad_relay"
    bad_fp = Settings(**{**good.__dict__, "fingerprint": "abc"})
    assert form_problem(bad_fp, "1")[0] == "bad_fingerprint"


def test_mac_addresses_from_sysfs(tmp_path):
    for name, mac in [
        ("lo", "00:00:00:00:00:00"),
        ("eth0", "52:54:00:12:34:56"),
        ("wlan0", "a4-5e-60-aa-bb-cc"),
        ("bond0", "52:54:00:12:34:56"),
    ]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "address").write_text(mac + "\n")
    assert mac_addresses(tmp_path) == ["52:54:00:12:34:56", "A4:5E:60:AA:BB:CC"]
    assert all(len(m) == 17 for m in mac_addresses())  # this machine, whatever it has


# ----- reconnect -------------------------------------------------------------------------
def test_reconnect_backs_off_until_the_ticket_expires():
    plan = ReconnectPlan("ticket", 0.0 + 60, rng=random.Random(1))
    now, delays = 0.0, []
    while (at := plan.schedule(now)) is not None:
        delays.append(at - now)
        assert plan.seconds_left(now) >= 1
        now = at
    assert delays[0] < delays[1] < delays[2] and max(delays) <= MAX_DELAY_S * 1.2
    assert now < 60 - EXPIRY_MARGIN_S
    plan.renewed("fresh", 60)
    plan.dropped(now)
    assert plan.ticket == "fresh" and plan.schedule(now) is not None


# ----- session core ----------------------------------------------------------------------
def host_bytes(*messages):
    host = SessionChannel(Role.HOST)
    return b"".join(host.send(m) for m in messages)


def viewer_sent(session):
    return SessionChannel(Role.HOST).receive_data(session.data_to_send())


def test_session_core_video_notices_feedback_and_view_only():
    frame = np.zeros((64, 96, 4), np.uint8)
    frame[16:48, 16:80] = (40, 120, 200, 255)
    encoder = H264Encoder(96, 64)
    packets = [encoder.encode(frame, 0) for _ in range(3)]
    videos = [
        Video(p.keyframe, p.frame_index, 1_000_000 + i * 100_000, 96, 64, p.data)
        for i, p in enumerate(packets)
    ]
    session = ViewerSession()
    screens = HostScreens("PC-01", (Monitor(0, 0, 0, 96, 64), Monitor(1, 96, 0, 96, 64)), 0)
    events = session.receive_data(
        host_bytes(screens.message(), make_notice(SessionPolicy("WM", True, 0, 0)), videos[0]), 1.0
    )
    assert isinstance(events[0], ScreensChanged) and isinstance(events[1], PolicyChanged)
    assert isinstance(events[2], Picture) and events[2].image.shape == (64, 96, 4)
    assert events[2].image.flags["C_CONTIGUOUS"]
    # view-only from the policy: input is not sent
    assert session.view_only and not session.send_input(Pointer(1, 1))
    session.receive_data(host_bytes(videos[1]), 1.25)  # 150 ms later than its capture spacing
    session.tick(2.0)
    session.choose_monitor(1)
    sent = viewer_sent(session)
    at_keyframe, feedback = [m for m in sent if isinstance(m, Feedback)]
    assert at_keyframe.highest_seq == 0  # reported as soon as a keyframe is shown
    assert feedback.highest_seq == 1 and feedback.received_bytes > len(packets[0].data)
    assert feedback.delay_ms == 150
    assert ScreenInfo({"monitor": 1, "economy": False}) in sent
    session.tick(2.0 + FEEDBACK_INTERVAL_S / 2)
    assert viewer_sent(session) == []  # not due yet
    # a lost packet: keyframe request once, not once per packet
    session.receive_data(host_bytes(Video(False, 7, 0, 96, 64, b"\x00\x00\x01")), 3.0)
    session.receive_data(host_bytes(Video(False, 8, 0, 96, 64, b"\x00\x00\x01")), 3.1)
    assert viewer_sent(session) == [KeyframeRequest(1)]
    events = session.receive_data(
        host_bytes(make_notice(IdleWarning(30)), Close(CloseReason.IDLE_TIMEOUT)), 4.0
    )
    assert isinstance(events[0], Warned) and events[1] == Closed("idle_timeout")


def test_session_core_sends_input_when_allowed_and_closes():
    session = ViewerSession()
    assert session.send_input(Key(True, 0xFF23, 0, 0))
    session.user_view_only = True
    assert not session.send_input(Key(True, 0x61, 0, 0))
    session.close()
    assert viewer_sent(session) == [Key(True, 0xFF23, 0, 0), Close("viewer_quit")]
    session.user_view_only = False
    assert not session.send_input(Key(True, 0x61, 0, 0))  # nothing after close


def test_initial_view_size_is_one_to_one_when_it_fits_else_scaled_to_the_screen():
    assert geometry.initial_view_size(1280, 800, 1.0, 1920, 1000) == (1280, 800)
    assert geometry.initial_view_size(1920, 1080, 2.0, 1920, 1000) == (960, 540)
    w, h = geometry.initial_view_size(1920, 1080, 1.0, 1366, 700)
    assert h == round(700 * geometry.MAX_WINDOW_SCREEN_SHARE) and abs(w / h - 1920 / 1080) < 0.01


def test_a_notice_that_would_grow_if_re_encoded_is_counted_as_it_came():
    # 1E9 is 3 bytes on the wire and 12 ("1000000000.0") when encoded again: a notice just under
    # the limit as sent would be over it if the viewer re-encoded it to count its bytes.
    numbers = ",".join(["1E9"] * ((MAX_NOTICE_BYTES - 60) // 4))
    payload = ('{"kind":"idle_warning","seconds_left":30,"x":[' + numbers + "]}").encode()
    assert len(payload) <= MAX_NOTICE_BYTES
    wire = encode_frame(SessionType.NOTICE, payload, MAX_SESSION_PAYLOAD)
    session = ViewerSession()
    try:
        session.receive_data(wire, 1.0)
    except ProtocolError:
        pass  # refusing the notice is fine; anything else escaping is not
    assert session.stats.received_bytes >= len(wire)
