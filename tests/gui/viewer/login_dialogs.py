"""Settings and a shown login dialog, for the viewer's login tests."""

from __future__ import annotations

from apps.viewer.login_dialog import LoginDialog
from apps.viewer.settings import Settings
from apps.viewer.texts import Texts

FINGERPRINT = "ab" * 32
HOST_ID = "ABCDEFGHIJKLMNOPQRST"
FULL = Settings("relay.example.jp:443", FINGERPRINT, "example-city", "tanaka", HOST_ID)


def dialog(qtbot, settings: Settings, language: str = "en") -> LoginDialog:
    """A login dialog for ``settings``, shown and active."""
    d = LoginDialog(Texts(language), settings)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    d.activateWindow()
    return d
