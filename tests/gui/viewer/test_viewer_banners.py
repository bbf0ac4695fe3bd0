"""The session window's banner: progress while (re)connecting, idle warnings until the user acts.

The app is wired to a real :class:`ViewerClient`; the test stands in for the network by
emitting the client's signals in the order a login, a drop and a resumed login produce them.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QMouseEvent, QWheelEvent

from apps.viewer.session_core import Picture
from apps.viewer.settings import Settings
from apps.viewer.texts import Texts
from core.protocol.control import LoginOk
from core.protocol.notices import HostScreens, IdleWarning, Monitor, SessionPolicy, ShutdownWarning

TEXTS = Texts("en")
FULL = Settings("relay.example.jp:443", "ab" * 32, "example-city", "tanaka", "ABCDEFGHIJKLMNOPQRST")
LOGIN_STAGES = ("connecting_to_relay", "waiting_for_host", "securing_channel")


def log_in(app, session_id="session-1"):
    """The client's signals for one successful login, up to (not including) the first picture."""
    client = app.client
    for stage in LOGIN_STAGES:
        client.progress.emit(stage)
    client.loggedIn.emit(LoginOk(session_id, "ticket", 60))
    client.progress.emit("receiving_screen")


def picture():
    return Picture(np.full((200, 320, 4), 90, np.uint8), 0)


def banner(app):
    return app.window.banner.text() if app.window.banner.isVisible() else ""


def in_session(app, qtbot):
    log_in(app)
    app.client.picture.emit(picture())
    qtbot.waitExposed(app.window)
    qtbot.waitUntil(lambda: app.window.view.placement().width > 0)


def test_first_login_says_the_screen_is_coming_until_the_first_picture(app, qtbot):
    log_in(app)
    assert app.window.isVisible()
    assert banner(app) == "Receiving the screen…"
    app.client.picture.emit(picture())
    assert banner(app) == ""


def test_a_notice_that_came_before_the_first_picture_stays(app, qtbot):
    log_in(app)
    app.client.policyChanged.emit(SessionPolicy("", True, 0, 0))
    app.client.picture.emit(picture())
    assert banner(app) == TEXTS("notice_view_only")


def test_reconnect_shows_every_stage_until_the_picture_is_back(app, qtbot):
    in_session(app, qtbot)
    client, window = app.client, app.window
    client.statsChanged.emit(40, 900)
    assert window.status_quality.text() == "Connection: Good"
    assert window.status_quality.toolTip() == "Delay 40 ms · 900 kbit/s"
    client.reconnectIn.emit(2)  # the link dropped
    assert banner(app) == "Connection lost. Reconnecting in 2 s…"
    for stage in ("reconnecting", *LOGIN_STAGES):
        client.progress.emit(stage)
        assert banner(app) == TEXTS.progress(stage), stage
    assert window.status_quality.text() == window.status_quality.toolTip() == ""  # not stale
    client.loggedIn.emit(LoginOk("session-2", "ticket-2", 60))
    client.progress.emit("receiving_screen")
    assert banner(app) == "Receiving the screen…"
    client.picture.emit(picture())
    assert banner(app) == ""


def office_screens():
    return HostScreens("PC-01", (Monitor(0, 0, 0, 320, 200),), 0)


def test_the_status_bar_does_not_say_connected_while_the_session_is_down(app, qtbot):
    states = []
    app.report = states.append
    in_session(app, qtbot)
    client, status = app.client, app.window.status_host
    client.screensChanged.emit(office_screens())
    assert status.text() == "Connected to PC-01"
    client.retrying.emit("viewer_lost")  # the viewer's link died or went silent
    client.reconnectIn.emit(2)
    assert status.text() == "Reconnecting to PC-01…"
    assert banner(app) == "Connection lost. Reconnecting in 2 s…"
    assert states[-1] == {"state": "reconnecting", "seconds": 2, "reason": "viewer_lost"}
    log_in(app, "session-2")
    assert status.text() == "Reconnecting to PC-01…"  # its screens not sent yet
    client.screensChanged.emit(office_screens())
    assert status.text() == "Connected to PC-01"


