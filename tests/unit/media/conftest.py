"""Synthetic screens for the media tests (small, deterministic, text-like); private X displays."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from apps.common.xvfb import start_xvfb
from core.errors import LocalError


def private_xvfb(width: int, height: int) -> Iterator[str]:
    """A private Xvfb (apps.common.xvfb: a free display number, no resets between clients), for
    a module's ``display`` fixture; its tests skip where Xvfb cannot start."""
    try:
        screen = start_xvfb(width, height)
    except LocalError as exc:
        pytest.skip(f"needs Xvfb: {exc}")
    yield screen.display
    screen.stop()


def text_screen(width: int, height: int, seed: int = 1) -> np.ndarray:
    """A white page with rows of dark 'glyphs' (random strokes), as BGRA."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 4), 255, np.uint8)
    for top in range(8, height - 12, 16):
        for left in range(8, width - 10, 9):
            glyph = rng.random((10, 7)) < 0.35
            img[top : top + 10, left : left + 7][glyph] = (30, 30, 30, 255)
    return img


@pytest.fixture
def screen() -> np.ndarray:
    return text_screen(320, 240)
