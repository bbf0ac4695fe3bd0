"""The office PC's agent SIGKILLed while its viewer holds Ctrl+Shift+button 1, with the real
programs: the X server keeps them held after the kill; the restarted agent releases them, and
"ab" typed at the office PC, and then in a new session, arrives as "ab", not as Ctrl+Shift+A
and B."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
import Xlib.display
from Xlib import XK

from apps.viewer.settings import mac_addresses
from tests.e2e.rig import (
    HOME_SCREEN,
    HOST_SCREEN,
    Accounts,
    HostAgent,
    OfficeDesktop,
    Relay,
    Viewer,
    XServer,
    steady_picture,
    wait_for,
)
from tests.xlib import held_input

pytestmark = pytest.mark.x11

NEEDED_TOOLS = ("Xvfb", "xdotool")
BUTTON1_MASK = 1 << 8
HOLD_AT = (1000, 700)  # office screen pixel on the window's plain background


@pytest.mark.timeout(90)
def test_a_restarted_agent_releases_what_the_killed_one_left_held(tmp_path: Path) -> None:
    missing = [tool for tool in NEEDED_TOOLS if not shutil.which(tool)]
    if missing:
        pytest.skip(f"needs a real X display; missing: {', '.join(missing)}")
    home_macs = mac_addresses()
    if not home_macs:
        pytest.skip("no network interface with a MAC for the viewer to report")
    with contextlib.ExitStack() as stack:

        def started(thing):
            stack.callback(thing.stop)
            return thing

        office = started(XServer(*HOST_SCREEN))
        home = started(XServer(*HOME_SCREEN))
        desktop = started(OfficeDesktop(office, tmp_path))
        relay = Relay(tmp_path / "relay-data", tmp_path)
        relay.start()
        stack.callback(relay.stop)
        accounts = Accounts.create(relay)
        agent = started(HostAgent(tmp_path / "host", tmp_path, "PC-01"))
        for mac in home_macs:
            agent.allow_mac(mac)
        host_id = agent.enrol(relay, office, accounts.enrolment_token())
        accounts.grant(accounts.user, host_id)

        def session(work: str, otp: str) -> Viewer:
            """A viewer logged in to the office PC, its session window focused."""
            viewer = started(
                Viewer(
                    home,
                    tmp_path / work,
                    relay,
                    accounts.tenant,
                    accounts.user,
                    host_id,
                    register_on=agent,
                )
            )
            viewer.wait_state("login", 30)
            viewer.type_otp(otp)
            viewer.wait_state("showing", 30)
            viewer.place_session_window()
            return viewer

        # A session whose viewer holds Ctrl+Shift and button 1 over the office picture.
        viewer = session("viewer-1", accounts.totp_now())
        picture = steady_picture(home, 30)
        home.xdotool("mousemove", *map(str, picture.to_home(*HOLD_AT)))
        home.xdotool("keydown", "ctrl+shift", "mousedown", "1")
        ctrl_shift = keycodes(office, "Control_L", "Shift_L")
        wait_for(
            lambda: held_input(office.display) == (ctrl_shift, BUTTON1_MASK),
            15,
            "Ctrl, Shift and button 1 held on the office display",
            viewer.logs,
        )

        agent.process.kill()
        assert held_input(office.display) == (ctrl_shift, BUTTON1_MASK)  # the defect's start
        home.xdotool("keyup", "ctrl+shift", "mouseup", "1")
        viewer.stop()  # nothing from home can release them now

        agent.start(relay, office)  # the same enrolment, as after a crash
        assert held_input(office.display) == (set(), 0), agent.tail()

        since = len(desktop.events())
        office.xdotool("type", "--delay", "60", "ab")
        wait_text(desktop, "ab", since)
        typed = [e for e in desktop.events()[since:] if e["event"] == "key"]
        assert [(e["keysym"], e["char"]) for e in typed] == [("a", "a"), ("b", "b")]

        # And through a new session (a printed one-time code: the TOTP step may be used up).
        session("viewer-2", accounts.one_time_code(accounts.user))
        since = len(desktop.events())
        home.xdotool("type", "--delay", "60", "ab")
        wait_text(desktop, "abab", since)


def wait_text(desktop: OfficeDesktop, ending: str, since: int) -> None:
    """Until the office window's text field ends with ``ending``."""
    wait_for(
        lambda: desktop.text().endswith(ending),
        15,
        f"{ending!r} at the end of the office window's text",
        desktop.tail_events(since),
    )


def keycodes(screen: XServer, *names: str) -> set[int]:
    """The keyboard map's keycodes for the keysyms ``names`` (the ones xdotool presses)."""
    connection = Xlib.display.Display(screen.display)
    try:
        return {int(connection.keysym_to_keycode(XK.string_to_keysym(n))) for n in names}
    finally:
        connection.close()
