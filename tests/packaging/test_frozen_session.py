"""The frozen programs hold a real session: the frozen host agent on the office display, the
frozen viewer on the home display, the frozen relay between them. The office screen's picture
arrives at home and keys typed in the viewer arrive in the office PC's window."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.e2e import office_window as office
from tests.e2e.rig import Viewer, mean_colour, steady_picture, wait_for
from tests.packaging.conftest import DIST

pytestmark = [pytest.mark.x11, pytest.mark.slow]

COLOUR_MATCH = 30  # mean of a flat region, per channel, after H.264 at 0.1 Mbps and scaling


def executable_of(pid: int) -> Path:
    return Path(os.readlink(f"/proc/{pid}/exe"))


@pytest.mark.timeout(300)
def test_frozen_viewer_shows_the_frozen_hosts_screen_and_its_keys_arrive(
    home_screen, office_screen, office_desktop, relay, accounts, office_pc, programs, tmp_path
):
    # The processes are the frozen builds, not this Python.
    for process in (relay.process, office_pc.process):
        assert process is not None
        assert executable_of(process.pid).is_relative_to(DIST.resolve())

    viewer = Viewer(
        home_screen,
        tmp_path,
        relay,
        accounts.tenant,
        accounts.user,
        office_pc.host_id,
        programs=programs,
        register_on=office_pc,
    )
    try:
        assert (
            executable_of(viewer.process.pid)
            == (DIST / "telework-viewer" / "telework-viewer").resolve()
        )
        viewer.wait_state("login", 60)
        viewer.type_otp(accounts.totp_now())
        _, showing = viewer.wait_state("showing", 90)
        assert (showing["width"], showing["height"]) == (office.SCREEN_W, office.SCREEN_H)
        window = viewer.place_session_window()

        # The picture: the office screen's four corner markers are found on the home display,
        # and its regions show there in their colours.
        picture = steady_picture(home_screen)
        office_shot, home_shot = office_screen.grab(), home_screen.grab()
        for x, y, w, h in [office.CLICK_TARGET, office.POINTER_PATCH, (560, 640, 400, 100)]:
            where = np.s_[y + h // 5 : y + h * 4 // 5, x + w // 5 : x + w * 4 // 5]
            expected = mean_colour(office_shot, where)
            seen = mean_colour(home_shot, picture.home_region(x, y, w, h))
            assert np.abs(seen - expected).max() < COLOUR_MATCH, (x, y, expected, seen)

        # Keys typed at home arrive in the office window.
        typed = "frozen 42"
        since = len(office_desktop.events())
        viewer.focus(window)
        home_screen.xdotool("type", "--delay", "60", typed)
        wait_for(
            lambda: office_desktop.text().endswith(typed),
            20,
            "the typed text in the office window",
            office_desktop.tail_events(since),
        )
    finally:
        viewer.stop()
