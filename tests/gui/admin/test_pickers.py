"""Grants and home PCs are set with pickers over the tenant's staff and office PCs (typing part
of a name narrows the list), and office PCs show by name in grants and live sessions."""

from __future__ import annotations

from conftest import press, settled, viewer_session, wait_for
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from core.crypto.certs import format_host_id
from tests.integration.relay_harness import TENANT, USER, HostAgent

PC_NAME = "税務課 窓口1"


def type_into(picker, text: str) -> None:
    """Type ``text`` as a person does: ASCII key by key, Japanese committed by the IME."""
    line = picker.lineEdit()
    picker.setFocus()
    line.clear()
    if text.isascii():
        QTest.keyClicks(line, text)
    else:
        event = QInputMethodEvent()
        event.setCommitString(text)
        QApplication.sendEvent(line, event)


def suggestions(picker) -> list[str]:
    """What the picker's list offers for the text typed so far."""
    completer = picker.completer()
    model = completer.completionModel()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def column(table, c: int) -> list[str]:
    return [table.item(r, c).text() for r in range(table.rowCount())]


def test_a_grant_is_made_by_picking_the_staff_member_and_the_office_pc_by_name(
    console, live, qloop
):
    run = qloop.run_until_complete
    relay = live.relay
    relay.directory.add_user(TENANT, "sato")
    console.show()
    host, other = live.run(HostAgent(relay).start()), live.run(HostAgent(relay).start())
    try:
        run(console.hosts.refresh())
        run(console.hosts.rename(host.host_id, PC_NAME))
        grants = console.grants
        run(grants.refresh())
        assert sorted(grants.login.choices()) == sorted([USER, "sato"])
        label = f"{PC_NAME} ({format_host_id(host.host_id)})"
        assert label in grants.host.choices() and len(grants.host.choices()) == 2

        type_into(grants.host, "窓口")  # part of the name narrows the list to that PC
        assert suggestions(grants.host) == [label]
        grants.host.setEditText(label)  # chosen from the list
        type_into(grants.login, "sat")
        assert suggestions(grants.login) == ["sato"]
        grants.login.setEditText("sato")
        press(grants, "grant")
        run(settled(console))
        assert ("sato", host.host_id) in relay.directory.list_grants(TENANT)
        # The office PC by its name, its ID beside it; the status bar names it too.
        (row,) = [r for r in range(grants.table.rowCount()) if column(grants.table, 0)[r] == "sato"]
        assert grants.table.item(row, 1).text() == PC_NAME
        assert grants.table.item(row, 2).text() == format_host_id(host.host_id)
        assert PC_NAME in console.statusBar().currentMessage()

        # A live session: the office PC by name there too.
        run(grants.grant(USER, host.host_id))
        channel, _ = live.run(viewer_session(relay, host.host_id))
        run(console.sessions.refresh())
        assert column(console.sessions.table, 1) == [PC_NAME]
        assert console.sessions.described(console.sessions.sessions[0]["session_id"]) == (
            USER,
            label,
        )
        live.close(channel)
        wait_for(lambda: not relay.server.sessions)
    finally:
        live.run(host.stop())
        live.run(other.stop())


def test_an_office_pc_id_typed_whole_still_counts(console, live, qloop):
    run = qloop.run_until_complete
    host = live.run(HostAgent(live.relay).start())
    try:
        run(console.grants.refresh())
        console.grants.host.setEditText(format_host_id(host.host_id).lower())
        assert console.grants.host.key() == host.host_id
        console.grants.host.setEditText("not-a-pc")
        assert console.grants.host.key() == "not-a-pc"  # the API says what is wrong
    finally:
        live.run(host.stop())


def test_a_home_pcs_owner_is_picked_from_the_staff_or_the_office_pcs(console, live, qloop):
    run = qloop.run_until_complete
    relay = live.relay
    host = live.run(HostAgent(relay).start())
    try:
        run(console.hosts.refresh())
        run(console.hosts.rename(host.host_id, PC_NAME))
        home = console.home_pcs
        run(home.refresh())
        assert home.owner.choices() == [USER]
        home.kind.setCurrentIndex(home.kind.findData("host_id"))
        label = f"{PC_NAME} ({format_host_id(host.host_id)})"
        assert home.owner.choices() == [label]
        home.owner.pick(host.host_id)
        home.mac.setText("02-00-00-00-00-09")
        press(home, "add")
        run(settled(console))
        (registered,) = relay.directory.list_macs(TENANT)
        assert registered.host_id == host.host_id
        assert column(home.table, 1) == [label]  # whose: the office PC by name
        home.kind.setCurrentIndex(home.kind.findData("login"))
        assert home.owner.choices() == [USER]
    finally:
        live.run(host.stop())


def test_the_pickers_are_emptied_when_the_tenant_changes(console, live, qloop):
    run = qloop.run_until_complete
    run(console.grants.refresh())
    assert console.grants.login.choices() == [USER]
    console.grants.forget()
    assert console.grants.login.choices() == [] and console.grants.host.choices() == []
