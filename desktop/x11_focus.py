"""Where the office PC's active window is on X11, so the first picture spends its bytes there.

The video sender can make a fresh picture "focus first" (core/media/sender.py): the active
window sharp, the rest flattened and revealed afterwards. The window manager names the active
window in ``_NET_ACTIVE_WINDOW``; without one (a bare Xvfb), the keyboard focus's top-level
window stands in. Elsewhere there is no source yet and the whole screen is treated alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from core.media.frames import Rect

log = logging.getLogger("telework.host.focus")


@dataclass(frozen=True)
class ActiveWindow:
    """The active top-level window: its X window ID (two maximised windows share a rectangle,
    so only the ID tells a switch between them) and its rectangle on the desktop."""

    window: int
    rect: Rect


class X11FocusSource:
    def __init__(self, display: str | None) -> None:
        import Xlib.display

        self._display: Any = Xlib.display.Display(display)
        self._root = self._display.screen().root
        self._active_atom = self._display.intern_atom("_NET_ACTIVE_WINDOW")

    def active(self) -> ActiveWindow | None:
        """The active top-level window, or None if there is none."""
        import Xlib.error

        try:
            window = self._active_window()
            if window is None:
                return None
            geometry = window.get_geometry()
            origin = self._root.translate_coords(window, 0, 0)
        except (Xlib.error.XError, Xlib.error.ConnectionClosedError) as exc:
            log.debug("no active window: %s", type(exc).__name__)
            return None
        if geometry.width <= 1 or geometry.height <= 1:
            return None
        return ActiveWindow(window.id, (origin.x, origin.y, geometry.width, geometry.height))

    def _active_window(self) -> Any:
        import Xlib.X

        prop = self._root.get_full_property(self._active_atom, Xlib.X.AnyPropertyType)
        if prop is not None and len(prop.value) and prop.value[0]:
            return self._display.create_resource_object("window", prop.value[0])
        focus = self._display.get_input_focus().focus
        if isinstance(focus, int):  # X.NONE or PointerRoot: no window has the focus
            return None
        # The focus may be a widget deep inside a window: climb to its top-level window.
        while True:
            tree = focus.query_tree()
            if tree.parent == self._root or not tree.parent:
                return None if focus == self._root else focus
            focus = tree.parent

    def close(self) -> None:
        self._display.close()
