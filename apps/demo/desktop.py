"""A small office desktop for the demo's virtual screen: a document, a sheet and a clock.

Run on the office PC's (virtual) display so that the viewer has something real to show and
to type into. ``python -m apps.demo.desktop`` with DISPLAY set.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QDateTime, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

DOCUMENT = """\
令和8年度 住民サービス改善計画（案）

1. 窓口の待ち時間を短縮する。オンライン申請を拡大し、来庁不要の手続きを増やす。
2. テレワークの推進：自宅から庁内の端末を安全に操作できる環境を整える。

Draft: improve resident services in fiscal 2026. Expand online applications and
let staff work from home securely through the screen-transfer service.

Type here — the keys go to this office PC; its screen comes back as video.
"""
SHEET = [
    ("手続き / Procedure", "件数 / Count", "平均待ち(分) / Wait (min)"),
    ("住民票 / Residence certificate", "1,204", "12"),
    ("印鑑登録 / Seal registration", "318", "18"),
    ("転入届 / Moving in", "452", "25"),
    ("マイナンバー / My Number card", "987", "31"),
]


class Desktop(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Office PC — demo desktop")
        font = QFont("Noto Sans CJK JP", 12)
        self.document = QPlainTextEdit(DOCUMENT)
        self.document.setFont(font)
        self.sheet = QTableWidget(len(SHEET) - 1, len(SHEET[0]))
        self.sheet.setHorizontalHeaderLabels(list(SHEET[0]))
        for row, values in enumerate(SHEET[1:]):
            for column, value in enumerate(values):
                self.sheet.setItem(row, column, QTableWidgetItem(value))
        self.sheet.resizeColumnsToContents()
        self.clock = QLabel()
        self.clock.setFont(QFont("Noto Sans CJK JP", 14))
        splitter = QSplitter()
        splitter.addWidget(self.document)
        splitter.addWidget(self.sheet)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(splitter)
        layout.addWidget(self.clock)
        self.setCentralWidget(body)
        self._tick()
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.clock.setText(QDateTime.currentDateTime().toString("yyyy-MM-dd HH:mm:ss"))


def main() -> int:
    app = QApplication(sys.argv)
    desktop = Desktop()
    desktop.setGeometry(0, 0, 1280, 800)
    desktop.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
