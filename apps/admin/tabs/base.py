"""What every tab of the console shares: the tenant-bound API call, the table, the helpers.

Each tab has async methods that do one thing (``issue_totp``, ``new_token``, ``end``...),
ask first if it cannot be undone (:meth:`Tab.confirmed`), and say that it worked in the status
bar (:meth:`MainWindow.report`); failures reach the window's signals. Buttons only read their
inputs and call them. Everything a
tab shows belongs to one tenant: answers that arrive for a tenant no longer selected are dropped
(:class:`TenantChanged`), and :meth:`Tab.forget` clears what was shown when the tenant changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from apps.admin.api import AdminClient, ApiFailure, tenant_path
from apps.admin.texts import tr
from core.crypto.certs import format_host_id
from storage.atomic import DEFAULT_FILE_MODE, write_atomically

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class TenantChanged(Exception):
    """An answer (or refusal) came for a tenant that is no longer selected: not shown."""


def when(ts: float | None) -> str:
    """A timestamp as the tables show it (local time, to the minute); "-" for never."""
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def date_edit(date: QDate) -> QDateEdit:
    """A day picker with a calendar, in the ISO form the API takes."""
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(date)
    return edit


def labelled(text: str, field: QWidget) -> QLabel:
    """The label that names ``field`` (and gives it the keyboard focus on its shortcut)."""
    label = QLabel(text)
    label.setBuddy(field)
    return label


def pc_label(host: Mapping[str, Any]) -> str:
    """An office PC as an admin recognises it: its name, then its grouped ID (names repeat)."""
    shown = str(host.get("display_id") or format_host_id(str(host["host_id"])))
    name = str(host.get("name") or "")
    return f"{name} ({shown})" if name else shown


def _plain(text: str) -> str:
    """``text`` compared as typed IDs are: case and dashes ignored."""
    return text.replace("-", "").strip().casefold()


class Picker(QComboBox):
    """One of the tenant's staff or office PCs, picked by typing any part of its name (or ID)
    and choosing from the list that narrows as one types, or from the whole list; a value typed
    whole (a login, an office PC ID) counts too. :meth:`key` is what the API takes."""

    def __init__(self, placeholder: str, widest: str = "") -> None:
        super().__init__()
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.lineEdit()
        assert line is not None
        line.setPlaceholderText(placeholder)
        completer = self.completer()
        assert completer is not None
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        # Wide enough for its hint and its longest usual choice (Japanese is twice as wide as
        # a count of characters would say), plus the arrow and the frame.
        metrics = self.fontMetrics()
        longest = max(metrics.horizontalAdvance(placeholder), metrics.horizontalAdvance(widest))
        self.setMinimumWidth(longest + 4 * metrics.horizontalAdvance(" ") + 40)

    def set_choices(self, choices: list[tuple[str, str]]) -> None:
        """The (label, key) pairs to pick from; what was typed or picked stays."""
        typed = self.currentText()
        self.blockSignals(True)
        try:
            self.clear()
            for label, key in choices:
                self.addItem(label, key)
            self.setCurrentIndex(-1)
            self.setEditText(typed)
        finally:
            self.blockSignals(False)

    def choices(self) -> list[str]:
        return [self.itemText(i) for i in range(self.count())]

    def key(self) -> str:
        """The key of the choice shown (its label, or its key typed whole); else the text."""
        text = self.currentText().strip()
        for i in range(self.count()):
            key = str(self.itemData(i))
            if text == self.itemText(i) or _plain(text) == _plain(key):
                return key
        return text

    def pick(self, key: str) -> None:
        """Show the choice with ``key``, as the user would pick it."""
        for i in range(self.count()):
            if self.itemData(i) == key:
                self.setCurrentIndex(i)
                return


# Widest a table column grows to fit its texts, in pixels.
WIDEST_COLUMN_PX = 520


# Where a row keeps the index of its key (rows move when sorted).
KEY_ROLE = Qt.ItemDataRole.UserRole


class Table(QTableWidget):
    """A read-only table of rows, one selected at a time, each row with a key. Its columns fit
    their texts whenever it is filled (see :meth:`fit_columns`): IDs and MAC addresses show
    whole, and any text cut shows whole in its tooltip.

    A ``sortable`` table sorts by the column whose heading is clicked (numbers as numbers), and
    :meth:`set_filter` shows only the rows that hold the words typed; the keys follow their
    rows, and a row filtered out is never the one acted on."""

    def __init__(
        self, headers: list[str], stretch_last: bool = False, sortable: bool = False
    ) -> None:
        super().__init__(0, len(headers))
        self.stretch_last = stretch_last
        self.setHorizontalHeaderLabels(headers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        # One line per row: a text too long for its column ends in "…" (whole in its tooltip)
        # rather than wrapping into a second line that the row's height cuts off.
        self.setWordWrap(False)
        self.setSortingEnabled(sortable)
        if sortable:
            # In the order the relay lists them until a heading is clicked; no row numbers,
            # which would follow the rows about when sorted or filtered.
            self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            self.verticalHeader().setVisible(False)
        self._keys: list[Any] = []
        self.filter_words: list[str] = []

    @property
    def keys(self) -> list[Any]:
        """The rows' keys, top to bottom as shown (sorted), filtered-out rows included."""
        return [self.key_of(r) for r in range(self.rowCount())]

    def key_of(self, row: int) -> Any:
        item = self.item(row, 0)
        index = item.data(KEY_ROLE) if item is not None else None
        return self._keys[index] if isinstance(index, int) else None

    def fill(self, rows: list[list[Any]], keys: list[Any]) -> None:
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)  # rows would move while being filled
        self.clearContents()
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                text = "" if value is None else str(value)
                item = QTableWidgetItem()
                if isinstance(value, int | float) and not isinstance(value, bool):
                    item.setData(Qt.ItemDataRole.DisplayRole, value)  # sorted as a number
                else:
                    item.setText(text)
                item.setToolTip(text)  # the whole text, should the column cut it
                if c == 0:
                    item.setData(KEY_ROLE, r)
                self.setItem(r, c, item)
        self._keys = list(keys)
        self.setSortingEnabled(sorting)  # sorts again by the column chosen, if any
        self._apply_filter()
        self.fit_columns()

    def set_filter(self, text: str) -> None:
        """Show only the rows holding every word of ``text`` (in any column, any case)."""
        self.filter_words = text.casefold().split()
        self._apply_filter()

    def _apply_filter(self) -> None:
        for r in range(self.rowCount()):
            cells = (self.item(r, c) for c in range(self.columnCount()))
            row_text = " ".join(item.text().casefold() for item in cells if item is not None)
            self.setRowHidden(r, not all(word in row_text for word in self.filter_words))
        if self.currentRow() >= 0 and self.isRowHidden(self.currentRow()):
            self.clearSelection()  # what cannot be seen is not acted on
            self.setCurrentCell(-1, -1)

    def shown_keys(self) -> list[Any]:
        """The keys of the rows on show, top to bottom."""
        return [self.key_of(r) for r in range(self.rowCount()) if not self.isRowHidden(r)]

    def fit_columns(self) -> None:
        """Each column as wide as its widest text (and heading), up to :data:`WIDEST_COLUMN_PX`:
        a longer text is cut, and shows whole in its tooltip. With ``stretch_last`` the last
        column takes the room left instead (long free text: never a sideways scroll)."""
        self.resizeColumnsToContents()
        for column in range(self.columnCount()):
            if self.columnWidth(column) > WIDEST_COLUMN_PX:
                self.setColumnWidth(column, WIDEST_COLUMN_PX)
        if self.stretch_last:
            self.horizontalHeader().setSectionResizeMode(
                self.columnCount() - 1, QHeaderView.ResizeMode.Stretch
            )

    def selected_keys(self) -> list[Any]:
        """The keys of the rows selected and on show, top to bottom as shown."""
        rows = {index.row() for index in self.selectionModel().selectedRows()}
        return [self.key_of(r) for r in sorted(rows) if not self.isRowHidden(r)]

    def selected_key(self) -> Any:
        row = self.currentRow()
        if row < 0 or self.isRowHidden(row):
            return None
        return self.key_of(row)


