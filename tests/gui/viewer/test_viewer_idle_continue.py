"""The idle warning's 「続ける」 button: the warning goes, and the office PC counts it as the
user's activity (its idle timer starts again) while injecting nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from apps.host.session_core import HostSessionCore, Input, SessionInfo
from apps.viewer.session_core import ViewerSession
from apps.viewer.texts import Texts
from core.input.dispatch import InputDispatcher
from core.input.pointer import ScreenMap
from core.policy import Policy
from core.protocol.notices import IdleWarning, Monitor, ShutdownWarning
from tests.gui.viewer.test_viewer_banners import banner, in_session

SCREEN = ScreenMap(0, 0, 320, 200, 320, 200)
WALL = dt.datetime(2026, 4, 1, 10, 30)


class RecordingBackend:
    """An office PC's injection backend that only notes what it was asked to do."""

    can_inject_secure_attention = False

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def key(self, *args) -> None:
        self.calls.append(("key", *args))

    def move(self, *args) -> None:
        self.calls.append(("move", *args))

    def button(self, *args) -> None:
        self.calls.append(("button", *args))

    def scroll(self, *args) -> None:
        self.calls.append(("scroll", *args))

    def secure_attention(self) -> None:
        self.calls.append(("secure_attention",))

    def close(self) -> None:
        pass


class OfficePc:
    """The office PC's session, as its agent runs it: the core's limits, the dispatcher's
    injection, and input counted as activity when the dispatcher says it was input."""

    def __init__(self, idle_timeout_s: int) -> None:
        info = SessionInfo("session-1", "tanaka", "example-city", "home", "", "10:00")
        self.core = HostSessionCore(info, Policy(idle_timeout_s=idle_timeout_s), "PC-01", 100.0)
        self.core.start((Monitor(0, 0, 0, 320, 200),), 1, SCREEN)
        self.backend = RecordingBackend()
        self.dispatcher = InputDispatcher(self.backend, SCREEN, view_only=False)

    def receive(self, data: bytes, now: float) -> None:
        for event in self.core.receive_data(data):
            if isinstance(event, Input) and self.dispatcher.handle(event.message):
                self.core.on_input(now)


@pytest.fixture
def session(app, qtbot):
    in_session(app, qtbot)
    app.client.session = ViewerSession()  # the session's core, as a login makes it
    return app


def test_continue_answers_the_idle_warning_and_counts_as_activity(session, qtbot):
    app, office = session, OfficePc(idle_timeout_s=300)
    assert office.core.check_limits(350.0, WALL) is not None  # the warning, 50 s left
    app.client.warned.emit(IdleWarning(50))
    button = app.window.continue_button
    assert button.isVisible() and button.text() == "Continue"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert banner(app) == "" and not button.isVisible()
    office.receive(app.client.session.data_to_send(), now=360.0)
    # Without the answer the session would end at 400 s; it runs on, idle again from 360 s.
    assert office.core.check_limits(450.0, WALL) is None
    assert office.backend.calls == []  # nothing happened on the office PC's screen
    assert office.core.check_limits(610.0, WALL) is not None  # warned again before the end


def test_continue_counts_in_view_only_mode_too(session, qtbot):
    app, office = session, OfficePc(idle_timeout_s=300)
    app.window.action_view_only.setChecked(True)  # watching, not typing
    app.client.warned.emit(IdleWarning(50))
    qtbot.mouseClick(app.window.continue_button, Qt.MouseButton.LeftButton)
    office.receive(app.client.session.data_to_send(), now=360.0)
    assert office.core.check_limits(450.0, WALL) is None
    assert office.backend.calls == []


def test_only_the_idle_warning_has_the_button(session, qtbot):
    app = session
    app.client.warned.emit(ShutdownWarning("18:00", 10))
    assert not app.window.continue_button.isVisible()
    app.client.warned.emit(IdleWarning(30))
    assert app.window.continue_button.isVisible()
    assert Texts("ja")("idle_continue") == "続ける"
    app.client.warned.emit(ShutdownWarning("18:00", 9))  # a newer notice replaces the warning
    assert not app.window.continue_button.isVisible()