def test_a_reconnect_refused_because_the_office_pc_is_offline_says_so(app, qtbot):
    states = []
    app.report = states.append
    in_session(app, qtbot)
    app.client.screensChanged.emit(office_screens())
    app.client.retrying.emit("host_offline")
    app.client.reconnectIn.emit(4)
    assert banner(app) == f"{TEXTS.refusal('host_offline')}\nTrying again in 4 s…"
    assert "Connection lost" not in banner(app)
    assert app.window.status_host.text() == "Reconnecting to PC-01…"
    assert states[-1] == {"state": "reconnecting", "seconds": 4, "reason": "host_offline"}


def centre(view):
    where = view.placement()
    return QPointF(where.x + where.width / 2, where.y + where.height / 2)


def send_mouse(view, kind, button=Qt.MouseButton.NoButton):
    at = centre(view)
    buttons = button if kind == QEvent.Type.MouseButtonPress else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind, at, view.mapToGlobal(at), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QGuiApplication.sendEvent(view, event)


def key(view):
    event = QKeyEvent(
        QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier, 0, 0, 0, "a"
    )
    QGuiApplication.sendEvent(view, event)


def pointer_move(view):
    send_mouse(view, QEvent.Type.MouseMove)


def click(view):
    send_mouse(view, QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton)


def wheel(view):
    at = centre(view)
    event = QWheelEvent(
        at,
        view.mapToGlobal(at),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QGuiApplication.sendEvent(view, event)


@pytest.mark.parametrize("act", [key, pointer_move, click, wheel])
def test_idle_warning_goes_when_the_user_acts(app, qtbot, act):
    in_session(app, qtbot)
    app.client.warned.emit(IdleWarning(60))
    assert banner(app) == "No activity: the session ends in 60 s."
    act(app.window.view)
    assert banner(app) == ""


def test_input_leaves_other_notices_alone(app, qtbot):
    in_session(app, qtbot)
    app.client.warned.emit(ShutdownWarning("18:00", 10))
    key(app.window.view)
    click(app.window.view)
    assert banner(app).startswith("Your office PC shuts down at 18:00")


def test_idle_warning_stays_when_input_is_not_sent(app, qtbot):
    in_session(app, qtbot)
    app.window.action_view_only.setChecked(True)  # nothing reaches the office PC's idle timer
    app.client.warned.emit(IdleWarning(60))
    key(app.window.view)
    assert banner(app) == "No activity: the session ends in 60 s."


@pytest.mark.parametrize(
    ("delay_ms", "word"),
    [(0, "Good"), (200, "Good"), (201, "Fair"), (500, "Fair"), (501, "Unstable")],
)
def test_connection_quality_is_a_plain_word_with_the_figures_in_its_tooltip(
    app, qtbot, delay_ms, word
):
    in_session(app, qtbot)
    app.client.statsChanged.emit(delay_ms, 30)
    assert app.window.status_quality.text() == f"Connection: {word}"
    assert f"{delay_ms} ms" in app.window.status_quality.toolTip()


def test_connection_quality_in_japanese(app, qtbot):
    in_session(app, qtbot)
    app.window.texts = Texts("ja")
    app.client.statsChanged.emit(800, 30)
    assert app.window.status_quality.text() == "接続状態: 不安定"


def test_the_window_title_names_the_office_pc_then_the_app_once(app, qtbot):
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.setApplicationDisplayName(TEXTS("app_title"))  # as the viewer's main does
    try:
        in_session(app, qtbot)
        app.client.screensChanged.emit(office_screens())
        title = app.window.windowTitle()
        assert title == f"PC-01 — {TEXTS('app_title')}"
        # Qt's platform windows append the display name to a title unless it ends with it
        # already (QPlatformWindow::formatWindowTitle): so it is shown once.
        assert title.endswith(QGuiApplication.applicationDisplayName())
        assert Texts("ja")("session_title", host="PC-01", app=Texts("ja")("app_title")) == (
            "PC-01 — テレワーク画面転送"
        )
    finally:
        QGuiApplication.setApplicationDisplayName("")
