"""Ending a session takes a yes: the window's close button and 切断 ask first, No by default, so
a mis-click does not drop the session."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from apps.viewer.texts import Texts
from tests.gui.viewer.test_viewer_banners import in_session, office_screens


class Answers:
    """A user who answers every question the same way, and the questions they were asked."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.questions: list[str] = []

    def __call__(self, question, answered) -> None:
        self.questions.append(question)
        answered(self.answer)


@pytest.fixture
def session(app, qtbot):
    in_session(app, qtbot)
    app.client.screensChanged.emit(office_screens())
    wanted: list[bool] = []
    app.window.disconnectRequested.connect(lambda: wanted.append(True))
    return app.window, wanted


@pytest.mark.parametrize("how", ["close_button", "menu"])
def test_no_keeps_the_session(session, how):
    window, wanted = session
    window.confirm = no = Answers(False)
    if how == "close_button":
        window.close()
    else:
        window.action_disconnect.trigger()
    assert no.questions == ["Disconnect from PC-01?\nWhat is open on your office PC stays open."]
    assert wanted == []
    assert window.isVisible()


@pytest.mark.parametrize("how", ["close_button", "menu"])
def test_yes_disconnects(session, how):
    window, wanted = session
    window.confirm = yes = Answers(True)
    if how == "close_button":
        window.close()
    else:
        window.action_disconnect.trigger()
    assert len(yes.questions) == 1
    assert wanted == [True]


def question_box(window, qtbot) -> QMessageBox:
    qtbot.waitUntil(lambda: len(window.findChildren(QMessageBox)) == 1)
    (box,) = window.findChildren(QMessageBox)
    qtbot.waitUntil(box.isVisible)
    return box


@pytest.mark.parametrize("answer", ["yes", "no", "enter", "escape"])
def test_the_question_names_its_buttons_and_defaults_to_staying(session, qtbot, answer):
    window, wanted = session
    window.texts = Texts("ja")
    window.close()
    box = question_box(window, qtbot)
    assert box.text().startswith("PC-01 との接続を切断しますか？")
    assert box.button(QMessageBox.StandardButton.Yes).text() == "切断する"
    assert box.button(QMessageBox.StandardButton.No).text() == "接続を続ける"
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    window.close()  # a second click while asked: still one question
    assert len([b for b in window.findChildren(QMessageBox) if b.isVisible()]) == 1
    match answer:
        case "yes":
            box.button(QMessageBox.StandardButton.Yes).click()
        case "no":
            box.button(QMessageBox.StandardButton.No).click()
        case "enter":
            QTest.keyClick(box, Qt.Key.Key_Return)
        case "escape":
            QTest.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert wanted == ([True] if answer == "yes" else [])
    assert window.question is None


def test_a_session_that_ends_meanwhile_takes_the_question_away(session, qtbot):
    window, wanted = session
    window.action_disconnect.trigger()
    box = question_box(window, qtbot)
    window.hide()  # the session ended by itself (the app hides the window)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert wanted == [] and window.question is None
