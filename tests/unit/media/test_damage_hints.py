"""Comparing only the rectangles the display server says were drawn: the same tiles as a
whole-frame comparison whenever the changes lie inside them, nothing compared for nothing drawn,
and the frame kept for next time stays equal to the last one seen."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.media.damage import TILE, DamageTracker, hinted_tiles

W, H = 320, 200


def frame(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (H, W, 4), dtype=np.uint8)


rects = st.lists(
    st.tuples(st.integers(0, W - 1), st.integers(0, H - 1), st.integers(1, 40), st.integers(1, 40)),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(rects, st.integers(0, 3))
def test_changes_inside_the_hint_are_found_as_a_whole_comparison_finds_them(drawn, seed):
    hinted, whole = DamageTracker(), DamageTracker()
    first = frame(seed)
    hinted.update(first), whole.update(first)
    second = first.copy()
    for x, y, w, h in drawn:
        second[y : y + h, x : x + w] ^= 0x5A
    got, expected = hinted.update(second, drawn), whole.update(second)
    assert np.array_equal(got.tiles, expected.tiles)
    third = second.copy()  # and the kept frame is the second one: nothing changes now
    assert not hinted.update(third, drawn).changed


def test_nothing_drawn_compares_nothing_and_a_redraw_in_place_is_no_change():
    tracker = DamageTracker()
    first = frame()
    tracker.update(first)
    assert not tracker.update(first.copy(), []).changed
    assert not tracker.update(first.copy(), [(0, 0, 50, 50)]).changed


def test_a_hint_outside_the_frame_is_cut_and_a_large_one_compares_whole_frames():
    assert not hinted_tiles([(-50, -50, 10, 10), (W + 5, 0, 10, 10)], W, H).any()
    tiles = hinted_tiles([(W - 1, H - 1, 100, 100)], W, H)
    assert tiles.sum() == 1 and tiles[-1, -1]
    tracker = DamageTracker()
    first = frame()
    tracker.update(first)
    second = frame(1)
    damage = tracker.update(second, [(0, 0, W, H)])
    assert damage.tiles.all() and damage.tiles.shape == (-(-H // TILE), -(-W // TILE))
