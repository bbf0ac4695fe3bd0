"""One real session, as a staff member at home has it: log in by typing the OTP, see the office
PC's screen, point, click and type on it, find no clipboard crossing either way, and survive a
relay crash. The tests share the session (module scope) and run in this order; each checks what
a user would see on the home display or what the office PC received."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import numpy as np
import pytest

from tests.e2e import office_window as office
from tests.e2e.rig import (
    ClipboardOwner,
    PictureMap,
    Viewer,
    XServer,
    count_near,
    hex_rgb,
    mean_colour,
    steady_picture,
    wait_for,
)

pytestmark = pytest.mark.x11

COLOUR_MATCH = 30  # mean of a flat region, per channel, after H.264 at 0.1 Mbps and scaling
PICTURE_MATCH = 12  # mean absolute difference of the whole picture, per channel
BANNER = "#fff3c4"  # the session window's notice banner (the reconnect countdown shows there)


@dataclass
class Session:
    viewer: Viewer
    window: str
    home: XServer
    office: XServer
    picture: PictureMap

    def point(self, x: int, y: int) -> tuple[int, int]:
        """Where office pixel (x, y) is on the home display."""
        return self.picture.to_home(x, y)

    def tolerance(self) -> int:
        """How far (office pixels) a pointer can land from its target: one home pixel, rounded."""
        return int(np.ceil(1 / min(self.picture.sx, self.picture.sy))) + 1


@pytest.fixture(scope="module")
def session(home_screen, office_screen, relay, accounts, office_pc, tmp_path_factory):
    work = tmp_path_factory.mktemp("viewer-session")
    viewer = Viewer(
        home_screen,
        work,
        relay,
        accounts.tenant,
        accounts.user,
        office_pc.host_id,
        register_on=office_pc,
    )
    try:
        viewer.wait_state("login", 30)
        viewer.type_otp(accounts.totp_now())
        viewer.wait_state("showing", 60)
        window = viewer.place_session_window()
        yield Session(viewer, window, home_screen, office_screen, steady_picture(home_screen))
    finally:
        viewer.stop()


def test_typed_otp_logs_in_and_the_window_shows_the_office_screen(session):
    states = [s["state"] for s in session.viewer.states()]
    assert states.index("logged_in") < states.index("showing")
    showing = next(s for s in session.viewer.states() if s["state"] == "showing")
    assert (showing["width"], showing["height"]) == (office.SCREEN_W, office.SCREEN_H)
    assert "PC-01" in session.viewer.windows()[session.window]

    # "Fit" scales the picture into the window, keeping its shape, inside the window.
    picture = session.picture
    assert abs(picture.sx - picture.sy) < 0.01
    x, y, w, h = session.viewer.geometry(session.window)
    left, top = picture.to_home(0, 0)
    right, bottom = picture.to_home(office.SCREEN_W, office.SCREEN_H)
    assert x - 2 <= left and right <= x + w + 2 and y - 2 <= top and bottom <= y + h + 2

    # Each coloured region of the office screen appears, in its colour, where the map says.
    office_shot, home_shot = session.office.grab(), session.home.grab()
    regions = [(m[0], m[1], m[2], m[2]) for m in office.MARKERS.values()]
    regions += [office.CLICK_TARGET, office.POINTER_PATCH, (560, 640, 400, 100)]  # + background
    for x, y, w, h in regions:
        expected = mean_colour(
            office_shot, np.s_[y + h // 5 : y + h * 4 // 5, x + w // 5 : x + w * 4 // 5]
        )
        seen = mean_colour(home_shot, picture.home_region(x, y, w, h))
        assert np.abs(seen - expected).max() < COLOUR_MATCH, (x, y, expected, seen)

    # And the picture as a whole is the office screen, scaled.
    left, top = picture.to_home(0, 0)
    rows = np.clip(
        np.round(picture.oy + picture.sy * np.arange(office.SCREEN_H)).astype(int), 0, None
    )
    cols = np.clip(
        np.round(picture.ox + picture.sx * np.arange(office.SCREEN_W)).astype(int), 0, None
    )
    seen = home_shot[rows[:, None], cols[None, :]].astype(np.int16)
    difference = np.abs(seen - office_shot.astype(np.int16)).mean()
    assert difference < PICTURE_MATCH


def test_pointer_moved_in_the_viewer_moves_the_office_pointer_there(session):
    for target in ((1000, 300), (300, 700), (700, 150)):
        session.home.xdotool("mousemove", *map(str, session.point(*target)))

        def arrived(target=target) -> bool:
            x, y = session.office.pointer()
            return max(abs(x - target[0]), abs(y - target[1])) <= session.tolerance()

        wait_for(arrived, 15, f"the office pointer at {target}", session.viewer.logs)


def test_click_in_the_viewer_lands_on_the_office_window_and_the_viewer_shows_the_result(
    session, office_desktop
):
    tx, ty, tw, th = office.CLICK_TARGET
    target = (tx + tw // 2, ty + th // 2)
    since = len(office_desktop.events())
    session.home.xdotool("mousemove", *map(str, session.point(*target)))
    session.home.xdotool("click", "1")
    click = office_desktop.wait_event(
        lambda e: e["event"] == "click", 15, "the click on the office PC", since
    )
    assert click["button"] == 1 and click["inside"]
    assert abs(click["x"] - target[0]) <= session.tolerance()
    assert abs(click["y"] - target[1]) <= session.tolerance()

    # The target turned cyan on the office PC; the viewer's picture follows.
    session.home.xdotool("mousemove", *map(str, session.point(1000, 700)))  # cursor off it
    where = session.picture.home_region(*office.CLICK_TARGET)

    def shown() -> bool:
        seen = mean_colour(session.home.grab(), where)
        return bool(np.abs(seen - hex_rgb(office.CLICK_TARGET_HIT)).max() < COLOUR_MATCH)

    wait_for(shown, 20, "the clicked target's new colour in the viewer", session.viewer.logs)


def type_in_viewer(session: Session, office_desktop, typed: str) -> None:
    """Type ``typed`` into the viewer window; the office text field must end with it."""
    before = office_desktop.text()
    since = len(office_desktop.events())
    session.viewer.focus(session.window)
    session.home.xdotool("type", "--delay", "60", typed)
    wait_for(
        lambda: len(office_desktop.text()) >= len(before) + len(typed),
        20,
        f"{len(typed)} characters in the office window",
        office_desktop.tail_events(since),
    )
    assert office_desktop.text().endswith(typed)


def test_text_typed_in_the_viewer_arrives_in_the_office_window(session, office_desktop):
    type_in_viewer(session, office_desktop, "hello e2e 42")


def test_capital_letters_typed_in_the_viewer_arrive_as_capitals(session, office_desktop):
    type_in_viewer(session, office_desktop, " Tanaka OK")


def test_clipboards_never_cross_in_either_direction(session, office_desktop):
    office_secret = f"office-only-{uuid.uuid4().hex[:8]}"
    home_secret = f"home-only-{uuid.uuid4().hex[:8]}"

    # Office -> home: copy and paste on the office PC through the viewer; the home display's
    # clipboard and primary selection stay without it.
    owner = ClipboardOwner(session.office, office_secret)
    try:
        since = len(office_desktop.events())
        session.viewer.focus(session.window)
        session.home.xdotool("key", "ctrl+c", "ctrl+v")
        paste = office_desktop.wait_event(
            lambda e: e["event"] == "paste", 15, "Ctrl+V on the office PC", since
        )
        assert paste["clipboard"] == office_secret  # the keys arrived; the office had it
        for _ in range(10):  # for a second, as long as a clipboard sync would take
            for selection in ("clipboard", "primary"):
                assert office_secret not in (session.home.clipboard(selection) or "")
            time.sleep(0.1)
    finally:
        owner.stop()
    assert session.office.clipboard() is None

    # Home -> office: the home PC's clipboard holds text; Ctrl+V in the viewer pastes nothing
    # on the office PC, and the office display's clipboard stays empty.
    owner = ClipboardOwner(session.home, home_secret)
    try:
        since = len(office_desktop.events())
        session.viewer.focus(session.window)
        session.home.xdotool("key", "ctrl+v")
        paste = office_desktop.wait_event(
            lambda e: e["event"] == "paste", 15, "Ctrl+V on the office PC", since
        )
        assert paste["clipboard"] is None
        for selection in ("clipboard", "primary"):
            assert home_secret not in (session.office.clipboard(selection) or "")
        assert home_secret not in office_desktop.text()
    finally:
        owner.stop()


@pytest.mark.timeout(240)
def test_relay_crash_brings_a_countdown_then_the_session_back(session, relay, office_pc):
    fingerprint = relay.fingerprint
    since = len(session.viewer.states())
    relay.kill()

    _, countdown = session.viewer.wait_state("reconnecting", 30, since)
    assert countdown["seconds"] >= 1
    banner = wait_for(
        lambda: count_near(session.home.grab(), BANNER, 8) > 2000,
        10,
        "the countdown banner in the session window",
    )
    assert banner

    relay.start()  # same port, same data directory: same certificate
    assert relay.fingerprint == fingerprint
    office_pc.wait_connected(60)
    back, _ = session.viewer.wait_state("showing", 90, since)
    assert "logged_in" in [s["state"] for s in session.viewer.states()[since:back]]
    session.viewer.place_session_window()
    assert steady_picture(session.home) is not None
    assert count_near(session.home.grab(), BANNER, 8) < 200  # the banner is gone
