"""A yes/no question asked before something that cannot be undone, No by default.

The box is opened (window-modal), never run with ``exec``: a nested Qt event loop would stop
qasync from running the apps' other tasks (the console's live refresh, the viewer's session)
while the question waits. The answer comes to a callback: True only when the Yes button was
clicked; No, Escape and closing the box all mean no.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget


def open_question(
    parent: QWidget,
    title: str,
    question: str,
    answered: Callable[[bool], None],
    yes_text: str = "",
    no_text: str = "",
) -> QMessageBox:
    """Open the question over ``parent``; ``answered`` is called once, when it is closed.
    ``yes_text`` and ``no_text`` name the buttons by what they do (else Qt's Yes and No)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    if yes_text:
        box.button(QMessageBox.StandardButton.Yes).setText(yes_text)
    if no_text:
        box.button(QMessageBox.StandardButton.No).setText(no_text)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(QMessageBox.StandardButton.No)
    done = False

    def finished(_: int) -> None:
        nonlocal done
        if done:
            return
        done = True
        answered(box.clickedButton() is box.button(QMessageBox.StandardButton.Yes))
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
    return box
