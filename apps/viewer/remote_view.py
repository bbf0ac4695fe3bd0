"""The office PC's picture on screen: the view that paints it, its cursor and the watermark.

It turns Qt's keyboard and mouse events into session messages through the pure helpers
(:mod:`apps.viewer.keymap`, :mod:`apps.viewer.geometry`) and hands them out only as a signal.
It accepts no drop, has no context menu and never gives the picture away.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from apps.viewer import geometry
from apps.viewer.keymap import KeyInput, KeyTracker
from apps.viewer.session_core import Picture
from core.media.cursor import CursorShape, CursorState
from core.protocol.session import Button, Key, MouseButton, Pointer, Wheel

QT_BUTTONS = {
    Qt.MouseButton.LeftButton: MouseButton.LEFT,
    Qt.MouseButton.RightButton: MouseButton.RIGHT,
    Qt.MouseButton.MiddleButton: MouseButton.MIDDLE,
    Qt.MouseButton.BackButton: MouseButton.BACK,
    Qt.MouseButton.ForwardButton: MouseButton.FORWARD,
}
WATERMARK_ALPHA = 56  # visible on a photo, faint enough to read through
WATERMARK_ANGLE = -25.0
WATERMARK_POINT_SIZE = 13
GRAB_PLATFORMS = ("xcb",)  # where grabbing the keyboard is what captures Alt+Tab


def _full_screen_hotkey(event: QKeyEvent) -> bool:
    """Ctrl+Alt+Enter toggles full screen (as in Windows' remote desktop) and is not sent."""
    mods = event.modifiers()
    return (
        event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        and bool(mods & Qt.KeyboardModifier.ControlModifier)
        and bool(mods & Qt.KeyboardModifier.AltModifier)
    )


class RemoteView(QWidget):
    """The office PC's picture, its cursor and the watermark; captures keyboard and mouse."""

    inputMessage = Signal(object)  # Key | Pointer | Button | Wheel
    fullScreenToggled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAcceptDrops(False)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)  # keys go raw
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setCursor(Qt.CursorShape.BlankCursor)  # the office PC's cursor is drawn instead
        self.view_only = False
        self.fit = True
        self.watermark: list[str] = []
        self._array: np.ndarray | None = None  # keeps the buffer the QImage wraps alive
        self._image: QImage | None = None
        self._cursor: CursorState | None = None
        self._cursor_images: dict[int, QImage] = {}
        self._keys = KeyTracker()
        self._last_pointer: tuple[int, int] | None = None

    # ----- what to show ------------------------------------------------------------------
    @property
    def picture_size(self) -> tuple[int, int]:
        if self._image is None:
            return (0, 0)
        return (self._image.width(), self._image.height())

    def set_picture(self, picture: Picture) -> None:
        """Show a decoded picture; the QImage wraps the array, no copy is made."""
        array = picture.image
        h, w = array.shape[:2]
        resized = (w, h) != self.picture_size
        self._array = array
        self._image = QImage(array.data, w, h, array.strides[0], QImage.Format.Format_RGB32)
        if resized:
            self._update_size()
        self.update()

    def clear_picture(self) -> None:
        self._array = self._image = None
        self.update()

    def set_fit(self, fit: bool) -> None:
        self.fit = fit
        self._update_size()
        self.update()

    def set_cursor(self, cursor: CursorState) -> None:
        self._cursor = cursor
        self.update()

    def set_watermark(self, lines: list[str]) -> None:
        self.watermark = lines
        self.update()

    def _update_size(self) -> None:
        w, h = self.picture_size
        if self.fit or not w:
            self.setMinimumSize(0, 0)
            self.setMaximumSize(16_777_215, 16_777_215)
        else:
            self.setFixedSize(*geometry.natural_size(w, h, self.devicePixelRatioF()))

    def placement(self) -> geometry.Placement:
        w, h = self.picture_size
        return geometry.placement(
            self.width(), self.height(), w, h, self.devicePixelRatioF(), self.fit
        )

    # ----- painting ----------------------------------------------------------------------
    def paintEvent(self, event: QEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(32, 32, 32))
        if self._image is not None:
            where = self.placement()
            target = QRectF(where.x, where.y, where.width, where.height)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.fit)
            painter.drawImage(target, self._image)
            self._paint_cursor(painter, where)
        if self.watermark:
            self._paint_watermark(painter)
        painter.end()

    def _paint_cursor(self, painter: QPainter, where: geometry.Placement) -> None:
        cursor = self._cursor
        if cursor is None or cursor.position is None or not cursor.position.visible:
            return
        pic_w, pic_h = self.picture_size
        sx, sy = where.width / pic_w, where.height / pic_h
        x = where.x + cursor.position.x * sx
        y = where.y + cursor.position.y * sy
        shape = cursor.shape
        if shape is None:
            painter.setPen(QColor(0, 0, 0))
            painter.setBrush(QColor(255, 255, 255))
            arrow = [(0, 0), (0, 16), (4, 12), (8, 19), (10, 18), (6, 11), (11, 11)]
            painter.drawPolygon(QPolygonF([QPointF(x + ax, y + ay) for ax, ay in arrow]))
            return
        image = self._cursor_image(shape)
        painter.drawImage(
            QRectF(x - shape.hot_x * sx, y - shape.hot_y * sy, shape.width * sx, shape.height * sy),
            image,
        )

    def _cursor_image(self, shape: CursorShape) -> QImage:
        image = self._cursor_images.get(shape.shape_id)
        if image is None:
            # Premultiplied BGRA bytes (as XFixes gives them) are QImage's
            # ARGB32_Premultiplied on little-endian machines; copy once, cursors are small and
            # the bytes object may go away.
            image = QImage(
                shape.pixels,
                shape.width,
                shape.height,
                shape.width * 4,
                QImage.Format.Format_ARGB32_Premultiplied,
            ).copy()
            if len(self._cursor_images) > 64:
                self._cursor_images.clear()
            self._cursor_images[shape.shape_id] = image
        return image

    def _paint_watermark(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSize(WATERMARK_POINT_SIZE)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        line_h = metrics.height()
        block_w = max(metrics.horizontalAdvance(line) for line in self.watermark) + 80
        block_h = line_h * len(self.watermark) + 70
        painter.save()
        painter.translate(self.width() / 2, self.height() / 2)
        painter.rotate(WATERMARK_ANGLE)
        reach = int((self.width() ** 2 + self.height() ** 2) ** 0.5 / 2) + int(block_w)
        shadow, light = QColor(0, 0, 0, WATERMARK_ALPHA), QColor(255, 255, 255, WATERMARK_ALPHA)
        row = 0
        y: float = -reach
        while y < reach:
            x = -reach + (block_w / 2 if row % 2 else 0)
            while x < reach:
                for i, line in enumerate(self.watermark):
                    base = QPointF(x, y + i * line_h)
                    painter.setPen(shadow)
                    painter.drawText(base + QPointF(1, 1), line)
                    painter.setPen(light)
                    painter.drawText(base, line)
                x += block_w
            y += block_h
            row += 1
        painter.restore()

    # ----- keyboard ----------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # every key is for the office PC, none is a shortcut here
            return True
        if (
            kind == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
        ):
            self.keyPressEvent(event)  # Tab must not move focus out of the view
            return True
        return super().event(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        event.accept()
        if _full_screen_hotkey(event):
            if not event.isAutoRepeat():
                self.fullScreenToggled.emit()
            return
        self._key(event, down=True)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        event.accept()
        self._key(event, down=False)

    def _key(self, event: QKeyEvent, down: bool) -> None:
        message = self._keys.event(
            KeyInput(
                key=int(event.key()),
                modifiers=event.modifiers().value,
                scancode=event.nativeScanCode(),
                text=event.text(),
                down=down,
                autorepeat=event.isAutoRepeat(),
            )
        )
        if message is not None:
            self._emit(message)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if QGuiApplication.platformName() in GRAB_PLATFORMS and self.isActiveWindow():
            self.grabKeyboard()  # so Alt+Tab and the Windows key reach the office PC

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.releaseKeyboard()
        for release in self._keys.release_all():  # no key stays stuck on the office PC
            self._emit(release)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and not self.isActiveWindow():
            self.releaseKeyboard()

    # ----- mouse -------------------------------------------------------------------------
    def _picture_pos(self, pos: QPointF, clamp: bool = False) -> tuple[int, int] | None:
        w, h = self.picture_size
        mapper = geometry.clamp_to_picture if clamp else geometry.to_picture
        return mapper(pos.x(), pos.y(), self.placement(), w, h)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        event.accept()
        at = self._picture_pos(event.position(), clamp=event.buttons() != Qt.MouseButton.NoButton)
        if at is not None and at != self._last_pointer:
            self._last_pointer = at
            self._emit(Pointer(*at))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        event.accept()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._button(event, down=True)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()
        self._button(event, down=False)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        event.accept()  # the office PC sees press/release/press/release and decides itself
        self._button(event, down=True)

    def _button(self, event: QMouseEvent, down: bool) -> None:
        button = QT_BUTTONS.get(event.button())
        at = self._picture_pos(event.position(), clamp=not down)
        if button is not None and at is not None:
            self._emit(Button(button, down, *at))

    def wheelEvent(self, event: QWheelEvent) -> None:
        event.accept()
        delta = event.angleDelta()
        dx, dy = max(-32768, min(32767, delta.x())), max(-32768, min(32767, delta.y()))
        if dx or dy:
            self._emit(Wheel(dx, dy))

    def contextMenuEvent(self, event: QEvent) -> None:
        event.accept()  # the right button belongs to the office PC

    # ----- nothing comes in by drag and drop ---------------------------------------------
    def dragEnterEvent(self, event: QEvent) -> None:
        event.ignore()

    def dragMoveEvent(self, event: QEvent) -> None:
        event.ignore()

    def dropEvent(self, event: QEvent) -> None:
        event.ignore()

    def _emit(self, message: Key | Pointer | Button | Wheel) -> None:
        if not self.view_only:
            self.inputMessage.emit(message)
