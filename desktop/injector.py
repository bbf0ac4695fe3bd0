"""OS input injection: the only module that imports ``pynput`` (lazily: on X11 it needs a display).

:func:`open_backend` returns the backend for this OS, or None where injection is impossible
(no display); the host then runs its sessions view-only. Pointer, buttons and wheel go through
``pynput.mouse``. Keys on X11 go through XTest by keysym (python-xlib, which pynput itself uses):
a keysym the keyboard map lacks (半角/全角 on a US map, ¥, any Unicode character) is given a
spare keycode for as long as the agent runs, like ``xdotool`` does, and a printable key is sent
at the shift level that types it. On Windows keys go through ``pynput.keyboard`` by virtual key
or character (:func:`core.input.keymap.windows_key`).

Ctrl+Alt+Del (the secure attention sequence) cannot be injected by a user program on Windows
(only ``SendSAS`` from a SYSTEM service can) and means nothing to an X server, so no backend
claims it; :class:`core.input.dispatch.InputDispatcher` logs the refusal.

An agent that dies mid-session (a crash, SIGKILL) cannot release what its viewer held, and the
OS keeps it held; so each backend can release everything the OS reports held, which the agent
does as it starts (:meth:`X11Backend.release_everything_held`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import time
from collections import deque
from ctypes import wintypes
from typing import Any

from core.input.keymap import char_for_keysym, windows_key, x11_keysym
from core.protocol.session import MouseButton

LOWER_A, LOWER_Z = 0x61, 0x7A  # keysyms a..z
log = logging.getLogger("telework.host.input")

SHIFT_L = 0xFFE1
SHIFT_R = 0xFFE2
# X clients learn of a re-mapped keycode from a MappingNotify event; give them this long to
# refresh their keymap before the first press of a newly borrowed keycode.
KEYMAP_SETTLE_S = 0.1
MAX_BORROWED_KEYCODES = 16  # spare keycodes we re-map at most; reused least recently first
# Each new borrowing blocks the agent for KEYMAP_SETTLE_S. A person typing characters that are
# not on the keyboard needs a new one now and then; a viewer cycling through Unicode keysyms
# would otherwise stall video and keepalives. Past this rate such keys are dropped.
MAX_BORROWS_PER_WINDOW = 2
BORROW_WINDOW_S = 1.0

_BUTTON_NAMES = {
    MouseButton.LEFT: ("left",),
    MouseButton.MIDDLE: ("middle",),
    MouseButton.RIGHT: ("right",),
    MouseButton.BACK: ("x1", "button8"),
    MouseButton.FORWARD: ("x2", "button9"),
}


class _PynputMouse:
    def __init__(self) -> None:
        from pynput import mouse

        self._mouse = mouse
        self._controller: Any = mouse.Controller()

    def move(self, x: int, y: int) -> None:
        self._controller.position = (x, y)

    def _close_mouse(self) -> None:
        """Close pynput's own X connection now rather than whenever its controller is collected
        (pynput closes it in ``__del__``, and only if the attribute is still there)."""
        display = getattr(self._controller, "_display", None)
        if display is not None:
            del self._controller._display
            display.close()

    def button(self, button: MouseButton, down: bool) -> None:
        target = None
        for name in _BUTTON_NAMES[button]:
            target = getattr(self._mouse.Button, name, None)
            if target is not None:
                break
        if target is None:
            return
        if down:
            self._controller.press(target)
        else:
            self._controller.release(target)

    def scroll(self, dx: int, dy: int) -> None:
        self._controller.scroll(dx, dy)


class X11Backend(_PynputMouse):
    """X11: XTest by keysym, spare keycodes for keysyms the map lacks."""

    can_inject_secure_attention = False

    def __init__(self) -> None:
        super().__init__()
        import Xlib.display

        self._display: Any = Xlib.display.Display()
        info = self._display.display.info
        self._min_keycode, self._max_keycode = info.min_keycode, info.max_keycode
        self._borrowed: dict[int, int] = {}  # keysym -> keycode, oldest first
        self._borrow_times: deque[float] = deque()  # monotonic times of recent borrowings
        self._held: set[int] = set()  # keysyms pressed and not yet released
        self._shift_held: set[int] = set()

    def key(self, keysym: int, scancode: int, text: str, down: bool) -> None:
        target = x11_keysym(keysym, text)
        if target is None:
            return
        if not down and target not in self._held:
            return  # pressed before the session, or dropped: nothing to release (or borrow)
        keycode, level = self._keycode(target)
        if not keycode:
            # Not which key: the keysym is what the user typed (a password, say).
            log.info("a key could not be typed: no spare keycode, or borrowing too fast")
            return
        (self._held.add if down else self._held.discard)(target)
        if target in (SHIFT_L, SHIFT_R):
            (self._shift_held.add if down else self._shift_held.discard)(target)
        shifted = level % 2 == 1
        # Letters come as their lower-case keysym with Shift held (docs/contracts.md): their
        # case is Shift's (and Caps Lock's) business, so they are pressed as they are.
        letter = LOWER_A <= target <= LOWER_Z
        if (
            not down
            or letter
            or char_for_keysym(target) is None
            or shifted == bool(self._shift_held)
        ):
            self._fake_key(keycode, down)
        else:
            self._with_shift_level(keycode, want_shift=shifted)
        self._display.sync()

    def _with_shift_level(self, keycode: int, *, want_shift: bool) -> None:
        """Press ``keycode`` with Shift as the keysym's level needs, then restore Shift."""
        shift_code = self._display.keysym_to_keycode(SHIFT_L)
        if want_shift:
            self._fake_key(shift_code, True)
            self._fake_key(keycode, True)
            self._fake_key(shift_code, False)
        else:
            held = [self._display.keysym_to_keycode(k) for k in self._shift_held]
            for code in held:
                self._fake_key(code, False)
            self._fake_key(keycode, True)
            for code in held:
                self._fake_key(code, True)

    def _fake_key(self, keycode: int, down: bool) -> None:
        import Xlib.ext.xtest
        import Xlib.X

        kind = Xlib.X.KeyPress if down else Xlib.X.KeyRelease
        Xlib.ext.xtest.fake_input(self._display, kind, keycode)

    def _keycode(self, keysym: int) -> tuple[int, int]:
        """(keycode, level) for ``keysym``, borrowing a spare keycode if the map has none."""
        if keysym in self._borrowed:
            return self._borrowed[keysym], 0
        for keycode, index in self._display.keysym_to_keycodes(keysym):
            if index < 2:  # group 1 only: levels 0 (plain) and 1 (shifted)
                return int(keycode), int(index)
        return self._borrow(keysym), 0

    def _borrow(self, keysym: int) -> int:
        """A spare keycode mapped to ``keysym``, or 0 if none may be had now."""
        now = time.monotonic()
        while self._borrow_times and self._borrow_times[0] <= now - BORROW_WINDOW_S:
            self._borrow_times.popleft()
        if len(self._borrow_times) >= MAX_BORROWS_PER_WINDOW:
            return 0
        if len(self._borrowed) >= MAX_BORROWED_KEYCODES:
            # Never one that is held down: its release would go to the new keysym's key.
            free = [k for k in self._borrowed if k not in self._held]
            if not free:
                return 0
            keycode = self._borrowed.pop(free[0])
        else:
            count = self._max_keycode - self._min_keycode + 1
            mapping = self._display.get_keyboard_mapping(self._min_keycode, count)
            used = set(self._borrowed.values())
            spare = [
                self._min_keycode + i
                for i, syms in enumerate(mapping)
                if not any(syms) and self._min_keycode + i not in used
            ]
            if not spare:
                return 0
            keycode = spare[-1]
        self._display.change_keyboard_mapping(keycode, [(keysym, keysym)])
        self._display.sync()
        time.sleep(KEYMAP_SETTLE_S)  # once per new keysym per agent run
        self._borrow_times.append(now)
        self._borrowed[keysym] = keycode
        return keycode

    def release_everything_held(self) -> int:
        """Release every key (XQueryKeymap) and mouse button (XQueryPointer's mask) the X server
        reports as held, through XTest; returns how many. Only for a starting agent (why all of
        them is right then, and only then: ``HostAgent._open_backend`` in apps/host/agent.py).

        The core protocol's pointer mask knows buttons 1-5 only, so a back or forward button
        left held (rare: they act on press) is not seen."""
        import Xlib.ext.xtest
        import Xlib.X

        keymap = self._display.query_keymap()
        keycodes = [
            i * 8 + bit for i, byte in enumerate(keymap) for bit in range(8) if byte >> bit & 1
        ]
        for keycode in keycodes:
            self._fake_key(keycode, False)
        mask = self._display.screen().root.query_pointer().mask
        buttons = [n for n in range(1, 6) if mask & (Xlib.X.Button1Mask << (n - 1))]
        for button in buttons:
            Xlib.ext.xtest.fake_input(self._display, Xlib.X.ButtonRelease, button)
        self._display.sync()
        return len(keycodes) + len(buttons)

    def secure_attention(self) -> None:  # pragma: no cover - never claimed on X11
        raise NotImplementedError

    def close(self) -> None:
        """Give borrowed keycodes back; the X connection closes with the agent."""
        for keycode in self._borrowed.values():
            self._display.change_keyboard_mapping(keycode, [(0, 0)])
        self._borrowed.clear()
        # Wait until the server has the map back: closing only flushes, and a client that
        # connects next (the agent restarted) would otherwise still find the borrowed keysyms.
        self._display.sync()
        self._display.close()
        self._close_mouse()


