"""A refusal says what the user needs to act on it: a home PC not registered shows this PC's
MAC addresses; outside the hours says when to try. 「このPCの情報」 shows the MACs on request."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton

from apps.viewer.app import ViewerApp
from apps.viewer.pc_info import PcInfoDialog
from apps.viewer.texts import Texts
from core.crypto.certs import generate_identity
from core.policy import hours_from_wire
from tests.gui.viewer.login_dialogs import FULL
from tests.gui.viewer.test_viewer_banners import banner, in_session

MAC = "02:00:00:00:00:01"  # the app fixture's home PC


def test_not_registered_shows_this_pcs_macs(app):
    app.dialog.set_busy(True)
    app.client.refused.emit("mac_not_registered", 0, (), ())
    text = app.dialog.message.text()
    assert text.startswith(app.texts.refusal("mac_not_registered"))
    assert "Give them to your administrator" in text
    assert MAC in text
    # The user can select the address to copy it.
    flags = app.dialog.message.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse


def test_not_registered_on_a_reconnect_shows_them_too(app, qtbot):
    in_session(app, qtbot)
    app.client.retrying.emit("mac_not_registered")
    app.client.reconnectIn.emit(5)
    assert MAC in banner(app)


def test_outside_hours_says_when_to_try(app):
    app.dialog.set_busy(True)
    app.client.refused.emit("outside_hours", 0, (), ())
    text = app.dialog.message.text()
    assert text.startswith(app.texts.refusal("outside_hours"))
    assert "Connect again within them" in text


def test_outside_hours_says_the_hours_the_office_pc_gave(app):
    app.dialog.set_busy(True)
    hours = hours_from_wire(["mon-fri 08:30-18:00"])
    app.client.refused.emit("outside_hours", 0, (), hours)
    text = app.dialog.message.text()
    assert text.startswith(app.texts.refusal("outside_hours"))
    assert "Connections are allowed weekdays 8:30–18:00" in text
    assert "ask your administrator" not in text
    assert app.state["hours"] == ["mon-fri 08:30-18:00"]


def test_outside_hours_in_japanese_says_the_hours(qtbot, tmp_path):
    app = ViewerApp(Texts("ja"), FULL, tmp_path, generate_identity("home-pc"), [MAC])
    qtbot.addWidget(app.dialog)
    app.dialog.cancelled.disconnect(app.quit)
    app._refused("outside_hours", 0, (), hours_from_wire(["mon-fri 08:30-18:00"]))  # the slot
    assert "接続できる時間は 平日 8:30〜18:00 です" in app.dialog.message.text()


def test_a_home_pc_not_registered_by_its_key_says_its_code(app):
    app.client.refused.emit("device_not_registered", 0, (), ())
    assert app.device_code in app.dialog.message.text()
    assert app.state["device_code"] == app.device_code


def test_other_refusals_carry_no_macs(app):
    app.client.refused.emit("not_granted", 0, (), ())
    assert MAC not in app.dialog.message.text()


def test_about_this_pc_shows_and_copies_the_macs(qtbot, tmp_path):
    macs = ["02:00:00:00:00:01", "02:00:00:00:00:02"]
    app = ViewerApp(Texts("ja"), FULL, tmp_path, generate_identity("home-pc"), macs)
    qtbot.addWidget(app.dialog)
    app.dialog.show()
    (button,) = [b for b in app.dialog.findChildren(QPushButton) if b.text() == "このPCの情報"]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    (info,) = app.dialog.findChildren(PcInfoDialog)
    qtbot.waitUntil(info.isVisible)
    assert info.windowTitle() == "このPCの情報"
    shown = info.facts.toPlainText()
    assert all(mac in shown for mac in macs)
    assert "コンピューター名" in shown
    assert shown.startswith(f"自宅PCコード: {app.device_code}")  # the office PC registers it
    qtbot.mouseClick(info.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == shown
    assert info.copied.text().startswith("コピーしました")


def test_about_this_pc_without_a_mac_says_so(qtbot):
    info = PcInfoDialog(Texts("en"), [], computer="home-1")
    qtbot.addWidget(info)
    assert info.facts.toPlainText() == (
        "Computer name: home-1\nMAC addresses:\n  (no MAC address found: ask your administrator)"
    )


def test_a_long_refusal_shows_whole_in_the_login_dialog(app, qtbot):
    """The dialog grows to the message: a refusal with the home-PC code and several MACs is
    longer than the dialog's first size, and its last lines were cut off."""
    app.macs = app.dialog.macs = [f"02:00:00:00:00:{i:02x}" for i in range(1, 6)]
    app.dialog.show()
    qtbot.waitExposed(app.dialog)
    for reason in ("device_not_registered", "mac_not_registered"):
        app.dialog.set_busy(True)
        app.client.refused.emit(reason, 0, (), ())
        qtbot.wait(50)
        message = app.dialog.message
        assert message.height() >= message.heightForWidth(message.width())
        bottom = message.mapTo(app.dialog, message.rect().bottomLeft()).y()
        assert bottom <= app.dialog.height()
