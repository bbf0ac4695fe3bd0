"""The staff, office PC, grant and home PC lists have a filter box and sort by a clicked
column (the row acted on is always the one shown selected); the console signs out."""

from __future__ import annotations

import argparse
import asyncio

import pytest
from conftest import press, settled, until
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit

from apps.admin import main
from apps.admin.api import ApiFailure
from apps.admin.tabs.base import Table
from apps.admin.texts import tr
from tests.integration.relay_harness import TENANT, USER

OTHERS = ["sato", "suzuki", "watanabe"]


@pytest.fixture
def staying_open(qapp):
    """As the console runs: closing its window does not end the app (and the loop with it)."""
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(True)


@pytest.fixture
def staff(console, live, qloop):
    for login in OTHERS:
        live.relay.directory.add_user(TENANT, login)
    qloop.run_until_complete(console.staff.refresh())
    return console.staff


def shown(table) -> list:
    return table.shown_keys()


def test_typing_in_the_filter_box_narrows_the_list_at_once(staff, qtbot):
    search = staff.findChild(QLineEdit, "table_filter")
    assert search is staff.search and search.placeholderText() == tr("table_filter_hint")
    QTest.keyClicks(search, "SU")
    assert shown(staff.table) == ["suzuki"]
    search.clear()
    QTest.keyClicks(search, "TA na")  # every word, in any column
    assert sorted(shown(staff.table)) == ["tanaka", "watanabe"]
    search.clear()
    assert sorted(shown(staff.table)) == sorted([USER, *OTHERS])


def test_a_selected_row_filtered_out_is_not_acted_on(staff, console, live, qloop):
    staff.table.selectRow(staff.table.keys.index("sato"))
    assert staff.table.selected_key() == "sato"
    staff.search.setText("suzuki")
    assert staff.table.selected_key() is None
    press(staff, "delete")  # nothing selected that can be seen: nothing deleted
    qloop.run_until_complete(settled(console))
    assert live.relay.directory.get_user(TENANT, "sato") is not None
    assert tr("select_staff_first") in console.statusBar().currentMessage()


def click_heading(table, column: int) -> None:
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    at = QPoint(x, header.height() // 2)
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), at)


def test_a_click_on_a_heading_sorts_and_the_keys_follow_their_rows(staff, console, qloop):
    console.show()
    everyone = sorted([USER, *OTHERS])
    click_heading(staff.table, 0)
    assert staff.table.keys == everyone
    click_heading(staff.table, 0)
    assert staff.table.keys == everyone[::-1]
    staff.table.selectRow(staff.table.keys.index("suzuki"))
    assert staff.table.selected_key() == "suzuki"
    assert staff.table.item(staff.table.currentRow(), 0).text() == "suzuki"
    # A refresh keeps the order chosen and the filter typed.
    staff.search.setText("s")
    qloop.run_until_complete(staff.refresh())
    assert staff.table.keys == everyone[::-1]
    assert all("s" in key for key in shown(staff.table))


def test_the_four_lists_are_searchable_and_sortable(console):
    for tab in (console.staff, console.hosts, console.grants, console.home_pcs):
        assert tab.findChild(QLineEdit, "table_filter") is tab.search
        assert tab.table.isSortingEnabled()


def test_numbers_sort_as_numbers(qtbot):
    table = Table(["n"], sortable=True)
    qtbot.addWidget(table)
    table.fill([[10], [9], [100]], ["ten", "nine", "hundred"])
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert table.keys == ["nine", "ten", "hundred"]


def test_sign_out_ends_the_sign_in_and_clears_the_window(console, qloop, staying_open):
    run = qloop.run_until_complete
    console.show()
    run(console.staff.refresh())
    run(console.staff.issue_totp(USER))
    assert console.staff.qr is not None
    token = console.client.token
    closed = []
    console.closed.connect(lambda: closed.append(True))
    console.sign_out_button.click()
    run(settled(console))
    assert closed == [True] and not console.isVisible() and console.signed_out
    assert console.staff.qr is None and console.staff.table.rowCount() == 0
    assert not console.live_timer.isActive()
    console.client.token = token  # the old sign-in is no longer any good on the relay
    with pytest.raises(ApiFailure) as refused:
        run(console.client.call("GET", "/api/v1/tenants"))
    assert refused.value.status == 401
    console.client.token = ""


def test_after_signing_out_the_console_asks_for_a_sign_in_again(
    console, qloop, monkeypatch, staying_open
):
    run = qloop.run_until_complete
    asked: list[tuple[str, str, str]] = []

    async def sign_in(dialog):
        asked.append((dialog.url.text(), dialog.fingerprint.text(), dialog.login.text()))
        return console if len(asked) == 1 else None  # then the admin cancels

    monkeypatch.setattr(main, "sign_in", sign_in)
    args = argparse.Namespace(api="", fingerprint="", login="")
    running = asyncio.ensure_future(main._run(None, args))
    run(until(console.isVisible))
    console.sign_out_button.click()
    assert run(running) == 0
    assert asked[1] == (console.client.url, console.client.fingerprint, "alice")