class WindowsBackend(_PynputMouse):  # pragma: no cover - exercised on Windows only
    """Windows: SendInput through pynput, by virtual key or Unicode character."""

    can_inject_secure_attention = False

    def __init__(self) -> None:
        super().__init__()
        from pynput import keyboard

        self._keyboard = keyboard
        self._controller_kb: Any = keyboard.Controller()

    def key(self, keysym: int, scancode: int, text: str, down: bool) -> None:
        target = windows_key(keysym, scancode, text)
        if target is None:
            return
        code = self._keyboard.KeyCode
        key = code.from_vk(target.vk) if target.vk is not None else code.from_char(target.char)
        if down:
            self._controller_kb.press(key)
        else:
            self._controller_kb.release(key)

    def release_everything_held(self) -> int:
        """Release every key and mouse button GetAsyncKeyState reports as down, through
        SendInput; returns how many. For a starting agent, as on X11. Written for Windows and
        not run on the Linux machines this project is tested on."""
        user32: Any = ctypes.WinDLL("user32")  # type: ignore[attr-defined]
        user32.GetAsyncKeyState.restype = ctypes.c_short
        held = [vk for vk in range(1, 256) if user32.GetAsyncKeyState(vk) & KEY_DOWN_BIT]
        inputs = [_win32_release(vk) for vk in held if vk not in _WIN32_EITHER_SIDE_VKS]
        if inputs:
            array = (_Win32Input * len(inputs))(*inputs)
            user32.SendInput(len(inputs), array, ctypes.sizeof(_Win32Input))
        return len(inputs)

    def secure_attention(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


# ----- Win32 SendInput, for releasing what is held (winuser.h) --------------------------------
KEY_DOWN_BIT = 0x8000  # GetAsyncKeyState's "down now"
INPUT_MOUSE, INPUT_KEYBOARD = 0, 1
KEYEVENTF_KEYUP = 0x0002
MOUSEEVENTF_LEFTUP, MOUSEEVENTF_RIGHTUP, MOUSEEVENTF_MIDDLEUP = 0x0004, 0x0010, 0x0040
MOUSEEVENTF_XUP = 0x0100  # which X button: mouseData XBUTTON1 (1) or XBUTTON2 (2)
# Mouse buttons have virtual keys too: VK_LBUTTON, VK_RBUTTON, VK_MBUTTON, VK_XBUTTON1/2 ->
# (the MOUSEINPUT flags that release it, mouseData).
_WIN32_BUTTON_UPS = {
    0x01: (MOUSEEVENTF_LEFTUP, 0),
    0x02: (MOUSEEVENTF_RIGHTUP, 0),
    0x04: (MOUSEEVENTF_MIDDLEUP, 0),
    0x05: (MOUSEEVENTF_XUP, 1),
    0x06: (MOUSEEVENTF_XUP, 2),
}
# VK_SHIFT, VK_CONTROL, VK_MENU read as down while either side is: the side's own key
# (VK_LSHIFT ... VK_RMENU, also in the scan) is the one to release.
_WIN32_EITHER_SIDE_VKS = {0x10, 0x11, 0x12}


class _Win32MouseInput(ctypes.Structure):
    _fields_ = [
        ("dx", wintypes.LONG),
        ("dy", wintypes.LONG),
        ("mouseData", wintypes.DWORD),
        ("dwFlags", wintypes.DWORD),
        ("time", wintypes.DWORD),
        ("dwExtraInfo", ctypes.c_size_t),  # ULONG_PTR
    ]


class _Win32KeybdInput(ctypes.Structure):
    _fields_ = [
        ("wVk", wintypes.WORD),
        ("wScan", wintypes.WORD),
        ("dwFlags", wintypes.DWORD),
        ("time", wintypes.DWORD),
        ("dwExtraInfo", ctypes.c_size_t),
    ]


class _Win32InputUnion(ctypes.Union):
    _fields_ = [("mi", _Win32MouseInput), ("ki", _Win32KeybdInput)]


class _Win32Input(ctypes.Structure):
    """winuser.h's INPUT (its layout is Windows's only there: LONG is 4 bytes on Windows)."""

    _anonymous_ = ("u",)
    _fields_ = [("type", wintypes.DWORD), ("u", _Win32InputUnion)]


def _win32_release(vk: int) -> Any:
    """The SendInput record that releases virtual key ``vk`` (a key or a mouse button)."""
    event = _Win32Input()
    if vk in _WIN32_BUTTON_UPS:
        event.type = INPUT_MOUSE
        event.mi.dwFlags, event.mi.mouseData = _WIN32_BUTTON_UPS[vk]
    else:
        event.type = INPUT_KEYBOARD
        event.ki.wVk, event.ki.dwFlags = vk, KEYEVENTF_KEYUP
    return event


def open_backend() -> X11Backend | WindowsBackend | None:
    """The injection backend for this OS, or None (the host then runs view-only)."""
    try:
        if sys.platform == "win32":  # pragma: no cover
            return WindowsBackend()
        if sys.platform.startswith("linux") and os.environ.get("DISPLAY"):
            return X11Backend()
    except Exception as exc:  # pynput raises ImportError or Xlib errors of many kinds
        log.warning("input injection unavailable: %s", type(exc).__name__)
    return None
