"""The viewer's Qt widgets: login dialog, remote screen view, session window.

Thin: they show what the client's signals carry and turn Qt input events into session messages
through the pure helpers (:mod:`keymap`, :mod:`geometry`). Nothing here touches the clipboard,
accepts a drop, prints, saves or grabs the picture; input goes out only as signals.
"""

from __future__ import annotations

import datetime as dt
import enum

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QPainter,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from apps.viewer import geometry
from apps.viewer.keymap import KeyInput, KeyTracker
from apps.viewer.protect import exclude_from_capture
from apps.viewer.session_core import Picture
from apps.viewer.settings import CONNECTION_FIELDS, FIELD_LABELS, Settings, form_problem
from apps.viewer.texts import Texts
from apps.viewer.watermark import watermark_lines
from core.media.cursor import CursorShape, CursorState
from core.protocol.notices import HostScreens
from core.protocol.session import (
    Button,
    Key,
    MouseButton,
    Pointer,
    SpecialKey,
    SpecialKeys,
    Wheel,
)

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
WATERMARK_REFRESH_MS = 30_000  # the time in it is to the minute
GRAB_PLATFORMS = ("xcb",)  # where grabbing the keyboard is what captures Alt+Tab


class BannerKind(enum.Enum):
    """What the session window's banner is showing, so each kind goes away at its own time."""

    NOTICE = "notice"  # stays until replaced (shutdown warning, view-only mode)
    PROGRESS = "progress"  # (re)connecting: until the first picture of the session
    IDLE_WARNING = "idle_warning"  # until the user acts (the office PC resets its idle timer)


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
        y = -reach
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
        if kind == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
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

    def focusInEvent(self, event: QEvent) -> None:
        super().focusInEvent(event)
        if QGuiApplication.platformName() in GRAB_PLATFORMS and self.isActiveWindow():
            self.grabKeyboard()  # so Alt+Tab and the Windows key reach the office PC

    def focusOutEvent(self, event: QEvent) -> None:
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

    def mouseMoveEvent(self, event: QEvent) -> None:
        event.accept()
        at = self._picture_pos(event.position(), clamp=event.buttons() != Qt.MouseButton.NoButton)
        if at is not None and at != self._last_pointer:
            self._last_pointer = at
            self._emit(Pointer(*at))

    def mousePressEvent(self, event: QEvent) -> None:
        event.accept()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._button(event, down=True)

    def mouseReleaseEvent(self, event: QEvent) -> None:
        event.accept()
        self._button(event, down=False)

    def mouseDoubleClickEvent(self, event: QEvent) -> None:
        event.accept()  # the office PC sees press/release/press/release and decides itself
        self._button(event, down=True)

    def _button(self, event: QEvent, down: bool) -> None:
        button = QT_BUTTONS.get(event.button())
        at = self._picture_pos(event.position(), clamp=not down)
        if button is not None and at is not None:
            self._emit(Button(button, down, *at))

    def wheelEvent(self, event: QEvent) -> None:
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


