"""The staff tab's CSV import: pick a file, see each row's outcome before anything is written
(new, already there, invalid and why), then add the new ones with a progress bar, a summary at
the end, and their sheets printed in one job.

Each row is its own add-staff call to the admin API, as the staff tab's 「追加」 makes: the relay
commits each staff member with its audit record, a refused row stops nothing, and the progress
bar follows the calls. The TOTP secrets of those added stay in this dialog (to print their
sheets) until it is closed or the tenant changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from apps.admin.api import ApiFailure
from apps.admin.failures import describe_failure
from apps.admin.staff_csv import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    CsvRefused,
    Outcome,
    StaffRow,
    against,
    decode,
    read_rows,
)
from apps.admin.tabs.base import Table
from apps.admin.texts import tr

if TYPE_CHECKING:
    from apps.admin.tabs.staff import StaffTab

_OUTCOME_KEYS = {Outcome.NEW: "import_new", Outcome.EXISTS: "import_exists"}


class ImportDialog(QDialog):
    def __init__(self, tab: StaffTab) -> None:
        super().__init__(tab)
        self.tab = tab
        self.setWindowTitle(tr("import_title"))
        self.setWindowModality(Qt.WindowModality.NonModal)
        layout = QVBoxLayout(self)
        about = QLabel(tr("import_about", maximum=MAX_IMPORT_ROWS))
        about.setWordWrap(True)
        layout.addWidget(about)
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        layout.addWidget(self.file_label)
        self.table = Table(
            [
                tr("col_line"),
                tr("col_login"),
                tr("col_full_name"),
                tr("col_department"),
                tr("col_outcome"),
            ],
            stretch_last=True,
            sortable=True,
        )
        layout.addWidget(self.table)
        self.progress = QProgressBar()
        layout.addWidget(self.progress)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.choose_button = self._button("import_choose_file", self.choose_file)
        self.import_button = self._button("import_start", self.run_import)
        self.print_button = self._button("import_print_sheets", self.print_sheets)
        close = QPushButton(tr("import_close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.choose_button, self.import_button, self.print_button, close):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.resize(900, 600)
        self.rows: list[StaffRow] = []
        self.results: dict[int, str] = {}  # line -> what importing it did (translated)
        self.added: list[dict[str, Any]] = []  # the answers adding them: their secrets
        self._reset()

    def _button(self, key: str, action: Any) -> QPushButton:
        button = QPushButton(tr(key))
        button.clicked.connect(lambda: self.tab.window_.spawn(action(), by_user=True))
        return button

    def _reset(self) -> None:
        self.rows, self.results, self.added = [], {}, []
        self.progress.reset()
        self.summary.clear()
        self.import_button.setEnabled(False)
        self.print_button.setEnabled(False)
        self._show_rows()

    def ask_path(self) -> Path | None:
        """The file the admin picks; None if they cancelled (tests replace this)."""
        name, _ = QFileDialog.getOpenFileName(
            self, tr("import_title"), "", tr("import_file_filter")
        )
        return Path(name) if name else None

    async def choose_file(self) -> None:
        path = self.ask_path()
        if path is not None:
            await self.load(path)

    async def load(self, path: Path) -> list[StaffRow]:
        """Read ``path`` and show each row's outcome; nothing is sent. A file that cannot be
        read as a whole says why (in the window's status bar) and shows no rows."""
        self._reset()
        self.file_label.clear()
        with path.open("rb") as file:
            data = file.read(MAX_IMPORT_BYTES + 1)  # decode refuses what is too large
        try:
            text, encoding = decode(data)
            rows = read_rows(text)
        except CsvRefused as exc:
            self.summary.setText(str(exc))
            raise
        self.file_label.setText(tr("import_file", path=path, encoding=encoding))
        existing = await self.tab.staff_logins()
        self.rows = against(rows, existing)
        counts = {outcome: 0 for outcome in Outcome}
        for row in self.rows:
            counts[row.outcome] += 1
        self.summary.setText(
            tr(
                "import_preview",
                new=counts[Outcome.NEW],
                exists=counts[Outcome.EXISTS],
                invalid=counts[Outcome.INVALID],
            )
        )
        self.import_button.setEnabled(counts[Outcome.NEW] > 0)
        self._show_rows()
        return self.rows

    def _outcome_text(self, row: StaffRow) -> str:
        if row.line in self.results:
            return self.results[row.line]
        if row.outcome is Outcome.INVALID:
            return tr("import_invalid", reason=row.reason)
        return tr(_OUTCOME_KEYS[row.outcome])

    def _show_rows(self) -> None:
        self.table.fill(
            [
                [row.line, row.login, row.full_name, row.department, self._outcome_text(row)]
                for row in self.rows
            ],
            [row.line for row in self.rows],
        )

    async def run_import(self) -> list[dict[str, Any]]:
        """Add each new row's staff member, one call each: a refused row is marked with the
        reason and the rest go on. The answers (with their TOTP secrets) of those added."""
        new = [row for row in self.rows if row.outcome is Outcome.NEW]
        if not new:
            self.summary.setText(tr("import_nothing_new"))
            return []
        self.import_button.setEnabled(False)  # once: a second run would find them all there
        self.choose_button.setEnabled(False)
        self.progress.setRange(0, len(new))
        self.progress.setValue(0)
        failed = 0
        for done, row in enumerate(new, start=1):
            try:
                answer = await self.tab.call("POST", "staff", body=row.body())
            except ApiFailure as exc:
                failed += 1
                self.results[row.line] = tr("import_failed", reason=describe_failure(exc))
            else:
                self.added.append(answer)
                self.tab.people[answer["login"]] = answer
                self.results[row.line] = tr("import_added")
            self.progress.setValue(done)
            self._show_rows()
        self.choose_button.setEnabled(True)
        self.print_button.setEnabled(bool(self.added))
        summary = tr(
            "import_summary",
            added=len(self.added),
            failed=failed,
            exists=sum(row.outcome is Outcome.EXISTS for row in self.rows),
            invalid=sum(row.outcome is Outcome.INVALID for row in self.rows),
        )
        self.summary.setText(summary)
        self.tab.window_.report(summary)
        await self.tab.refresh()
        return self.added

    async def print_sheets(self) -> bool:
        """The sheets of those added, in one job (the print dialog; a PDF file among its
        printers), a page each; False if the admin cancelled."""
        return await self.tab.print_chosen(await self.tab.sheets_for(self.added))

    def closeEvent(self, event: QCloseEvent) -> None:
        self._reset()  # their secrets leave the screen and the memory with the dialog
        self.file_label.clear()
        super().closeEvent(event)
