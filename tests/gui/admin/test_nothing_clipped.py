"""Nothing an admin must read or copy is cut: table columns fit IDs and MAC addresses (any
text cut shows whole in its tooltip), and address and fingerprint fields show their whole
value, in their tooltip too."""

from __future__ import annotations

import pytest
from conftest import viewer_session, wait_for
from PySide6.QtWidgets import QStyle

from apps.admin.main import LoginDialog
from apps.common.fields import shows_whole
from apps.common.i18n import set_language
from core.crypto.certs import format_host_id
from tests.integration.relay_harness import USER, HostAgent

FINGERPRINT = "0123456789abcdef" * 4


@pytest.fixture(autouse=True, params=["ja", "en"])
def language(request):
    set_language(request.param)
    yield request.param
    set_language(None)


def cells(table):
    for r in range(table.rowCount()):
        for c in range(table.columnCount()):
            yield c, table.item(r, c)


def fits(table, column: int, text: str) -> bool:
    """Whether ``text`` has room in the column: the style's text margins (as QCommonStyle
    lays out an item's text) each side, and the grid line."""
    style = table.style()
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1
    needed = table.fontMetrics().horizontalAdvance(text) + 2 * margin + 1
    return needed <= table.columnWidth(column)


def test_ids_and_mac_addresses_show_whole_and_every_cell_has_its_text_as_tooltip(
    console, live, qloop
):
    run = qloop.run_until_complete
    relay = live.relay
    console.resize(1000, 700)
    console.show()
    host = live.run(HostAgent(relay).start())
    try:
        run(console.grants.grant(USER, host.host_id))
        run(console.home_pcs.register("02-00-00-00-00-01", "login", USER, "田中 自宅PC"))
        channel, _ = live.run(viewer_session(relay, host.host_id))
        run(console.sessions.refresh())
        live.close(channel)
        wait_for(lambda: not relay.server.sessions)
    finally:
        live.run(host.stop())
    for tab in (console.hosts, console.grants, console.home_pcs, console.staff, console.audit):
        run(tab.refresh())
    shown_id = format_host_id(host.host_id)
    for table, column, text in (
        (console.hosts.table, 0, shown_id),
        (console.grants.table, 2, shown_id),
        (console.sessions.table, 2, shown_id),
        (console.home_pcs.table, 0, "02:00:00:00:00:01"),
        (console.home_pcs.table, 2, "田中 自宅PC"),
    ):
        texts = [table.item(r, column).text() for r in range(table.rowCount())]
        assert text in texts, (texts, text)
        assert fits(table, column, text), (table.columnWidth(column), text)
        header = table.horizontalHeaderItem(column).text()
        assert fits(table, column, header)
    for table in (console.hosts.table, console.audit.table, console.staff.table):
        for _, item in cells(table):
            assert item.toolTip() == item.text()


def test_the_sign_in_dialog_shows_the_whole_address_and_fingerprint(qtbot):
    dialog = LoginDialog("https://relay.example.lg.jp:8444", FINGERPRINT.upper(), "it-admin")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    for field in (dialog.url, dialog.fingerprint):
        assert shows_whole(field), field.text()
        assert field.toolTip() == field.text()
    dialog.fingerprint.setText(FINGERPRINT)
    assert dialog.fingerprint.toolTip() == FINGERPRINT


def test_the_office_pcs_tab_shows_the_whole_token_and_relay_address(console, qloop):
    console.resize(1000, 700)
    console.show()
    console.hosts.relay_address.setText("relay.example.lg.jp:8443")
    qloop.run_until_complete(console.hosts.new_token())
    for field in (console.hosts.token, console.hosts.relay_address):
        assert shows_whole(field) and field.toolTip() == field.text()
