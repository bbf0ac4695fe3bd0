"""Wake-on-LAN in the office PCs tab: each office PC's network card and whether it may wake
others are listed, and the admin lets the selected one wake others, or stops it, with a click;
the audit log says so in words."""

from __future__ import annotations

import time

import pytest
from conftest import press, settled

from apps.admin.audit_text import event_name
from apps.admin.tabs.hosts import lan_card_text
from apps.admin.texts import tr
from core.wake import LanCard
from tests.integration.relay_harness import HostAgent

CARD = LanCard.parse("02-00-5e-00-53-07", "192.0.2.7/24")


pytestmark = pytest.mark.usefixtures("japanese")  # the console as staff in Japan see it


def status(window) -> str:
    return window.statusBar().currentMessage()


def cell(tab, host_id: str, header_key: str) -> str:
    table = tab.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    return table.item(table.keys.index(host_id), headers.index(tr(header_key))).text()


def test_the_admin_lets_an_office_pc_wake_others_and_stops_it(console, live, qloop):
    run = qloop.run_until_complete
    relay, tab = live.relay, console.hosts
    reporting = live.run(HostAgent(relay).start())
    silent = live.run(HostAgent(relay).start())  # an agent that reports no network card
    try:
        directory = relay.directory
        directory.record_host_seen(reporting.host_id, time.time(), CARD)
        run(tab.refresh())
        assert tr("col_can_wake") == "他のPCを起動"
        assert cell(tab, reporting.host_id, "col_can_wake") == tr("no")
        assert cell(tab, reporting.host_id, "col_lan_card") == "02:00:5E:00:53:07  192.0.2.7/24"
        assert cell(tab, silent.host_id, "col_lan_card") == ""

        press(tab, "allow_wake")  # nothing selected: said, nothing changed
        run(settled(console))
        assert status(console) == tr("error", message=tr("select_pc_first"))

        tab.table.selectRow(tab.table.keys.index(reporting.host_id))
        press(tab, "allow_wake")
        run(settled(console))
        assert directory.get_host(reporting.host_id).can_wake
        assert not directory.get_host(silent.host_id).can_wake
        assert cell(tab, reporting.host_id, "col_can_wake") == tr("yes")
        name = tab.name_of(reporting.host_id)
        assert status(console) == tr("host_can_wake", name=name)

        tab.table.selectRow(tab.table.keys.index(reporting.host_id))
        press(tab, "stop_wake")
        run(settled(console))
        assert not directory.get_host(reporting.host_id).can_wake
        assert cell(tab, reporting.host_id, "col_can_wake") == tr("no")
        assert status(console) == tr("host_cannot_wake", name=name)
    finally:
        live.run(reporting.stop())
        live.run(silent.stop())

    run(console.audit.refresh())
    words = [
        console.audit.table.item(r, c).text()
        for r in range(console.audit.table.rowCount())
        for c in range(console.audit.table.columnCount())
    ]
    assert event_name("admin.host_can_wake") in words
    assert any(tr("detail_can_wake_yes") in w for w in words)
    assert any(tr("detail_can_wake_no") in w for w in words)


def test_a_network_card_reads_as_mac_and_address():
    assert lan_card_text({"lan_mac": "02:00:5E:00:53:07", "lan_address": "192.0.2.7/24"}) == (
        "02:00:5E:00:53:07  192.0.2.7/24"
    )
    assert lan_card_text({"lan_mac": None, "lan_address": None}) == ""
