"""Synthetic screens for the media tests: small, deterministic, text-like."""

from __future__ import annotations

import numpy as np
import pytest


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
