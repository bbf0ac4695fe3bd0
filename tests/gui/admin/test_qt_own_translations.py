"""Qt's own words (standard buttons, the file dialog) follow the app's language at start-up."""

from __future__ import annotations

from PySide6.QtCore import QTranslator
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog

from apps.admin.main import LoginDialog
from apps.common.qt_startup import start_app


def cancel_text(widget) -> str:
    return widget.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Cancel).text()


def test_standard_buttons_and_the_file_dialog_read_japanese(qapp, qtbot):
    try:
        assert start_app(qapp, "telework-admin", "ja") == "ja"
        assert not qapp.windowIcon().isNull()
        dialog = LoginDialog()
        qtbot.addWidget(dialog)
        assert cancel_text(dialog) == "キャンセル"
        files = QFileDialog(None, "CSV")
        files.setOption(QFileDialog.Option.DontUseNativeDialog)
        qtbot.addWidget(files)
        assert cancel_text(files) == "キャンセル"
    finally:
        for translator in qapp.findChildren(QTranslator):
            qapp.removeTranslator(translator)
            translator.deleteLater()
    english = LoginDialog()
    qtbot.addWidget(english)
    assert cancel_text(english) == "Cancel"
