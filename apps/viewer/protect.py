"""Keep the session window out of screenshots and screen sharing, where the OS allows it.

Windows: ``SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE)`` (Windows 10 2004+; older
versions fall back to ``WDA_MONITOR``, which shows black). macOS: the window's sharing type
becomes ``NSWindowSharingNone``. Elsewhere there is no such switch; returns False.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

WDA_MONITOR = 0x01
WDA_EXCLUDEFROMCAPTURE = 0x11
NS_WINDOW_SHARING_NONE = 0


def exclude_from_capture(window_id: int) -> bool:
    """``window_id`` is ``QWidget.winId()``: an HWND on Windows, an NSView* on macOS."""
    try:
        if sys.platform == "win32":
            return _windows(window_id)
        if sys.platform == "darwin":
            return _macos(window_id)
    except (OSError, AttributeError, ValueError):
        return False
    return False


def _windows(hwnd: int) -> bool:  # pragma: no cover - Windows only
    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    user32.SetWindowDisplayAffinity.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    user32.SetWindowDisplayAffinity.restype = ctypes.c_int
    if user32.SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE):
        return True
    return bool(user32.SetWindowDisplayAffinity(hwnd, WDA_MONITOR))


def _macos(view: int) -> bool:  # pragma: no cover - macOS only
    objc = ctypes.cdll.LoadLibrary(ctypes.util.find_library("objc") or "libobjc.dylib")
    objc.sel_registerName.restype = ctypes.c_void_p
    objc.sel_registerName.argtypes = [ctypes.c_char_p]
    send = objc.objc_msgSend
    send.restype = ctypes.c_void_p
    send.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    window = send(view, objc.sel_registerName(b"window"))
    if not window:
        return False
    set_sharing = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong)(
        ("objc_msgSend", objc)
    )
    set_sharing(window, objc.sel_registerName(b"setSharingType:"), NS_WINDOW_SHARING_NONE)
    return True
