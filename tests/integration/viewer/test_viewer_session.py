"""The viewer app, in-process, against the real relay and a scripted office PC on Xvfb.

It logs in with a TOTP through the login dialog, shows the office PC's screen (the rendered
view is compared with the captured pixels), and its pointer and keys reach the office PC as
the contract's messages.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtTest import QTest

from apps.viewer.app import ViewerApp
from apps.viewer.settings import SETTINGS_FILE, Settings, load_settings
from apps.viewer.texts import Texts
from core.crypto.certs import format_host_id, generate_identity
from core.media.frames import Monitor
from core.protocol.control import RefusalReason
from core.protocol.notices import CloseReason
from core.protocol.session import Button, Close, Feedback, Key, MouseButton, Pointer
from desktop.capture import ScreenCapture
from tests.integration.relay_harness import TENANT, USER, wait_until
from tests.integration.viewer.conftest import SCREEN, fill_rectangles

# Big flat blocks survive H.264 at any quality; their colours make a mismatch obvious.
BLOCKS = [
    (0, 0, SCREEN[0], SCREEN[1], 0xF0F0F0),
    (64, 64, 384, 256, 0x1F6FB2),
    (512, 96, 320, 320, 0xC8322A),
    (896, 480, 320, 256, 0x2E9E4F),
    (160, 480, 448, 224, 0x303030),
]


def settings_for(relay, host) -> Settings:
    endpoint = relay.endpoint
    return Settings(
        f"{endpoint.host}:{endpoint.port}",
        endpoint.fingerprint,
        TENANT,
        USER,
        format_host_id(host.host_id),
    )


@pytest.fixture
def viewer(qapp, tmp_path):
    made = []

    def make(settings: Settings, language: str = "en") -> ViewerApp:
        states: list[dict] = []
        app = ViewerApp(
            Texts(language),
            settings,
            tmp_path / "config",
            generate_identity("home-pc"),
            ["02:00:00:00:00:01"],
            report=states.append,
        )
        app.states = states
        made.append(app)
        app.start()
        return app

    yield make
    for app in made:
        app.window.close()
        app.dialog.close()


CLICK_AT = QPointF(200, 150)


def mouse(view, kind, button, at=CLICK_AT):
    """A mouse event at a view position (QTest goes through the global cursor position,
    which the offscreen platform only follows once the window's geometry has settled)."""
    buttons = button if kind != QEvent.Type.MouseButtonRelease else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind, at, view.mapToGlobal(at), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QGuiApplication.sendEvent(view, event)


async def finish(app: ViewerApp) -> None:
    app.quit()
    await wait_until(lambda: app.state.get("state") == "exit")


@pytest.mark.x11
async def test_viewer_logs_in_shows_the_screen_and_sends_input(xvfb, relay, office, host, viewer):
    fill_rectangles(xvfb, BLOCKS)
    capture = ScreenCapture(Monitor(1), display=xvfb)
    try:
        source = np.array(capture.grab(), copy=True)
    finally:
        capture.close()
    office.grab = lambda: source

    app = viewer(settings_for(relay, host))
    assert app.dialog.fields == {}  # everything came from the settings: only the OTP is asked
    app.submit_otp(relay.totp_now())
    await wait_until(lambda: app.state.get("state") == "showing", timeout=15)
    stages = [s.get("stage") for s in app.states if s["state"] == "progress"]
    assert stages[:3] == ["connecting_to_relay", "waiting_for_host", "securing_channel"]
    assert "receiving_screen" in stages
    assert app.window.isVisible() and not app.dialog.isVisible()
    assert load_settings(app.config_dir / SETTINGS_FILE) == app.settings  # remembered, no OTP

    # the picture: wait until the refinement frames are in, then compare 1:1 with the source
    await wait_until(lambda: app.client.session.frames_shown >= 5, timeout=10)
    await wait_until(lambda: app.client.session.cursor.position is not None)
    window = app.window
    window.set_fit(False)
    window.resize(SCREEN[0] + 100, SCREEN[1] + 100)
    view = window.view
    assert view.picture_size == SCREEN
    image = view.grab().toImage()
    assert (image.width(), image.height()) == SCREEN
    shown = np.frombuffer(image.constBits(), np.uint8).reshape(SCREEN[1], image.bytesPerLine())
    shown = shown[:, : SCREEN[0] * 4].reshape(SCREEN[1], SCREEN[0], 4)[..., :3].astype(int).copy()
    del image
    expected = source[..., :3].astype(int)
    diff = np.abs(shown - expected)
    diff[380:440, 620:680] = 0  # the remote cursor is drawn there, on purpose
    assert diff.mean() < 3.0, diff.mean()
    assert np.percentile(diff, 99.9) < 40
    for x, y, w, h, rgb in BLOCKS[1:]:  # each block's centre shows its colour
        b, g, r = shown[y + h // 2, x + w // 2]
        want = ((rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255)
        assert max(abs(r - want[0]), abs(g - want[1]), abs(b - want[2])) <= 8

    # input: pointer, button, a Japanese key and a letter reach the office PC as messages
    view.setFocus()
    mouse(view, QEvent.Type.MouseMove, Qt.MouseButton.NoButton)
    mouse(view, QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton)
    mouse(view, QEvent.Type.MouseButtonRelease, Qt.MouseButton.LeftButton)
    QTest.keyClick(view, Qt.Key.Key_Henkan)
    QTest.keyClick(view, Qt.Key.Key_A)

    def got(kind):
        return [m for m in office.received if isinstance(m, kind)]

    await wait_until(lambda: len(got(Key)) >= 4)
    assert Pointer(200, 150) in got(Pointer)
    assert Button(MouseButton.LEFT, True, 200, 150) in got(Button)
    assert Button(MouseButton.LEFT, False, 200, 150) in got(Button)
    assert [(k.down, k.keysym) for k in got(Key)] == [
        (True, 0xFF23),
        (False, 0xFF23),
        (True, ord("a")),
        (False, ord("a")),
    ]
    await wait_until(lambda: any(f.received_bytes > 0 for f in got(Feedback)))
    assert "tanaka" not in window.windowTitle() and "PC-01" in window.windowTitle()

    await finish(app)
    await wait_until(lambda: got(Close) == [Close(CloseReason.VIEWER_QUIT)])


async def test_wrong_otp_is_refused_in_plain_words(relay, office, host, viewer):
    app = viewer(settings_for(relay, host), language="ja")
    app.submit_otp("000000" if relay.totp_now() != "000000" else "111111")
    await wait_until(lambda: app.state.get("state") == "refused")
    assert app.state["reason"] == RefusalReason.WRONG_OTP
    assert "ワンタイムパスワードが正しくない" in app.dialog.message.text()
    assert app.dialog.isVisible() and not app.window.isVisible()
    assert app.dialog.otp.isEnabled() and app.dialog.otp.text() == ""
    await finish(app)


async def test_network_drop_reconnects_with_the_resume_ticket(relay, office, host, viewer):
    office.grab = lambda: np.full((64, 64, 4), 200, np.uint8)
    app = viewer(settings_for(relay, host))
    app.submit_otp(relay.totp_now())
    await wait_until(lambda: app.state.get("state") == "showing", timeout=15)
    (live,) = relay.server.sessions
    relay.server.end_session(live, "test drop")  # as if the line went down
    await wait_until(lambda: office.sessions == 2, timeout=10)
    assert any(s["state"] == "reconnecting" for s in app.states)
    await wait_until(lambda: app.state.get("state") == "showing", timeout=10)
    assert len(host.offers) == 2  # a second login, without an OTP
    await finish(app)
