# ruff: noqa: F811 - the host rig's fixtures are imported to be used by name
"""The viewer app against the real host agent (apps/host) on Xvfb: the pointer it sends moves
the office PC's X pointer. Uses the host team's rig (tests/integration/host/conftest.py)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt

from apps.viewer.app import ViewerApp
from apps.viewer.settings import Settings
from apps.viewer.texts import Texts
from core.crypto.certs import format_host_id
from tests.integration.host.conftest import (  # noqa: F401 - fixtures used by name
    HOME_MAC,
    HOME_PC,
    TENANT,
    USER,
    clock,
    rig,
    start_host,
    xdisplay,
)
from tests.integration.relay_harness import wait_until
from tests.integration.viewer.test_viewer_session import finish, mouse
from tests.xlib import pointer_position


@pytest.mark.x11
async def test_viewer_pointer_moves_the_office_pc_pointer(qapp, rig, tmp_path, clock, xdisplay):
    host = await start_host(rig, tmp_path, clock, xdisplay)
    endpoint = rig.relay.endpoint
    settings = Settings(
        f"{endpoint.host}:{endpoint.port}",
        endpoint.fingerprint,
        TENANT,
        USER,
        format_host_id(host.agent.host_id),
    )
    app = ViewerApp(Texts("en"), settings, tmp_path / "config", HOME_PC, [HOME_MAC])
    try:
        app.start()
        app.submit_otp(rig.relay.totp_now())
        await wait_until(lambda: app.state.get("state") == "showing", timeout=20)
        app.window.set_fit(False)  # 1:1: view pixels are picture pixels
        view = app.window.view
        mouse(view, QEvent.Type.MouseMove, Qt.MouseButton.NoButton, QPointF(321, 123))
        await wait_until(lambda: pointer_position(xdisplay) == (321, 123), timeout=10)
        await finish(app)
        await wait_until(lambda: host.agent.session is None)
    finally:
        app.window.close()
        app.dialog.close()
        await host.stop()
