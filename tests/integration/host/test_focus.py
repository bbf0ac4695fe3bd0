"""The active window's rectangle on a real X display, for focus-first pictures."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from core.media.frames import frame_rect
from desktop.x11_focus import X11FocusSource

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


def test_focused_window_rect_on_a_bare_x_server(xdisplay):
    window = subprocess.Popen(
        [sys.executable, "-c", TK_WINDOW], env={**os.environ, "DISPLAY": xdisplay}
    )
    source = X11FocusSource(xdisplay)
    try:
        deadline = time.monotonic() + 10
        rect = None
        while time.monotonic() < deadline and rect != (120, 80, 300, 200):
            time.sleep(0.1)
            rect = source.rect()
        assert rect == (120, 80, 300, 200)  # the top-level window, not the focused entry
    finally:
        source.close()
        window.terminate()
        window.wait(timeout=10)


def test_frame_rect_clips_to_the_monitor_shown():
    monitor = (1920, 0, 1280, 800)  # the second monitor, right of the first
    assert frame_rect((2000, 100, 300, 200), monitor, (1280, 800)) == (80, 100, 300, 200)
    assert frame_rect((3100, 700, 300, 200), monitor, (1280, 800)) == (1180, 700, 100, 100)
    assert frame_rect((0, 0, 300, 200), monitor, (1280, 800)) is None  # on the other monitor
