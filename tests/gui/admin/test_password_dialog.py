"""The account menu's password change: errors said in the dialog, in words (the two new ones
differ, the current one is wrong, the new one too short), and once changed the new password
signs in and the status bar says so."""

from __future__ import annotations

import pytest
from conftest import credentials, settled
from PySide6.QtWidgets import QPushButton

from apps.admin.texts import tr
from core.auth.passwords import MIN_CHOSEN_PASSWORD_CHARS
from tests.integration.relay_harness import TENANT

NEW = "hosoku-kaisei-2026"


@pytest.fixture
def signed_in(live, qloop, qtbot):
    """The console of a tenant admin whose password the test knows, and that password."""
    from apps.admin.main import open_console

    password, otp = credentials(live, "carol", TENANT)
    window = qloop.run_until_complete(
        open_console(live.admin.url, live.relay.server.fingerprint, "carol", password, otp)
    )
    qtbot.addWidget(window)
    yield window, password
    qloop.run_until_complete(window.client.close())


def fill(dialog, current: str, new: str, repeat: str | None = None) -> None:
    dialog.current.setText(current)
    dialog.new.setText(new)
    dialog.repeat.setText(new if repeat is None else repeat)


def test_the_account_menu_opens_the_dialog(signed_in):
    window, _ = signed_in
    menu = window.account_button.menu()
    actions = [action.text() for action in menu.actions()]
    assert actions == [tr("change_password"), tr("sign_out")]
    assert "carol" in window.account_button.text()
    menu.actions()[0].trigger()
    assert window.password_dialog.isVisible()
    assert str(MIN_CHOSEN_PASSWORD_CHARS) in window.password_dialog.rules.text()


def test_mistakes_are_said_in_the_dialog(signed_in, qloop):
    run = qloop.run_until_complete
    window, password = signed_in
    dialog = window.password_dialog
    window.ask_new_password()
    fill(dialog, password, NEW, NEW + "x")
    assert not run(dialog.submit()) and dialog.error.text() == tr("password_mismatch")
    fill(dialog, "", NEW)
    assert not run(dialog.submit()) and dialog.error.text() == tr("password_missing")
    fill(dialog, "not-my-password", NEW)
    assert not run(dialog.submit()) and dialog.error.text() == tr("api_error_password_wrong")
    fill(dialog, password, "short")
    assert not run(dialog.submit())
    assert dialog.error.text() == tr("api_error_password_too_short").format(
        minimum=MIN_CHOSEN_PASSWORD_CHARS
    )
    assert dialog.isVisible()  # still there, to correct


def test_a_changed_password_is_theirs_and_said(signed_in, live, qloop):
    run = qloop.run_until_complete
    window, password = signed_in
    dialog = window.password_dialog
    window.ask_new_password()
    fill(dialog, password, NEW)
    (ok,) = [b for b in dialog.findChildren(QPushButton) if b.text() == tr("password_change_ok")]
    ok.click()  # as the admin does: the change runs as a console task
    run(settled(window))
    assert not dialog.isVisible() and dialog.current.text() == dialog.new.text() == ""
    assert window.statusBar().currentMessage() == tr("password_changed", count=0)
    # NEW is carol's password now (the check changes it once more, to end the test).
    assert live.relay.directory.change_admin_password("carol", password, NEW + "!") is False
    assert live.relay.directory.change_admin_password("carol", NEW, NEW + "!") is True
