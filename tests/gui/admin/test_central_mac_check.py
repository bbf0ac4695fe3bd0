"""The central MAC check in the office PCs tab: shown per office PC; once the central list is
empty, the admin switches it off with a click (asked first); while the list still holds a home
PC the relay refuses it as invalid input, and nothing changes."""

from __future__ import annotations

import pytest
from conftest import press, settled

from apps.admin.texts import tr
from tests.integration.relay_harness import TENANT, USER, HostAgent

HOME_MAC = "02:00:00:00:00:01"


pytestmark = pytest.mark.usefixtures("japanese")  # the console as staff in Japan see it


def cell(tab, host_id: str) -> str:
    table = tab.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    return table.item(table.keys.index(host_id), headers.index(tr("col_central_macs"))).text()


def test_the_admin_switches_an_emptied_central_mac_check_off(console, live, qloop):
    run = qloop.run_until_complete
    relay, tab = live.relay, console.hosts
    host = live.run(HostAgent(relay).start())
    try:
        directory = relay.directory
        directory.grant(TENANT, USER, host.host_id)
        (registration,) = [directory.add_mac(TENANT, HOME_MAC, login=USER)]
        run(tab.refresh())
        assert tr("col_central_macs") == "中央MACチェック"
        assert cell(tab, host.host_id) == tr("central_macs_on")

        tab.table.selectRow(tab.table.keys.index(host.host_id))
        press(tab, "central_macs_off")  # the list still holds a home PC: refused, said
        run(settled(console))
        assert directory.get_host(host.host_id).central_macs
        # Said as the API's refusals of invalid input are (the directory's words stay English).
        refused = tr("error", message=tr("api_error_invalid_input"))
        assert console.statusBar().currentMessage() == refused
        assert cell(tab, host.host_id) == tr("central_macs_on")

        directory.delete_mac(TENANT, registration.id)  # emptied: the check stays on
        assert directory.effective_policy(host.host_id)["allowed_macs"] == []
        tab.table.selectRow(tab.table.keys.index(host.host_id))
        press(tab, "central_macs_off")
        run(settled(console))
        assert not directory.get_host(host.host_id).central_macs
        assert "allowed_macs" not in directory.effective_policy(host.host_id)
        assert cell(tab, host.host_id) == tr("central_macs_unused")
        name = tab.name_of(host.host_id)
        assert console.statusBar().currentMessage() == tr("host_central_macs_off", name=name)
    finally:
        live.run(host.stop())