class SessionWindow(QMainWindow):
    """The session: the view in a scroll area, a notice banner, menus and a status bar."""

    inputMessage = Signal(object)  # Key | Pointer | Button | Wheel | SpecialKeys
    monitorChosen = Signal(int)
    viewOnlyToggled = Signal(bool)
    disconnectRequested = Signal()

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.texts = texts
        self.setAcceptDrops(False)
        self.setWindowTitle(texts("app_title"))
        self.view = RemoteView()
        self.view.inputMessage.connect(self.inputMessage)
        self.view.inputMessage.connect(self._user_acted)
        self.view.fullScreenToggled.connect(self.toggle_full_screen)
        self.scroll = QScrollArea()
        self.scroll.setAcceptDrops(False)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setWidget(self.view)
        self.scroll.setWidgetResizable(True)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#fff3c4;color:#222;padding:6px;")
        self.banner.hide()
        self.banner_kind: BannerKind | None = None
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.scroll)
        self.setCentralWidget(central)
        self._build_menus()
        self.status_host = QLabel()
        self.status_delay = QLabel()
        self.status_rate = QLabel()
        for label in (self.status_host, self.status_delay, self.status_rate):
            self.statusBar().addPermanentWidget(label)
        self.policy_view_only = False
        self.user = ""
        self.host_name = ""
        self.session_id = ""
        self.watermark_text = ""
        self._watermark_timer = QTimer(self)
        self._watermark_timer.setInterval(WATERMARK_REFRESH_MS)
        self._watermark_timer.timeout.connect(self._refresh_watermark)
        self.protected = False

    def _build_menus(self) -> None:
        t = self.texts
        session = self.menuBar().addMenu(t("menu_session"))
        self.action_cad = QAction(t("action_ctrl_alt_del"), self)
        self.action_cad.triggered.connect(
            lambda: self.inputMessage.emit(SpecialKeys(SpecialKey.CTRL_ALT_DEL))
        )
        self.action_view_only = QAction(t("action_view_only"), self, checkable=True)
        self.action_view_only.toggled.connect(self._view_only_toggled)
        self.action_disconnect = QAction(t("action_disconnect"), self)
        self.action_disconnect.triggered.connect(self.disconnectRequested)
        for action in (self.action_cad, self.action_view_only, self.action_disconnect):
            session.addAction(action)
        view = self.menuBar().addMenu(t("menu_view"))
        scale = QActionGroup(self)
        self.action_fit = QAction(t("action_fit"), self, checkable=True, checked=True)
        self.action_one = QAction(t("action_one_to_one"), self, checkable=True)
        for action in (self.action_fit, self.action_one):
            scale.addAction(action)
            view.addAction(action)
        self.action_fit.toggled.connect(self.set_fit)
        self.action_full = QAction(t("action_full_screen"), self, checkable=True)
        self.action_full.triggered.connect(self.toggle_full_screen)
        view.addAction(self.action_full)
        self.monitor_menu = view.addMenu(t("menu_monitor"))
        self.monitor_menu.menuAction().setVisible(False)

    # ----- slots for the client's signals ------------------------------------------------
    def show_picture(self, picture: Picture) -> None:
        self.view.set_picture(picture)

    def show_cursor(self, cursor: CursorState) -> None:
        self.view.set_cursor(cursor)

    def apply_policy(self, policy: object) -> None:
        self.policy_view_only = bool(getattr(policy, "view_only", False))
        self.watermark_text = str(getattr(policy, "watermark", ""))
        self.action_view_only.setEnabled(not self.policy_view_only)
        self._apply_view_only()
        self._refresh_watermark()
        if self.watermark_text:
            self._watermark_timer.start()
        else:
            self._watermark_timer.stop()
        if self.policy_view_only:
            self.show_banner(self.texts("notice_view_only"))

    def show_screens(self, screens: HostScreens) -> None:
        self.host_name = screens.host_name
        self.setWindowTitle(self.texts("session_title", host=screens.host_name))
        self.status_host.setText(self.texts("status_connected", host=screens.host_name))
        self._refresh_watermark()
        menu = self.monitor_menu
        menu.clear()
        menu.menuAction().setVisible(len(screens.monitors) > 1)
        group = QActionGroup(menu)
        for n, monitor in enumerate(screens.monitors):
            label = self.texts("monitor_item", n=n + 1, w=monitor.width, h=monitor.height)
            action = QAction(label, menu, checkable=True, checked=n == screens.active)
            action.triggered.connect(lambda _=False, i=monitor.index: self.monitorChosen.emit(i))
            group.addAction(action)
            menu.addAction(action)

    def show_stats(self, delay_ms: int, kbps: int) -> None:
        self.status_delay.setText(self.texts("status_delay", ms=delay_ms))
        self.status_rate.setText(self.texts("status_rate", kbps=kbps))

    def clear_stats(self) -> None:
        """While the connection is down the last delay and rate would be stale."""
        self.status_delay.clear()
        self.status_rate.clear()

    def show_banner(self, text: str, kind: BannerKind = BannerKind.NOTICE) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        self.banner_kind = kind if text else None

    def clear_banner(self, kind: BannerKind) -> None:
        """Hide the banner if it still shows this kind; a newer message of another kind stays."""
        if self.banner_kind is kind:
            self.show_banner("")

    def _user_acted(self, message: object) -> None:
        # The office PC restarts its idle timer on input but sends no "all clear" notice, so
        # its warning (and its countdown, frozen at the seconds it was sent with) ends here.
        self.clear_banner(BannerKind.IDLE_WARNING)

    def start_session(self, user: str, session_id: str) -> None:
        self.user, self.session_id = user, session_id
        self.show_banner("")
        self._refresh_watermark()

    # ----- view controls -----------------------------------------------------------------
    def size_to_picture(self, pic_w: int, pic_h: int) -> None:
        """Open at the picture's size (1:1) when the screen has room, else scaled to fit."""
        screen = self.screen()
        if screen is None or self.isFullScreen():
            return
        free = screen.availableGeometry()
        chrome_w = self.width() - self.scroll.viewport().width()
        chrome_h = self.height() - self.scroll.viewport().height()
        view_w, view_h = geometry.initial_view_size(
            pic_w,
            pic_h,
            self.devicePixelRatioF(),
            free.width() - chrome_w,
            free.height() - chrome_h,
        )
        self.resize(view_w + chrome_w, view_h + chrome_h)

    def set_fit(self, fit: bool) -> None:
        self.scroll.setWidgetResizable(fit)
        self.view.set_fit(fit)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.action_full.setChecked(self.isFullScreen())

    def _view_only_toggled(self, on: bool) -> None:
        self._apply_view_only()
        self.viewOnlyToggled.emit(on)

    def _apply_view_only(self) -> None:
        self.view.view_only = self.policy_view_only or self.action_view_only.isChecked()

    def _refresh_watermark(self) -> None:
        lines = watermark_lines(
            self.watermark_text, dt.datetime.now(), self.user, self.host_name, self.session_id
        )
        self.view.set_watermark(lines)

    # ----- the window itself -------------------------------------------------------------
    def showEvent(self, event: QEvent) -> None:
        super().showEvent(event)
        if not self.protected:
            self.protected = exclude_from_capture(int(self.winId()))
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def closeEvent(self, event: QEvent) -> None:
        event.accept()
        self.disconnectRequested.emit()

    def dragEnterEvent(self, event: QEvent) -> None:
        event.ignore()

    def dropEvent(self, event: QEvent) -> None:
        event.ignore()


