"""The X11 injection backend on a real X server: borrowing spare keycodes for keysyms the
keyboard map lacks, within its limits, without leaving a key held down; releasing what a dead
client left held."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from apps.common.xvfb import start_xvfb
from core.errors import LocalError
from desktop import injector
from desktop.injector import MAX_BORROWS_PER_WINDOW, X11Backend
from tests.xlib import held_input

UNICODE_KEYSYM = 0x01000000  # X11's keysym for a Unicode code point: this bit plus the point
KANJI = "一二三四五六"  # on no keyboard map, so each one needs a borrowed keycode


def keysym(char: str) -> int:
    return UNICODE_KEYSYM | ord(char)


def pressed_keycodes(backend: X11Backend) -> set[int]:
    bits = backend._display.query_keymap()
    return {i * 8 + b for i, byte in enumerate(bits) for b in range(8) if byte >> b & 1}


@pytest.fixture(scope="module")
def own_display():
    """An X server of this module's own: the spare keycodes these tests count on are then not
    taken by keysyms other tests' sessions borrowed on the shared one."""
    try:
        screen = start_xvfb(320, 240)
    except LocalError as exc:
        pytest.skip(f"needs a real X display: {exc}")
    yield screen.display
    screen.stop()


@pytest.fixture
def backend(own_display, monkeypatch):
    monkeypatch.setenv("DISPLAY", own_display)
    backend = X11Backend()
    yield backend
    backend.close()


def test_borrowing_is_rate_limited_and_keys_past_it_are_dropped(backend, monkeypatch):
    monkeypatch.setattr(injector, "BORROW_WINDOW_S", 60.0)  # a slow machine stays inside it
    for char in KANJI:
        backend.key(keysym(char), 0, char, True)
        backend.key(keysym(char), 0, char, False)
    assert len(backend._borrowed) == MAX_BORROWS_PER_WINDOW
    assert set(backend._borrowed) == {keysym(c) for c in KANJI[:MAX_BORROWS_PER_WINDOW]}
    assert not pressed_keycodes(backend) & set(backend._borrowed.values())


def test_a_held_borrowed_key_is_not_taken_for_another_keysym(backend, monkeypatch):
    monkeypatch.setattr(injector, "MAX_BORROWED_KEYCODES", 1)
    first, second = KANJI[:2]
    backend.key(keysym(first), 0, first, True)
    keycode = backend._borrowed[keysym(first)]
    assert keycode in pressed_keycodes(backend)
    backend.key(keysym(second), 0, second, True)  # the only slot is held: dropped
    assert backend._borrowed == {keysym(first): keycode}
    backend.key(keysym(second), 0, second, False)  # its release is dropped too (no borrowing)
    backend.key(keysym(first), 0, first, False)
    assert keycode not in pressed_keycodes(backend)


@pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool")
def test_everything_a_dead_client_left_held_is_released(own_display, monkeypatch):
    monkeypatch.setenv("DISPLAY", own_display)
    # A client that presses Ctrl, Shift and button 1 through XTest and exits without releasing
    # them: the X server keeps them held, as after an agent killed mid-session.
    subprocess.run(
        ["xdotool", "keydown", "ctrl+shift", "mousedown", "1"], env=os.environ, check=True
    )
    keys, buttons = held_input(own_display)
    assert len(keys) == 2 and buttons

    backend = X11Backend()
    try:
        assert backend.release_everything_held() == 3
    finally:
        backend.close()
    assert held_input(own_display) == (set(), 0)
