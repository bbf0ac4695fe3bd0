"""The X server's cursor, position and image, read through XFixes (``ctypes``, no extra package).

The image is converted only when XFixes's cursor serial changes, so a shape that stays costs
one round trip per read and no copying; on failure :meth:`X11CursorSource.read` returns None
and the app falls back to a default arrow.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

from core.media.cursor import MAX_CURSOR_SIDE, CursorPosition, CursorShape


class _XFixesCursorImage(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_short),
        ("y", ctypes.c_short),
        ("width", ctypes.c_ushort),
        ("height", ctypes.c_ushort),
        ("xhot", ctypes.c_ushort),
        ("yhot", ctypes.c_ushort),
        ("cursor_serial", ctypes.c_ulong),
        ("pixels", ctypes.POINTER(ctypes.c_ulong)),
        ("atom", ctypes.c_ulong),
        ("name", ctypes.c_char_p),
    ]


class X11CursorSource:
    """Reads the X server's current cursor (position and image) through XFixes."""

    def __init__(self, display: str | None = None) -> None:
        xlib_name = ctypes.util.find_library("X11")
        xfixes_name = ctypes.util.find_library("Xfixes")
        if not xlib_name or not xfixes_name:
            raise OSError("libX11 or libXfixes not found")
        self._xlib = ctypes.CDLL(xlib_name)
        self._xfixes = ctypes.CDLL(xfixes_name)
        self._xlib.XOpenDisplay.restype = ctypes.c_void_p
        self._xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self._xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self._xlib.XFree.argtypes = [ctypes.c_void_p]
        self._xfixes.XFixesGetCursorImage.restype = ctypes.POINTER(_XFixesCursorImage)
        self._xfixes.XFixesGetCursorImage.argtypes = [ctypes.c_void_p]
        self._display = self._xlib.XOpenDisplay(display.encode() if display else None)
        if not self._display:
            raise OSError(f"cannot open X display {display!r}")
        self._serial: int | None = None
        self._shape: CursorShape | None = None

    def read(self) -> tuple[CursorPosition, CursorShape | None] | None:
        """The cursor now, or None if XFixes has nothing to say."""
        ptr = self._xfixes.XFixesGetCursorImage(self._display)
        if not ptr:
            return None
        try:
            img = ptr.contents
            position = CursorPosition(img.x, img.y, True)
            if img.cursor_serial != self._serial:
                self._serial = img.cursor_serial
                self._shape = self._convert(img)
            return position, self._shape
        finally:
            self._xlib.XFree(ptr)

    @staticmethod
    def _convert(img: _XFixesCursorImage) -> CursorShape | None:
        w, h = img.width, img.height
        if not (1 <= w <= MAX_CURSOR_SIDE and 1 <= h <= MAX_CURSOR_SIDE):
            return None
        # XFixes hands out one ARGB pixel per C long (8 bytes on 64-bit Linux).
        longs = np.ctypeslib.as_array(img.pixels, shape=(w * h,))
        argb = longs.astype("<u4")  # little-endian ARGB words are B, G, R, A bytes
        hx, hy = min(img.xhot, w - 1), min(img.yhot, h - 1)
        return CursorShape(w, h, hx, hy, argb.tobytes())

    def close(self) -> None:
        if self._display:
            self._xlib.XCloseDisplay(self._display)
            self._display = None
