"""Fixtures for the end-to-end suite: the real relay, host agent and viewer as processes.

Shared across the suite (session scope), because starting them is most of the cost and the
tests only read what they do: two private Xvfb displays (the office PC's and the home PC's),
the office desktop window, one relay with a fresh data directory, its accounts, and the office
PC's agent (enrolled, granted, the home PC's MACs registered). Each test module adds the
viewers it needs. Everything is stopped at teardown, in reverse order.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.viewer.settings import mac_addresses
from tests.e2e.rig import (
    HOME_SCREEN,
    HOST_SCREEN,
    SOURCE,
    Accounts,
    HostAgent,
    OfficeDesktop,
    Programs,
    Relay,
    XServer,
)

NEEDED_TOOLS = {
    "Xvfb": "the X display server",
    "xdotool": "to type and click as a user",
    "xclip": "to read and set the clipboards",
}


@pytest.fixture(scope="session")
def e2e_work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")


def _screen(width: int, height: int) -> Iterator[XServer]:
    missing = [f"{tool} ({why})" for tool, why in NEEDED_TOOLS.items() if not shutil.which(tool)]
    if missing:
        pytest.skip("end-to-end tests need a real X display; missing: " + ", ".join(missing))
    screen = XServer(width, height)
    yield screen
    screen.stop()


@pytest.fixture(scope="session")
def office_screen() -> Iterator[XServer]:
    """The office PC's display, which the host agent shows and drives."""
    yield from _screen(*HOST_SCREEN)


@pytest.fixture(scope="session")
def home_screen() -> Iterator[XServer]:
    """The home PC's display, where the viewer's windows are."""
    yield from _screen(*HOME_SCREEN)


@pytest.fixture(scope="session")
def office_desktop(office_screen, e2e_work) -> Iterator[OfficeDesktop]:
    desktop = OfficeDesktop(office_screen, e2e_work)
    yield desktop
    desktop.stop()


@pytest.fixture(scope="session")
def programs() -> Programs:
    """How the relay, host agent and viewer are started: from this checkout (tests/packaging
    overrides it with the frozen builds)."""
    return SOURCE


@pytest.fixture(scope="session")
def relay(e2e_work, programs) -> Iterator[Relay]:
    relay = Relay(e2e_work / "relay-data", e2e_work, programs=programs)
    relay.start()
    yield relay
    relay.stop()


@pytest.fixture(scope="session")
def accounts(relay) -> Accounts:
    return Accounts.create(relay)


@pytest.fixture(scope="session")
def home_macs() -> list[str]:
    """What the viewer reports: this machine's real MACs (from /sys/class/net)."""
    macs = mac_addresses()
    if not macs:
        pytest.skip("this machine has no network interface with a MAC for the viewer to report")
    return macs


@pytest.fixture(scope="session")
def office_pc(relay, accounts, office_screen, office_desktop, home_macs, e2e_work, programs):
    """PC-01: enrolled with a token, granted to the staff user, the home PC registered."""
    agent = HostAgent(e2e_work / "host-pc01", e2e_work, "PC-01", programs)
    for mac in home_macs:
        agent.allow_mac(mac)
    try:
        host_id = agent.enrol(relay, office_screen, accounts.enrolment_token())
        accounts.grant(accounts.user, host_id)
        yield agent
    finally:
        agent.stop()
