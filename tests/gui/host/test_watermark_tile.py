"""The burned-in watermark's tile as Qt draws it: Japanese as itself (not boxes), slanted, half
transparent, premultiplied so core/media/overlay.py can composite it."""

from __future__ import annotations

import numpy as np

from apps.host.watermark_tile import WATERMARK_ALPHA, render_tile
from core.media.overlay import Overlay


def marked(tile: np.ndarray) -> np.ndarray:
    return tile[..., 3] > 0


def test_japanese_names_are_drawn_as_their_own_glyphs(qapp) -> None:
    # Missing glyphs would all be the same box: two different names would give one picture.
    tanaka, suzuki = render_tile("田中太郎 職場PC"), render_tile("鈴木花子 職場PC")
    assert tanaka.shape == suzuki.shape
    assert (tanaka != suzuki).any()
    assert marked(tanaka).mean() > 0.005


def test_the_tile_is_half_transparent_premultiplied_and_slanted(qapp) -> None:
    tile = render_tile("2026-12-07 10:30 tanaka PC-01 #1a2b3c4d")
    assert tile.dtype == np.uint8 and tile.shape[2] == 4
    alpha = tile[..., 3][marked(tile)]
    assert np.median(alpha) <= WATERMARK_ALPHA * 1.7  # light text over its shadow, at most
    assert alpha.max() < 210  # never opaque, even where neighbouring glyphs overlap
    assert (tile[..., :3] <= tile[..., 3:4]).all()
    Overlay(tile)  # accepted as it is
    rows = np.flatnonzero(marked(tile).any(axis=1))
    cols = np.flatnonzero(marked(tile).any(axis=0))
    # Slanted: the text rises to the right, so its left end is lower than its right end.
    left_rows = np.flatnonzero(marked(tile)[:, cols[0] : cols[0] + 20].any(axis=1))
    right_rows = np.flatnonzero(marked(tile)[:, cols[-1] - 20 : cols[-1]].any(axis=1))
    assert left_rows.mean() > right_rows.mean() + 50
    assert rows[-1] - rows[0] > 100


def test_a_longer_text_makes_a_wider_tile(qapp) -> None:
    assert render_tile("x" * 60).shape[1] > render_tile("x" * 10).shape[1]