class Tab(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.layout_ = QVBoxLayout(self)

    @property
    def api(self) -> AdminClient:
        return self.window_.client

    async def call(
        self, method: str, *parts: object, body: Any = None, query: dict[str, Any] | None = None
    ) -> Any:
        """The API's answer at ``parts`` (each one path segment) of the selected tenant;
        :class:`TenantChanged` instead if another tenant was chosen meanwhile."""
        tenant = self.window_.tenant
        path = tenant_path(tenant, *parts)
        try:
            answer = await self.api.call(method, path, body, query)
        except ApiFailure:
            self._still_selected(tenant)  # a refusal for the old tenant is as stale as an answer
            raise
        self._still_selected(tenant)
        return answer

    def _still_selected(self, tenant: str) -> None:
        if self.window_.tenant != tenant:
            raise TenantChanged(tenant)

    def button(
        self, key: str, action: Callable[[], Awaitable[Any]], needs: str = ""
    ) -> QPushButton:
        """A button that runs ``action``; disabled, saying why, if it ``needs`` an API
        operation (a route handler's name) that the admin's role may not call."""
        button = QPushButton(tr(key))
        button.clicked.connect(lambda: self.window_.spawn(action(), by_user=True))
        if needs:
            self.limit_to_role(button, needs)
        return button

    def limit_to_role(self, button: QPushButton, operation: str) -> None:
        """Disable ``button``, saying why, if the admin's role may not call ``operation``."""
        if not self.window_.may(operation):
            button.setEnabled(False)
            button.setToolTip(tr("not_for_role", role=self.window_.role_text))

    async def confirmed(self, key: str, **values: object) -> bool:
        """Whether the user, asked the question ``key`` (filled with ``values``), goes ahead;
        :class:`TenantChanged` if another tenant was chosen meanwhile (what was asked about
        belongs to the old one)."""
        tenant = self.window_.tenant
        answer = await self.window_.confirm(tr(key, **values))
        self._still_selected(tenant)
        return answer

    async def staff_logins(self) -> list[str]:
        """The tenant's staff members' logins, as the staff tab lists them."""
        return [str(u["login"]) for u in (await self.call("GET", "staff"))["staff"]]

    async def office_pcs(self) -> list[dict[str, Any]]:
        """The tenant's office PCs, as the office PCs tab lists them."""
        return list((await self.call("GET", "hosts"))["hosts"])

    def searchable_table(self, headers: list[str]) -> Table:
        """A sortable table under a box that filters its rows as one types, both added to the
        tab (the staff, office PC, grant and home PC lists share this)."""
        table = Table(headers, sortable=True)
        search = QLineEdit()
        search.setObjectName("table_filter")
        search.setPlaceholderText(tr("table_filter_hint"))
        search.setClearButtonEnabled(True)
        search.textChanged.connect(table.set_filter)
        self.row(labelled(tr("table_filter"), search), search)
        self.layout_.addWidget(table)
        self.search = search
        return table

    def row(self, *widgets: QWidget) -> QHBoxLayout:
        line = QHBoxLayout()
        for widget in widgets:
            line.addWidget(widget)
        self.layout_.addLayout(line)
        return line

    async def export_csv(self, resource: str, query: dict[str, Any], path: Path) -> Path:
        """Save ``resource`` as the API's CSV, as filtered by ``query``."""
        text = await self.call("GET", resource, query={**query, "format": "csv"})
        # With a BOM, so Excel reads Japanese.
        write_atomically(path, text.encode("utf-8-sig"), mode=DEFAULT_FILE_MODE)
        self.window_.report(tr("saved_to", path=path))
        return path

    async def export(self, path: Path) -> Path:
        raise NotImplementedError  # the tabs that export CSV say what they export

    async def ask_export(self, suggested: str) -> None:
        """Ask where to save the tab's CSV (``suggested`` a file name), then save it there."""
        path = self.ask_save_path("export_csv", suggested, "CSV (*.csv)")
        if path is not None:
            await self.export(path)

    def ask_save_path(self, title_key: str, suggested: str, file_filter: str) -> Path | None:
        """Where the user wants a file saved; None if they cancelled."""
        name, _ = QFileDialog.getSaveFileName(self, tr(title_key), suggested, file_filter)
        return Path(name) if name else None

    async def ask_printer(self, printer: QPrinter) -> bool:
        """The print dialog for ``printer``, opened and awaited (not ``exec``: see
        :meth:`MainWindow.ask`); True if the admin pressed Print. Every printed sheet (staff
        sheets, the enrolment sheet) asks here."""
        dialog = QPrintDialog(printer, self)
        closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def finished(result: int) -> None:
            if not closed.done():
                closed.set_result(result)

        dialog.finished.connect(finished)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()
        try:
            return await closed == QDialog.DialogCode.Accepted
        finally:
            dialog.deleteLater()

    async def refresh(self) -> None:
        raise NotImplementedError

    def forget(self) -> None:
        """Forget all that was shown for the tenant (rows, secrets), not the user's filters."""
        raise NotImplementedError
