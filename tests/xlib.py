"""Xlib through ctypes for tests that set up an X display (paint it, define monitors) or read
what is held on it."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import subprocess
from collections.abc import Iterator

_P = ctypes.c_void_p


def libx11() -> ctypes.CDLL:
    """libX11 with the prototypes the tests use declared (ctypes would guess ints)."""
    xlib = ctypes.CDLL(ctypes.util.find_library("X11"))
    xlib.XOpenDisplay.restype = _P
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultRootWindow.restype = ctypes.c_ulong
    xlib.XDefaultRootWindow.argtypes = [_P]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [_P, ctypes.c_char_p, ctypes.c_int]
    xlib.XCreateGC.restype = _P
    xlib.XCreateGC.argtypes = [_P, ctypes.c_ulong, ctypes.c_ulong, _P]
    xlib.XSetForeground.argtypes = [_P, _P, ctypes.c_ulong]
    xlib.XFillRectangle.argtypes = [
        _P,
        ctypes.c_ulong,
        _P,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
    ]
    xlib.XFreeGC.argtypes = [_P, _P]
    xlib.XSync.argtypes = [_P, ctypes.c_int]
    xlib.XCloseDisplay.argtypes = [_P]
    xlib.XQueryKeymap.argtypes = [_P, ctypes.c_char_p]
    xlib.XQueryPointer.argtypes = [_P, ctypes.c_ulong, *[_P] * 7]
    return xlib


@contextlib.contextmanager
def x_connection(display: str) -> Iterator[tuple[ctypes.CDLL, int, int]]:
    """(libX11, connection, root window) for ``display``; synced and closed on the way out."""
    xlib = libx11()
    conn = xlib.XOpenDisplay(display.encode())
    assert conn, f"cannot open {display}"
    try:
        yield xlib, conn, xlib.XDefaultRootWindow(conn)
        xlib.XSync(conn, 0)
    finally:
        xlib.XCloseDisplay(conn)


BUTTON_MASKS = 0x1F00  # Button1Mask .. Button5Mask in XQueryPointer's mask


def held_input(display: str) -> tuple[set[int], int]:
    """(keycodes held, mouse buttons 1-5 held as XQueryPointer's mask bits) on ``display``."""
    with x_connection(display) as (xlib, conn, root):
        keymap = ctypes.create_string_buffer(32)
        xlib.XQueryKeymap(conn, keymap)
        keys = {i * 8 + b for i, byte in enumerate(keymap.raw) for b in range(8) if byte >> b & 1}
        windows = [ctypes.c_ulong() for _ in range(2)]
        coordinates = [ctypes.c_int() for _ in range(4)]
        mask = ctypes.c_uint()
        pointers = [ctypes.byref(v) for v in (*windows, *coordinates, mask)]
        xlib.XQueryPointer(conn, root, *pointers)
        return keys, mask.value & BUTTON_MASKS


def pointer_position(display: str) -> tuple[int, int]:
    """Where the pointer is on ``display``, as xdotool (a separate X client) sees it."""
    out = subprocess.run(
        ["xdotool", "getmouselocation", "--shell"],
        capture_output=True,
        text=True,
        env={**os.environ, "DISPLAY": display},
        check=True,
    ).stdout
    values = dict(line.split("=", 1) for line in out.split())
    return int(values["X"]), int(values["Y"])
