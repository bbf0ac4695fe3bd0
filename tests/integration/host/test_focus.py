"""The active window's rectangle on a real X display, for focus-first pictures."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from core.media.frames import frame_rect
from desktop.x11_focus import ActiveWindow, X11FocusSource

pytestmark = pytest.mark.x11

TK_WINDOW = """
import tkinter as tk
root = tk.Tk()
root.geometry("300x200+120+80")
entry = tk.Entry(root)
entry.pack()
root.after(200, entry.focus_force)
root.mainloop()
"""
PLACE = (120, 80, 300, 200)  # TK_WINDOW's geometry


def _window(xdisplay: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", TK_WINDOW], env={**os.environ, "DISPLAY": xdisplay}
    )


def _wait_for(source: X11FocusSource, seen: set[int]) -> ActiveWindow:
    """The active window once it is one not in ``seen``, at TK_WINDOW's place."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        active = source.active()
        if active is not None and active.window not in seen and active.rect == PLACE:
            return active
        time.sleep(0.1)
    raise AssertionError(f"no new active window at {PLACE}; last seen {source.active()}")


def test_focused_window_rect_on_a_bare_x_server(xdisplay):
    window = _window(xdisplay)
    source = X11FocusSource(xdisplay)
    try:
        assert _wait_for(source, set()).rect == PLACE  # the top-level window, not the entry
    finally:
        source.close()
        window.terminate()
        window.wait(timeout=10)


def test_two_windows_in_one_place_are_told_apart(xdisplay):
    """As two maximised windows are: a switch between them changes only the window's ID."""
    source = X11FocusSource(xdisplay)
    windows = [_window(xdisplay)]
    try:
        first = _wait_for(source, set())
        windows.append(_window(xdisplay))  # takes the focus when it comes up
        second = _wait_for(source, {first.window})
        assert second.rect == first.rect and second.window != first.window
    finally:
        source.close()
        for window in windows:
            window.terminate()
            window.wait(timeout=10)


def test_frame_rect_clips_to_the_monitor_shown():
    monitor = (1920, 0, 1280, 800)  # the second monitor, right of the first
    assert frame_rect((2000, 100, 300, 200), monitor, (1280, 800)) == (80, 100, 300, 200)
    assert frame_rect((3100, 700, 300, 200), monitor, (1280, 800)) == (1180, 700, 100, 100)
    assert frame_rect((0, 0, 300, 200), monitor, (1280, 800)) is None  # on the other monitor
