"""The X server's damage reports against a real (virtual) X display: what a client draws is
reported once, in its place; nothing drawn is reported as nothing; and the frames the host
compares with the reports find exactly the tiles a whole-frame comparison finds."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from core.media.damage import DamageTracker
from core.media.frames import Monitor
from desktop.capture import ScreenCapture
from desktop.x11_damage import X11DamageSource
from tests.unit.media.conftest import private_xvfb

pytestmark = pytest.mark.x11

SCREEN = (640, 480)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    yield from private_xvfb(*SCREEN)


class Painter:
    """A client drawing filled rectangles on a window covering the screen."""

    def __init__(self, display: str) -> None:
        import Xlib.display
        import Xlib.X

        self.display = Xlib.display.Display(display)
        screen = self.display.screen()
        self.window = screen.root.create_window(
            0, 0, *SCREEN, 0, screen.root_depth, background_pixel=screen.white_pixel,
            override_redirect=True,
        )  # fmt: skip
        self.window.map()
        self.gc = self.window.create_gc(foreground=screen.black_pixel)
        self.display.sync()

    def fill(self, x: int, y: int, w: int, h: int) -> None:
        self.window.fill_rectangle(self.gc, x, y, w, h)
        self.display.sync()

    def close(self) -> None:
        self.window.destroy()
        self.display.close()


@pytest.fixture
def painter(display: str) -> Iterator[Painter]:
    painter = Painter(display)
    yield painter
    painter.close()


def covers(rects, x: int, y: int, w: int, h: int) -> bool:
    return any(
        rx <= x and ry <= y and rx + rw >= x + w and ry + rh >= y + h for rx, ry, rw, rh in rects
    )


def test_what_is_drawn_is_reported_once_and_then_nothing(display, painter):
    source = X11DamageSource(display)
    try:
        source.take()  # the window mapping
        assert source.take() == []
        painter.fill(100, 50, 3, 20)  # a caret-sized stroke
        drawn = source.take()
        assert drawn and covers(drawn, 100, 50, 3, 20)
        assert all(w * h <= 3 * 20 * 4 for _, _, w, h in drawn), drawn
        assert source.take() == []
    finally:
        source.close()


def test_drawing_between_looks_is_never_lost(display, painter):
    """The region is emptied before it is read: a stroke right after a look is in the next."""
    source = X11DamageSource(display)
    try:
        source.take()
        for i in range(20):
            painter.fill(10 + i * 20, 300, 5, 5)
            assert covers(source.take(), 10 + i * 20, 300, 5, 5)
            painter.fill(10 + i * 20, 300, 5, 5)  # the same place again: reported again
            assert covers(source.take(), 10 + i * 20, 300, 5, 5)
    finally:
        source.close()


def test_frames_compared_with_the_reports_find_what_whole_frames_find(display, painter):
    source = X11DamageSource(display)
    hinted, whole = DamageTracker(), DamageTracker()
    try:
        with ScreenCapture(Monitor(1), display=display) as capture:
            source.take()
            frame = np.array(capture.grab(), copy=True)
            hinted.update(frame), whole.update(frame)
            for x, y, w, h in [(5, 5, 2, 30), (300, 200, 100, 80), (630, 470, 10, 10)]:
                painter.fill(x, y, w, h)
                frame = np.array(capture.grab(), copy=True)
                got = hinted.update(frame, source.take())
                expected = whole.update(frame)
                assert got.changed and np.array_equal(got.tiles, expected.tiles)
            frame = np.array(capture.grab(), copy=True)
            assert not hinted.update(frame, source.take()).changed
    finally:
        source.close()
