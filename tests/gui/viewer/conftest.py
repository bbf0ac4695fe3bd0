"""Viewer widgets under Qt's offscreen platform: no display needed, nothing shown."""

import os

import pytest

from apps.viewer.app import ViewerApp
from apps.viewer.texts import Texts
from core.crypto.certs import generate_identity
from tests.gui.viewer.login_dialogs import FULL
from transport.connect import RelayEndpoint

os.environ["QT_QPA_PLATFORM"] = "offscreen"

TEXTS = Texts("en")


@pytest.fixture
def app(qtbot, tmp_path):
    """A real ViewerApp wired to a real ViewerClient, with the network left out: tests emit
    the client's signals in the order a login, a refusal or a drop produce them."""
    app = ViewerApp(TEXTS, FULL, tmp_path, generate_identity("home-pc"), ["02:00:00:00:00:01"])
    qtbot.addWidget(app.window)
    qtbot.addWidget(app.dialog)
    endpoint = RelayEndpoint.parse(FULL.relay, fingerprint=FULL.fingerprint)
    app.client = app._new_client(endpoint)  # what submitting the dialog does, minus the network
    # Closing the widgets at teardown would start the app's asyncio quit, with no loop here.
    app.window.disconnectRequested.disconnect(app.quit)
    app.dialog.cancelled.disconnect(app.quit)
    yield app
    # As the app does when a session is over: a window left showing its session would ask
    # before closing (and stay, on top of the next test's windows).
    app.window.hide()
