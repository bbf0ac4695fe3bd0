"""Key and mouse events in the remote view become the right session messages."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QKeyEvent, QWheelEvent
from PySide6.QtTest import QTest

from apps.viewer.keymap import SCANCODES_ARE_SET1
from apps.viewer.session_core import Picture
from apps.viewer.session_window import SessionWindow
from apps.viewer.texts import Texts
from core.protocol.session import (
    Button,
    Key,
    Modifier,
    MouseButton,
    Pointer,
    SpecialKey,
    SpecialKeys,
    Wheel,
)

PIC_W, PIC_H = 640, 400


@pytest.fixture
def window(qtbot):
    window = SessionWindow(Texts("en"))
    qtbot.addWidget(window)
    window.show_picture(Picture(np.zeros((PIC_H, PIC_W, 4), np.uint8), 0))
    window.set_fit(False)  # 1:1, so view coordinates are picture coordinates (dpr 1)
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    window.view.setFocus()
    sent: list = []
    window.inputMessage.connect(sent.append)
    window.sent = sent
    return window


def keys(sent):
    return [(m.down, m.keysym, m.modifiers) for m in sent if isinstance(m, Key)]


def press_and_release(view, key, modifiers=Qt.KeyboardModifier.NoModifier, text="", scan=0):
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QGuiApplication.sendEvent(view, QKeyEvent(kind, key, modifiers, scan, 0, 0, text))


@pytest.mark.parametrize(
    ("qt_key", "keysym"),
    [
        (Qt.Key.Key_Zenkaku_Hankaku, 0xFF2A),
        (Qt.Key.Key_Henkan, 0xFF23),
        (Qt.Key.Key_Muhenkan, 0xFF22),
        (Qt.Key.Key_Hiragana_Katakana, 0xFF27),
        (Qt.Key.Key_Eisu_toggle, 0xFF30),
        (Qt.Key.Key_Kanji, 0xFF21),
        (Qt.Key.Key_yen, 0x00A5),
        (Qt.Key.Key_Backslash, 0x005C),
        (Qt.Key.Key_Meta, 0xFFEB),
        (Qt.Key.Key_Tab, 0xFF09),
        (Qt.Key.Key_Escape, 0xFF1B),
        (Qt.Key.Key_F5, 0xFFC2),
    ],
)
def test_keys_go_out_as_x11_keysyms(window, qt_key, keysym):
    press_and_release(window.view, qt_key, scan=100)
    assert [(m.down, m.keysym) for m in window.sent] == [(True, keysym), (False, keysym)]
    assert window.sent[0].scancode == (100 if SCANCODES_ARE_SET1 else 0)


def test_typing_sends_keysym_modifiers_and_text(window):
    QTest.keyClick(window.view, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier, 0)
    shift_down, down, up, shift_up = window.sent
    assert (shift_down.down, shift_down.keysym) == (True, 0xFFE1)
    assert (down.down, down.keysym, down.modifiers) == (True, ord("a"), Modifier.SHIFT)
    assert down.text.lower() == "a"
    assert (up.down, up.keysym) == (False, ord("a"))
    assert (shift_up.down, shift_up.keysym) == (False, 0xFFE1)


def test_alt_tab_and_tab_stay_in_the_view(window):
    QTest.keyClick(window.view, Qt.Key.Key_Tab, Qt.KeyboardModifier.AltModifier)
    assert keys(window.sent)[1:3] == [(True, 0xFF09, Modifier.ALT), (False, 0xFF09, Modifier.ALT)]
    assert [m.keysym for m in window.sent] == [0xFFE9, 0xFF09, 0xFF09, 0xFFE9]  # Alt_L around
    assert window.view.hasFocus()


def test_print_screen_is_swallowed(window):
    press_and_release(window.view, Qt.Key.Key_Print)
    assert window.sent == []


def test_ctrl_c_and_ctrl_v_are_keys_for_the_office_pc_and_leave_the_clipboard_alone(window):
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("home secret")
    ctrl = Qt.KeyboardModifier.ControlModifier
    QTest.keyClick(window.view, Qt.Key.Key_C, ctrl)
    QTest.keyClick(window.view, Qt.Key.Key_V, ctrl)
    letters = [k for k in keys(window.sent) if k[1] < 0x100]
    assert letters == [
        (True, ord("c"), Modifier.CONTROL),
        (False, ord("c"), Modifier.CONTROL),
        (True, ord("v"), Modifier.CONTROL),
        (False, ord("v"), Modifier.CONTROL),
    ]
    assert [k[1] for k in keys(window.sent)].count(0xFFE3) == 4  # Control_L down/up, twice
    assert all(m.text == "" for m in window.sent)  # control characters are not "text"
    assert clipboard.text() == "home secret"


def test_release_uses_the_keysym_of_its_press(window):
    view = window.view
    shift = Qt.KeyboardModifier.ShiftModifier
    QGuiApplication.sendEvent(
        view, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_At, shift, 11, 0, 0, "@")
    )
    QGuiApplication.sendEvent(
        view,
        QKeyEvent(
            QEvent.Type.KeyRelease, Qt.Key.Key_2, Qt.KeyboardModifier.NoModifier, 11, 0, 0, "2"
        ),
    )
    assert keys(window.sent) == [(True, ord("@"), Modifier.SHIFT), (False, ord("@"), 0)]


def test_losing_focus_releases_held_keys(window, qtbot):
    QGuiApplication.sendEvent(
        window.view,
        QKeyEvent(
            QEvent.Type.KeyPress, Qt.Key.Key_Control, Qt.KeyboardModifier.ControlModifier, 37, 0, 0
        ),
    )
    window.view.clearFocus()
    assert [(m.down, m.keysym) for m in window.sent] == [(True, 0xFFE3), (False, 0xFFE3)]


def test_mouse_maps_to_picture_coordinates(window):
    view = window.view
    QTest.mouseMove(view, QPoint(100, 50))
    QTest.mousePress(
        view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 50)
    )
    QTest.mouseRelease(
        view, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 200)
    )
    assert Pointer(100, 50) in window.sent
    assert Button(MouseButton.LEFT, True, 100, 50) in window.sent
    assert Button(MouseButton.RIGHT, False, 300, 200) in window.sent


def test_fit_mode_scales_pointer_to_the_picture(window, qtbot):
    window.set_fit(True)
    view = window.view
    qtbot.waitUntil(lambda: view.width() > PIC_W)
    where = view.placement()
    scale = where.width / PIC_W
    assert where.height / PIC_H == pytest.approx(scale)  # aspect kept
    assert scale != 1.0
    at = QPoint(round(where.x + 100.5 * scale), round(where.y + 50.5 * scale))
    QTest.mouseMove(view, at)
    assert window.sent[-1] == Pointer(100, 50)


def test_wheel_goes_in_120ths(window):
    event = QWheelEvent(
        QPointF(10, 10),
        QPointF(10, 10),
        QPoint(0, 0),
        QPoint(0, -240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QGuiApplication.sendEvent(window.view, event)
    assert window.sent == [Wheel(0, -240)]


def test_ctrl_alt_del_menu_action(window):
    window.action_cad.trigger()
    assert window.sent == [SpecialKeys(SpecialKey.CTRL_ALT_DEL)]


def test_view_only_sends_nothing(window):
    window.action_view_only.setChecked(True)
    QTest.keyClick(window.view, Qt.Key.Key_A)
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert window.sent == []


def test_drops_are_refused(window):
    data = QMimeData()
    data.setText("a file")
    data.setUrls([QUrl.fromLocalFile("/tmp/secret.docx")])
    for target in (window.view, window):
        enter = QDragEnterEvent(
            QPointF(10, 10),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QGuiApplication.sendEvent(target, enter)
        assert not enter.isAccepted()
        drop = QDropEvent(
            QPointF(10, 10),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QGuiApplication.sendEvent(target, drop)
        assert not drop.isAccepted()
    assert not window.acceptDrops() and not window.view.acceptDrops()
    assert window.sent == []


def test_full_screen_hotkey_is_not_sent(window):
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    QTest.keyClick(window.view, Qt.Key.Key_Return, mods)
    assert window.isFullScreen()
    assert all(m.keysym != 0xFF0D for m in window.sent if isinstance(m, Key))
