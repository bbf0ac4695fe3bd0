"""Saved or installer-supplied connection settings can be shown and corrected at login."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPushButton

from apps.viewer.settings import Settings
from tests.gui.viewer.login_dialogs import FULL, dialog

NAMES = [f.name for f in dataclasses.fields(Settings)]


def edit(d, name):
    return d.findChild(QLineEdit, name)


def settings_button(d):
    return d.findChild(QPushButton, "connection_settings")


def test_known_settings_are_hidden_until_asked_for_then_shown_filled_in(qtbot):
    d = dialog(qtbot, FULL)
    button = settings_button(d)
    assert button is not None and button.isVisible() and button.text() == "Connection settings…"
    assert not any(edit(d, name) and edit(d, name).isVisible() for name in NAMES)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert [edit(d, name).text() for name in NAMES if edit(d, name).isVisible()] == [
        getattr(FULL, name) for name in NAMES
    ]


def test_a_stale_office_pc_id_is_corrected_and_enter_still_connects(qtbot):
    d = dialog(qtbot, FULL)
    settings_button(d).click()
    host_id = edit(d, "host_id")
    host_id.setText("not-an-id")
    d.otp.setText("123456")
    with qtbot.assertNotEmitted(d.submitted):
        d.submit()
    assert "20 letters" in d.message.text()  # validated as a field that was asked for
    host_id.setText("zyxwv-utsrq-ponml-kjihg")
    settings_button(d).setFocus()
    qtbot.waitUntil(lambda: settings_button(d).hasFocus())
    with qtbot.waitSignal(d.submitted) as signal:
        QTest.keyClick(settings_button(d), Qt.Key.Key_Return)  # Enter connects, never toggles
    assert signal.args[0] == dataclasses.replace(FULL, host_id="zyxwv-utsrq-ponml-kjihg")
    assert signal.args[1] == "123456"


def test_a_bad_hidden_setting_is_shown_with_the_problem(qtbot):
    d = dialog(qtbot, dataclasses.replace(FULL, fingerprint="not-a-fingerprint"))
    assert not edit(d, "fingerprint").isVisible()
    d.otp.setText("123456")
    with qtbot.assertNotEmitted(d.submitted):
        d.submit()
    assert "64 hexadecimal digits" in d.message.text()
    assert edit(d, "fingerprint").isVisible()


def test_a_missing_otp_does_not_open_the_settings(qtbot):
    d = dialog(qtbot, FULL)
    with qtbot.assertNotEmitted(d.submitted):
        d.submit()
    assert "One-time password" in d.message.text()
    assert not edit(d, "relay").isVisible()


def test_nothing_to_reveal_when_every_field_is_asked(qtbot):
    d = dialog(qtbot, Settings())
    assert all(edit(d, name).isVisible() for name in NAMES)
    assert not settings_button(d).isVisible()


def test_japanese_button(qtbot):
    d = dialog(qtbot, FULL, language="ja")
    assert settings_button(d).text() == "接続設定…"
