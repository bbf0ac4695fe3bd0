"""The office PC as its admin sets it up: the tray app under a real window manager and system
tray, enrolled by typing the enrolment code into its first-run wizard, its icon in the tray; a
staff member's session works; it stays online for minutes and comes back after a relay restart.

It has its own relay and office display, because it restarts the relay and watches time pass.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from apps.common.enrolment_code import EnrolmentCode
from tests.e2e.rig import (
    HOST_SCREEN,
    Accounts,
    Desktop,
    HostAgent,
    Relay,
    RigError,
    Viewer,
    XServer,
    timeout,
    wait_for,
)

pytestmark = pytest.mark.x11

# The defect this guards against took the tray's office PC offline within about 30 s; two
# minutes is several relay keepalives (10 s) and garbage collections later.
STAY_ONLINE_S = 120.0
STATUS_POLL_S = 5.0
JAPANESE = {"LANG": "ja_JP.UTF-8", "LC_ALL": "ja_JP.UTF-8"}


@dataclass
class TrayOffice:
    relay: Relay
    accounts: Accounts
    screen: XServer
    desktop: Desktop
    agent: HostAgent


def type_into(screen: XServer, wid: str, *fields: str) -> None:
    """Type each text into the next field (Tab between them) and press Enter, as a person does."""
    screen.xdotool("windowactivate", "--sync", wid)
    for i, text in enumerate(fields):
        if i:
            screen.xdotool("key", "Tab")
        screen.xdotool("type", "--delay", "5", "--", text)  # "--": a token may start with "-"
    screen.xdotool("key", "Return")


def visible_windows(screen: XServer, pid: int, *criteria: str) -> set[str]:
    """The process's mapped windows (that also match ``criteria``, e.g. ``--name .``)."""
    argv = ["xdotool", "search", "--all", "--onlyvisible", "--pid", str(pid), *criteria]
    return set(screen.run(*argv, check=False).stdout.split())  # exit 1: none yet


@pytest.fixture(scope="module")
def tray_office(tmp_path_factory, home_macs) -> Iterator[TrayOffice]:
    for tool in Desktop.TOOLS:
        if shutil.which(tool) is None:
            pytest.skip(f"the tray test needs {tool} (Debian openbox, trayer, x11-utils)")
    work: Path = tmp_path_factory.mktemp("tray-office")
    relay = Relay(work / "relay-data", work)
    relay.start()
    screen = XServer(*HOST_SCREEN)
    desktop = Desktop(screen, work)
    agent = HostAgent(work / "host-tray", work, "PC-TRAY")
    try:
        accounts = Accounts.create(relay)
        agent.launch(screen, **JAPANESE)  # nothing preset: the wizard asks for everything
        assert agent.process is not None
        process = agent.process

        def wizard() -> str | None:
            return next(iter(visible_windows(screen, process.pid, "--name", ".")), None)

        wid = wait_for(wizard, 30, "the enrolment wizard", agent.tail)
        assert screen.xdotool("getwindowname", wid) == "職場PCの登録"
        code = EnrolmentCode(
            relay.address, relay.fingerprint, accounts.enrolment_token(), accounts.tenant
        )
        type_into(screen, wid, code.encode())
        agent.wait_connected(30)
        accounts.grant(accounts.user, agent.host_id)
        for mac in home_macs:
            agent.allow_mac(mac)
        yield TrayOffice(relay, accounts, screen, desktop, agent)
    finally:
        agent.stop()
        desktop.stop()
        screen.stop()
        relay.stop()


def test_the_wizard_enrols_and_the_icon_sits_in_the_system_tray(tray_office):
    process = tray_office.agent.process
    assert process is not None
    icon = wait_for(
        lambda: tray_office.desktop.docked(process.pid), 20, "the tray icon", tray_office.agent.tail
    )
    # A right click on the icon opens its menu, another window of the agent's.
    screen = tray_office.screen
    before = visible_windows(screen, process.pid)
    screen.xdotool("mousemove", "--window", icon, "5", "5")
    screen.xdotool("click", "3")
    menu = wait_for(lambda: visible_windows(screen, process.pid) - before, 10, "the tray menu")
    assert menu
    screen.xdotool("key", "Escape")


def test_a_session_works_with_the_tray_office_pc(tray_office, home_screen, tmp_path):
    office = tray_office
    viewer = Viewer(
        home_screen,
        tmp_path,
        office.relay,
        office.accounts.tenant,
        office.accounts.user,
        office.agent.host_id,
        register_on=office.agent,
    )
    try:
        viewer.wait_state("login", 30)
        viewer.type_otp(office.accounts.totp_now())
        _, showing = viewer.wait_state("showing", 60)
        assert (showing["width"], showing["height"]) == HOST_SCREEN
        wait_for(
            lambda: office.agent.status()["session"] is not None, 20, "the session on the office PC"
        )
    finally:
        viewer.stop()
    wait_for(
        lambda: office.agent.status()["session"] is None, 30, "the session's end on the office PC"
    )


@pytest.mark.timeout(300)
def test_the_tray_office_pc_stays_online_then_returns_after_a_relay_restart(tray_office):
    office = tray_office
    deadline = time.monotonic() + timeout(STAY_ONLINE_S)
    while time.monotonic() < deadline:  # the thing watched is time passing without a drop
        status = office.agent.status()
        if not status["connected"]:
            raise RigError(f"the tray's office PC went offline: {status}\n{office.agent.tail()}")
        time.sleep(STATUS_POLL_S)
    audit = office.relay.manage("audit", "--tenant", office.accounts.tenant, "--limit", "1000")
    events = [r["event"] for r in audit["records"] if r.get("host_id") == office.agent.host_id]
    assert "host_offline" not in events, events

    office.relay.kill()
    wait_for(lambda: not office.agent.status()["connected"], 40, "the office PC to see the drop")
    office.relay.start()
    office.agent.wait_connected(60)
