"""The home-PC check in the viewer: its refusals in Japanese and English (the failed checks
listed), its progress stage, and the tenant's login message, shown once after an OTP login."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from apps.viewer.app import ViewerApp
from apps.viewer.texts import Texts
from core.crypto.certs import generate_identity
from core.protocol.control import LoginOk
from tests.gui.viewer.login_dialogs import FULL
from tests.gui.viewer.test_viewer_banners import log_in

ENGLISH = {
    "home_pc_check_failed": "does not meet your organisation's security requirements",
    "home_pc_unchecked": "this viewer sent no check",
    "viewer_too_old": "This viewer is too old",
}
JAPANESE = {
    "home_pc_check_failed": "セキュリティ要件を満たしていません",
    "home_pc_unchecked": "チェック結果が届きませんでした",
    "viewer_too_old": "このビューアーは古いため",
}


@pytest.mark.parametrize(("language", "words"), [("en", ENGLISH), ("ja", JAPANESE)])
def test_each_refusal_in_both_languages(qtbot, tmp_path, language, words):
    app = ViewerApp(Texts(language), FULL, tmp_path, generate_identity("home-pc"), [])
    qtbot.addWidget(app.dialog)
    qtbot.addWidget(app.window)
    for reason, text in words.items():
        assert text in app.refusal(reason), (language, reason)


def test_a_failed_check_lists_what_to_put_right(app):
    app.client.refused.emit("home_pc_check_failed", 0, ("firewall", "disk_encryption", "bogus"), ())
    text = app.dialog.message.text()
    assert text.splitlines() == [
        app.texts.refusal("home_pc_check_failed"),
        "  - Firewall on",
        "  - Disk encryption on (BitLocker / LUKS)",
    ]
    assert app.state["checks"] == ["firewall", "disk_encryption", "bogus"]
    japanese = Texts("ja").refusal("home_pc_check_failed", checks=("os_updates",))
    assert japanese.splitlines()[1] == "・OSのセキュリティ更新が最近適用されていること"


@pytest.mark.parametrize(("language", "words"), [("en", "Checking this home PC"), ("ja", "確認")])
def test_the_checking_stage_in_both_languages(language, words):
    assert words in Texts(language).progress("checking_home_pc")


def test_the_login_message_is_shown_as_plain_text_once(app, qtbot):
    app._message_due = True  # an OTP login (what submitting the dialog sets)
    words = "<b>本日20時から保守</b>\nヘルプデスク 内線1234"
    client = app.client
    client.loggedIn.emit(LoginOk("session-1", "ticket", 60, words))
    box = app.message_box
    assert box is not None and box.isVisible()
    assert box.windowTitle() == "Message from your organisation"
    assert box.informativeText() == words
    shown = [label for label in box.findChildren(QLabel) if label.text() == words]
    assert shown and all(
        label.textFormat().name == "PlainText" for label in shown
    )  # the admin's words are never markup
    assert app.state == {"state": "login_message", "text": words}
    box.close()
    # A reconnect with its ticket does not show it again.
    client.loggedIn.emit(LoginOk("session-1", "ticket-2", 60, words))
    assert app.message_box is box and not box.isVisible()


def test_no_message_no_box(app):
    app._message_due = True
    log_in(app)
    assert app.message_box is None
