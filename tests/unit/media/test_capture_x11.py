"""Capture and the X11 cursor source against a real (virtual) X display."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import numpy as np
import pytest

from core.errors import LocalError
from core.media.frames import Monitor, Region, VirtualDesktop
from desktop.capture import ScreenCapture
from desktop.x11_cursor import X11CursorSource
from tests.unit.media.conftest import private_xvfb

pytestmark = pytest.mark.x11

SCREEN = (641, 481)  # odd on purpose


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    yield from private_xvfb(*SCREEN)


def test_capture_sizes_are_even_and_match_the_target(display: str) -> None:
    with ScreenCapture(VirtualDesktop(), display=display) as cap:
        frame = cap.grab()
        assert cap.size == (640, 480) and frame.shape == (480, 640, 4)
    with ScreenCapture(Monitor(1), display=display) as cap:
        assert cap.size == (640, 480)
    with ScreenCapture(Region(10, 20, 101, 51), display=display) as cap:
        assert cap.grab().shape == (50, 100, 4)


def test_bad_targets_are_refused(display: str) -> None:
    with pytest.raises(LocalError):
        ScreenCapture(Monitor(7), display=display)
    with pytest.raises(LocalError):
        ScreenCapture(Region(0, 0, 4, 4), display=display)


def test_a_refused_target_leaves_no_x_connection_open(display: str) -> None:
    ScreenCapture(Monitor(1), display=display).close()  # libraries loaded, outside the count
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        with pytest.raises(LocalError):
            ScreenCapture(Monitor(7), display=display)
    assert len(os.listdir("/proc/self/fd")) == before


def test_cursor_is_not_in_the_picture_but_on_its_channel(display: str) -> None:
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    env = {**os.environ, "DISPLAY": display}
    subprocess.run(["xdotool", "mousemove", "200", "150"], env=env, check=True)
    with ScreenCapture(VirtualDesktop(), display=display) as cap:
        around = cap.grab()[130:170, 180:220]
    assert len(np.unique(around.reshape(-1, 4)[:, :3], axis=0)) == 1  # plain root window
    source = X11CursorSource(display)
    try:
        state = source.read()
    finally:
        source.close()
    assert state is not None
    position, shape = state
    assert (position.x, position.y) == (200, 150)
    assert shape is not None and shape.width > 0 and len(shape.to_bytes()) < 2_000
