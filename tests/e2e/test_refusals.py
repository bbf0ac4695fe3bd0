"""Logins that must fail, each told to the user in the login dialog: a wrong OTP, a home PC the
office PC does not know (its MAC is not registered there) and a user with no grant for that
office PC. Each test runs a fresh viewer process and types the code into its dialog."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.rig import HostAgent, Viewer, XServer, wait_for

pytestmark = pytest.mark.x11

INK_LEVEL = 110  # darker than this (0..255) counts as text on the dialog's light background
# A line of the dialog's default font is some hundreds of dark pixels; the field's dots less.
NEW_TEXT_INK = 150


@pytest.fixture(scope="module")
def unregistered_pc(relay, accounts, office_screen, tmp_path_factory) -> Iterator[HostAgent]:
    """PC-02: enrolled and granted to the staff user, but with no home PC's MAC registered."""
    agent = HostAgent(
        tmp_path_factory.mktemp("host-pc02"), tmp_path_factory.mktemp("pc02"), "PC-02"
    )
    try:
        host_id = agent.enrol(relay, office_screen, accounts.enrolment_token())
        accounts.grant(accounts.user, host_id)
        yield agent
    finally:
        agent.stop()


@pytest.fixture
def start_viewer(home_screen, relay, accounts, tmp_path) -> Iterator:
    viewers: list[Viewer] = []

    def start(user: str, office: HostAgent, *, register: bool = True) -> Viewer:
        viewer = Viewer(
            home_screen,
            tmp_path / user,
            relay,
            accounts.tenant,
            user,
            office.host_id,
            register_on=office if register else None,
        )
        viewers.append(viewer)
        viewer.wait_state("login", 30)
        return viewer

    yield start
    for viewer in viewers:
        viewer.stop()


def ink(screen: XServer, viewer: Viewer, wid: str) -> int:
    """Dark (text) pixels in the window: labels, buttons, messages."""
    shot = screen.grab(viewer.geometry(wid))
    return int((shot.mean(axis=2) < INK_LEVEL).sum())


def refused(screen: XServer, viewer: Viewer, otp: str) -> str:
    """Type ``otp`` into the dialog; the refusal's reason, once the dialog shows a message."""
    dialog = viewer.dialog()
    before = ink(screen, viewer, dialog)
    viewer.type_otp(otp)
    _, state = viewer.wait_state("refused", 45)
    assert "logged_in" not in [s["state"] for s in viewer.states()]
    wait_for(
        lambda: ink(screen, viewer, viewer.dialog()) > before + NEW_TEXT_INK,
        10,
        "a message in the login dialog",
        viewer.logs,
    )
    return str(state["reason"])


def test_wrong_otp_is_refused(home_screen, accounts, office_pc, start_viewer):
    viewer = start_viewer(accounts.user, office_pc)
    wrong = next(code for code in ("000000", "999999") if code != accounts.totp_now())
    assert refused(home_screen, viewer, wrong) == "wrong_otp"


def test_home_pc_not_registered_on_the_office_pc_is_refused(
    home_screen, accounts, unregistered_pc, start_viewer
):
    viewer = start_viewer(accounts.user, unregistered_pc)
    code = accounts.one_time_code(accounts.user)
    assert refused(home_screen, viewer, code) == "mac_not_registered"


def test_the_staff_flow_of_registering_a_home_pc_by_its_code(
    home_screen, accounts, office_pc, start_viewer
):
    """As staff meet it: the office PC refuses a home PC it does not know, and the refusal
    shows the home PC's code; once that code is registered on the office PC the same dialog
    logs in and shows the office screen; once it is removed, the next connection is refused."""
    viewer = start_viewer(accounts.user, office_pc, register=False)
    assert refused(home_screen, viewer, accounts.one_time_code(accounts.user)) == (
        "device_not_registered"
    )
    refusal = next(s for s in viewer.states() if s["state"] == "refused")
    assert refusal["device_code"] == viewer.device_code

    office_pc.allow_device(refusal["device_code"])  # read out to the office PC's owner
    viewer.type_otp(accounts.one_time_code(accounts.user))
    viewer.wait_state("showing", 60)
    office_pc.deny_device(viewer.device_code)
    viewer.stop()
    viewer.states_path.unlink()  # the next viewer in this home writes its own states

    again = start_viewer(accounts.user, office_pc, register=False)
    assert again.device_code == viewer.device_code  # the same home PC: its key is kept
    assert refused(home_screen, again, accounts.one_time_code(accounts.user)) == (
        "device_not_registered"
    )


def test_user_without_a_grant_for_the_office_pc_is_refused(
    home_screen, accounts, office_pc, start_viewer
):
    viewer = start_viewer(accounts.ungranted_user, office_pc)
    code = accounts.one_time_code(accounts.ungranted_user)
    assert refused(home_screen, viewer, code) == "not_granted"


def test_refused_dialog_takes_a_new_code_and_logs_in(
    home_screen, accounts, office_pc, start_viewer
):
    """After a refusal the same dialog is ready again: the right code now logs in."""
    viewer = start_viewer(accounts.user, office_pc)
    assert refused(home_screen, viewer, "123") == "wrong_otp"
    viewer.type_otp(accounts.one_time_code(accounts.user))
    viewer.wait_state("showing", 60)