class LoginDialog(QDialog):
    """Asks for what the settings lack, then the one-time password; Enter connects.

    The connection fields the settings already fill are there but hidden: "Connection
    settings…" shows them all, so a saved relay or office PC ID that has gone stale (a new
    relay, a re-enrolled office PC) can be corrected here rather than by deleting a file.
    """

    submitted = Signal(object, str)  # Settings, OTP
    cancelled = Signal()

    def __init__(self, texts: Texts, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.texts = texts
        self.setWindowTitle(texts("login_title"))
        self.setAcceptDrops(False)
        self.form = form = QFormLayout()
        self.asked = settings.missing()
        self.edits: dict[str, QLineEdit] = {}
        for name in CONNECTION_FIELDS:
            edit = QLineEdit(getattr(settings, name))
            edit.setObjectName(name)
            self.edits[name] = edit
            form.addRow(texts(FIELD_LABELS[name]), edit)
        self.otp = QLineEdit()
        self.otp.setObjectName("otp")
        self.otp.setEchoMode(QLineEdit.EchoMode.Password)
        self.otp.setInputMethodHints(
            Qt.InputMethodHint.ImhSensitiveData | Qt.InputMethodHint.ImhNoPredictiveText
        )
        form.addRow(texts("field_otp"), self.otp)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.progress = QLabel()
        self.progress.setObjectName("progress")
        self.buttons = QDialogButtonBox()
        self.connect_button = self.buttons.addButton(
            texts("connect"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.connect_button.setDefault(True)
        self.buttons.addButton(texts("cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        self.all_fields_button = QPushButton(texts("connection_settings"))
        self.all_fields_button.setObjectName("connection_settings")
        self.all_fields_button.setCheckable(True)
        self.all_fields_button.setAutoDefault(False)  # Enter always means Connect
        self.all_fields_button.toggled.connect(self._show_all_fields)
        self._show_all_fields(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self._cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.all_fields_button, alignment=Qt.AlignmentFlag.AlignLeft)
        # Nothing to reveal when every field is asked for (a first run with no installer file).
        self.all_fields_button.setVisible(len(self.asked) < len(CONNECTION_FIELDS))
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self.busy = False
        self.otp_optional = False  # see allow_empty_otp
        first_missing = next(iter(self.fields.values()), None)
        self.setFocusProxy(first_missing or self.otp)
        (first_missing or self.otp).setFocus()

    @property
    def fields(self) -> dict[str, QLineEdit]:
        """The connection fields on show: those the settings lack, or all of them."""
        showing_all = self.all_fields_button.isChecked()
        return {n: e for n, e in self.edits.items() if showing_all or n in self.asked}

    def _show_all_fields(self, on: bool) -> None:
        for name, edit in self.edits.items():
            self.form.setRowVisible(edit, on or name in self.asked)

    def entered(self) -> Settings:
        # Hidden fields hold the settings' values, so this is the settings with any edits.
        return Settings(**{name: edit.text().strip() for name, edit in self.edits.items()})

    def submit(self) -> None:
        if self.busy:
            return
        settings, otp = self.entered(), self.otp.text().strip()
        problem = form_problem(settings, otp, otp_required=not self.otp_optional)
        if problem is not None:  # the OTP typed stays: only the form's shape is wrong
            key, values = problem
            if values.get("field") != FIELD_LABELS["otp"]:
                self.all_fields_button.setChecked(True)  # the wrong field may be a hidden one
            if "field" in values:
                values = {"field": self.texts(values["field"])}
            self.message.setText(self.texts(key, **values))
            return
        self.show_error("")
        self.set_busy(True)
        self.submitted.emit(settings, otp)

    def _cancel(self) -> None:
        self.cancelled.emit()

    def accept(self) -> None:  # Enter: connect, but never close the dialog by itself
        self.submit()

    def reject(self) -> None:  # Escape / window close
        self.cancelled.emit()

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        for widget in [*self.edits.values(), self.otp, self.all_fields_button]:
            widget.setEnabled(not busy)
        self.connect_button.setEnabled(not busy)
        if not busy:
            self.progress.setText("")
            # While busy, focus fell to Cancel, which (autoDefault) took over Enter: give
            # Enter back to Connect, or the next Enter would quit instead of connecting.
            self.connect_button.setDefault(True)

    def show_progress(self, text: str) -> None:
        self.progress.setText(text)

    def allow_empty_otp(self, allowed: bool) -> None:
        """Whether Connect may go without an OTP (a refusal's ticket stands in for one)."""
        self.otp_optional = allowed

    def show_error(self, text: str) -> None:
        """Show why it did not work and make the dialog ready for a new OTP."""
        self.message.setText(text)
        if text:
            self.set_busy(False)
            self.otp.clear()
            self.otp.setFocus()
