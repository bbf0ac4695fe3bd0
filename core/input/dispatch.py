"""Applies the viewer's input messages to an injection backend, under the session's rules.

Pure logic, testable with a recording backend: view-only sessions inject nothing; pointer
positions are scaled from the picture to the monitor; wheel deltas become whole notches;
Ctrl+Alt+Del (as a :class:`SpecialKeys` request or as keys) is refused with a log line where the
OS does not let a user-level program inject it; keys that act on the machine (power, VT switch,
ending the X server) are never injected; everything still held is released at the end,
so a dropped session never leaves a key or button stuck on the office PC.
"""

from __future__ import annotations

import logging
from typing import Protocol

from core.input.keymap import acts_on_the_machine, is_ctrl_alt_del
from core.input.pointer import ScreenMap, WheelAccumulator
from core.protocol.session import (
    Button,
    Key,
    MouseButton,
    Pointer,
    SessionMessage,
    SpecialKey,
    SpecialKeys,
    Wheel,
)

log = logging.getLogger("telework.host.input")

INPUT_TYPES = (Key, Pointer, Button, Wheel, SpecialKeys)

# Keys held down at once. Ten fingers on a full (n-key rollover) keyboard stay well under this;
# it only stops a hostile viewer, which may send key-downs for any u32 keysym and never release
# them, from growing the held-key table for the whole session.
MAX_HELD_KEYS = 32


class Backend(Protocol):
    """What an OS injection backend offers (see :mod:`desktop.injector`)."""

    can_inject_secure_attention: bool

    def key(self, keysym: int, scancode: int, text: str, down: bool) -> None: ...
    def move(self, x: int, y: int) -> None: ...
    def button(self, button: MouseButton, down: bool) -> None: ...
    def scroll(self, dx: int, dy: int) -> None: ...
    def secure_attention(self) -> None: ...
    def close(self) -> None: ...


class InputDispatcher:
    def __init__(self, backend: Backend | None, screen: ScreenMap, *, view_only: bool) -> None:
        self._backend = backend
        self.screen = screen
        self.view_only = view_only or backend is None
        self._wheel = WheelAccumulator()
        self._keys: dict[int, tuple[int, str]] = {}  # keysym -> (scancode, text), held down
        self._buttons: set[MouseButton] = set()
        self.refused_secure_attention = 0
        self.refused_machine_keys = 0

    def handle(self, message: SessionMessage) -> bool:
        """Apply one input message; True if it was input (the caller's idle timer counts it)."""
        if not isinstance(message, INPUT_TYPES):
            return False
        if self.view_only or self._backend is None:
            return True
        backend = self._backend
        match message:
            case Key(down, keysym, scancode, _modifiers, text):
                self._key(backend, down, keysym, scancode, text)
            case Pointer(x, y):
                backend.move(*self.screen.to_desktop(x, y))
            case Button(button, down, x, y):
                backend.move(*self.screen.to_desktop(x, y))
                if down:
                    self._buttons.add(button)
                elif button not in self._buttons:
                    return True  # a release for a press we never injected
                else:
                    self._buttons.discard(button)
                backend.button(button, down)
            case Wheel(dx, dy):
                steps_x, steps_y = self._wheel.add(dx, dy)
                if steps_x or steps_y:
                    backend.scroll(steps_x, steps_y)
            case SpecialKeys(which):
                if which is SpecialKey.CTRL_ALT_DEL:
                    self._secure_attention(backend)
        return True

    def _key(self, backend: Backend, down: bool, keysym: int, scancode: int, text: str) -> None:
        if down:
            if is_ctrl_alt_del(set(self._keys), keysym):
                self._secure_attention(backend)
                return
            if acts_on_the_machine(set(self._keys), keysym):
                # Not tracked either, so its release is dropped too.
                self.refused_machine_keys += 1
                log.warning("refused a key that acts on the machine, not an application")
                return
            if keysym not in self._keys and len(self._keys) >= MAX_HELD_KEYS:
                # Ignored, neither injected nor tracked (its release is then ignored too):
                # evicting a held key instead would mean injecting a release the user never
                # made, or forgetting a key that release_all() must let go at the end.
                # Auto-repeat of a key already held still passes: it does not grow the table.
                return
            self._keys[keysym] = (scancode, text)
        elif keysym not in self._keys:
            return  # never pressed here (e.g. refused, or pressed before the session)
        else:
            # Released as it was pressed: a backend that maps by text must find the same key.
            scancode, text = self._keys.pop(keysym)
        backend.key(keysym, scancode, text, down)

    def _secure_attention(self, backend: Backend) -> None:
        if backend.can_inject_secure_attention:
            backend.secure_attention()
            return
        self.refused_secure_attention += 1
        log.warning("Ctrl+Alt+Del refused: this OS does not let the host agent inject it")

    def release_all(self) -> None:
        """Release every key and button still held down (end of session, view-only switch)."""
        backend = self._backend
        if backend is None:
            return
        for keysym, (scancode, text) in reversed(list(self._keys.items())):
            backend.key(keysym, scancode, text, False)
        for button in self._buttons:
            backend.button(button, False)
        self._keys.clear()
        self._buttons.clear()
