"""What the X server drew since the last look, from its DAMAGE extension (python-xlib).

The host captures with MIT-SHM (mss's default X11 backend, XShmGetImage) and, where the server
has DAMAGE, asks it which rectangles of the screen were drawn instead of comparing whole frames:
nothing drawn means no comparison, and a still screen need not even be captured while nothing
is being refined (core/media/sender.py ``needs_picture``). A server without DAMAGE, or a
connection that fails, gives None: the host compares whole frames, as everywhere else.
"""

from __future__ import annotations

import logging
from typing import Any

from core.media.damage import Rect

log = logging.getLogger("telework.host.damage")

# Rectangles read in one look before they are taken as "the whole screen": a video playing or a
# window being dragged sends thousands, and reading them all would cost more than one frame
# comparison.
MAX_DAMAGE_RECTS = 256


class X11DamageSource:
    """The rectangles of the root window drawn since the last :meth:`take`."""

    def __init__(self, display: str | None) -> None:
        import Xlib.display
        from Xlib.ext import damage

        self._display: Any = Xlib.display.Display(display)
        try:
            if not self._display.has_extension(damage.extname):
                raise OSError("the X server has no DAMAGE extension")
            self._display.damage_query_version()
            root = self._display.screen().root
            self._event = self._display.extension_event.DamageNotify
            # Delta rectangles: the server reports only what grows the region since the last
            # subtract, so a caret blinking in place is one event, not one per blink.
            self._damage = root.damage_create(damage.DamageReportDeltaRectangles)
            size = root.get_geometry()
            self._whole: Rect = (0, 0, size.width, size.height)
            self._display.flush()
        except BaseException:
            self._display.close()
            raise
        self._failed = False

    def take(self) -> list[Rect] | None:
        """The rectangles (desktop pixels) drawn since the last call, [] for none; None when
        it cannot tell (the caller then compares whole frames)."""
        if self._failed:
            return None
        import Xlib.error

        rects: list[Rect] = []
        try:
            # Emptied first, then read: drawing after this moment grows the emptied region and
            # sends a new report (read next time); a round trip makes sure every report of the
            # drawing before it is already here.
            self._display.damage_subtract(self._damage)
            self._display.sync()
            while self._display.pending_events():
                event = self._display.next_event()
                if event.type != self._event:
                    continue
                area = event.area
                rects.append((area.x, area.y, area.width, area.height))
                if len(rects) >= MAX_DAMAGE_RECTS:
                    self._drain()
                    return [self._whole]
        except (Xlib.error.XError, Xlib.error.ConnectionClosedError, OSError) as exc:
            log.warning("X damage reports stopped (%s): comparing whole frames", exc)
            self._failed = True
            return None
        return rects

    def _drain(self) -> None:
        while self._display.pending_events():
            self._display.next_event()

    def close(self) -> None:
        try:
            self._display.damage_destroy(self._damage)
            self._display.close()
        except Exception as exc:  # closing what may already be gone
            log.debug("closing the damage source: %s", type(exc).__name__)
