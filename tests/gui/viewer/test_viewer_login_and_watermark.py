"""The login dialog's flow and messages, and the watermark over the picture."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from apps.viewer.session_core import Picture
from apps.viewer.session_window import SessionWindow
from apps.viewer.settings import Settings
from apps.viewer.texts import Texts
from core.protocol.control import RefusalReason
from core.protocol.notices import SessionPolicy
from tests.gui.viewer.login_dialogs import FINGERPRINT, FULL, dialog


def test_with_everything_preset_only_the_otp_is_asked_and_enter_connects(qtbot):
    d = dialog(qtbot, FULL)
    assert d.fields == {}
    qtbot.waitUntil(lambda: d.otp.hasFocus())
    QTest.keyClicks(d.otp, "123456")
    with qtbot.waitSignal(d.submitted) as signal:
        QTest.keyClick(d.otp, Qt.Key.Key_Return)
    settings, otp = signal.args
    assert settings == FULL and otp == "123456"
    assert d.busy and not d.otp.isEnabled()  # no double submit while connecting


def test_missing_fields_are_asked_first_then_validated(qtbot):
    d = dialog(qtbot, Settings(relay="relay.example.jp:443", fingerprint=FINGERPRINT))
    assert set(d.fields) == {"tenant", "user", "host_id"}
    qtbot.waitUntil(lambda: d.fields["tenant"].hasFocus())
    d.otp.setText("123456")
    with qtbot.assertNotEmitted(d.submitted):
        d.submit()
    assert "Municipality code" in d.message.text()
    d.fields["tenant"].setText("example-city")
    d.fields["user"].setText("tanaka")
    d.fields["host_id"].setText("not-an-id")
    with qtbot.assertNotEmitted(d.submitted):
        d.submit()
    assert "20 letters" in d.message.text()
    d.fields["host_id"].setText("abcde-fghij-klmno-pqrst")
    with qtbot.waitSignal(d.submitted) as signal:
        d.submit()
    assert signal.args[0].host_id == "abcde-fghij-klmno-pqrst"


def test_progress_and_refusals_in_plain_words(qtbot):
    texts = Texts("en")
    d = dialog(qtbot, FULL)
    d.otp.setText("123456")
    d.submit()
    d.show_progress(texts.progress("waiting_for_host"))
    assert d.progress.text() == "Waiting for your office PC…"
    d.show_error(texts.refusal(RefusalReason.WRONG_OTP))
    assert "wrong or has expired" in d.message.text()
    assert not d.busy and d.otp.text() == "" and d.otp.isEnabled()  # ready for a new OTP
    until = int(time.time()) + 300
    d.show_error(texts.refusal(RefusalReason.LOCKED_OUT, until))
    assert time.strftime("%H:%M", time.localtime(until)) in d.message.text()


def test_after_a_refusal_enter_connects_again_with_the_new_code(qtbot):
    d = dialog(qtbot, FULL)
    QTest.keyClicks(d.otp, "111111")
    QTest.keyClick(d.otp, Qt.Key.Key_Return)
    # While busy the fields are disabled and a window system moves focus on, to Cancel: an
    # autoDefault button that takes focus becomes the dialog's default (the Enter button).
    cancel = d.buttons.buttons()[-1]
    cancel.setFocus()
    qtbot.waitUntil(lambda: cancel.isDefault())
    d.show_error(Texts("en").refusal(RefusalReason.WRONG_OTP))
    qtbot.waitUntil(lambda: d.otp.hasFocus())
    QTest.keyClicks(d.otp, "222222")
    with qtbot.waitSignal(d.submitted) as signal:
        QTest.keyClick(d.otp, Qt.Key.Key_Return)
    assert signal.args[1] == "222222" and d.isVisible()  # Enter did not cancel the dialog


def test_japanese_dialog(qtbot):
    d = dialog(qtbot, Settings(), language="ja")
    assert d.windowTitle() == "職場PCに接続"
    d.show_error(Texts("ja").refusal(RefusalReason.MAC_NOT_REGISTERED))
    assert "この自宅PCは、職場PCに登録されていません" in d.message.text()


def grab_luminance(window):
    image = window.view.grab().toImage()
    bits = image.constBits()
    array = np.frombuffer(bits, np.uint8).reshape(image.height(), image.bytesPerLine())
    rgb = array[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3]
    return rgb.copy()  # the QImage owning the bytes goes away with this function


@pytest.fixture
def session_window(qtbot):
    window = SessionWindow(Texts("en"))
    qtbot.addWidget(window)
    window.resize(640, 480)
    window.show()
    qtbot.waitExposed(window)
    grey = np.full((400, 600, 4), 128, np.uint8)
    window.show_picture(Picture(grey, 0))
    window.start_session("tanaka", "session-id-1")
    return window


def test_no_watermark_unless_the_policy_asks(session_window):
    session_window.apply_policy(SessionPolicy("", False, 0, 0))
    assert session_window.view.watermark == []
    pixels = grab_luminance(session_window)
    where = session_window.view.placement()
    inside = pixels[
        int(where.y) + 2 : int(where.y + where.height) - 2,
        int(where.x) + 2 : int(where.x + where.width) - 2,
    ]
    assert inside.min() == inside.max() == 128  # the picture, untouched


def test_watermark_is_tiled_over_the_picture(session_window):
    session_window.apply_policy(SessionPolicy("Example City 機密", False, 0, 0))
    lines = session_window.view.watermark
    assert lines[0].startswith("Example City 機密") and "tanaka" in lines[1]
    assert "#" in lines[1]  # the short session hash
    pixels = grab_luminance(session_window)
    where = session_window.view.placement()
    inside = pixels[
        int(where.y) + 2 : int(where.y + where.height) - 2,
        int(where.x) + 2 : int(where.x + where.width) - 2,
    ]
    changed = np.any(inside != 128, axis=2)
    assert 0.002 < changed.mean() < 0.5  # translucent text, not a blanket
    # repeated: every quarter of the picture carries some of it
    h, w = changed.shape
    for quarter in (
        changed[: h // 2, : w // 2],
        changed[: h // 2, w // 2 :],
        changed[h // 2 :, : w // 2],
        changed[h // 2 :, w // 2 :],
    ):
        assert quarter.any()
    # translucent: the grey shows through, no pixel turns black or white
    assert inside.min() > 60 and inside.max() < 200
