"""Cheap change detection: which tiles of the screen differ from the previous frame.

Comparing two 1080p frames pixel by pixel as 32-bit words takes a few milliseconds, far less
than encoding them, so the host can look at every captured frame and only wake the encoder when
something moved (or while the encoder is still refining the last change, see
:mod:`core.media.sender`). Where the display server says which rectangles were drawn since the
last frame (X11's DAMAGE extension, desktop/x11_damage.py), only those are compared and copied:
a caret blinking costs a few hundred pixels, a still screen nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

TILE = 64  # px; four macroblocks a side, fine enough to find a caret, coarse enough to be cheap
# Past this share of the screen hinted as drawn, one vectorised comparison of whole frames is
# cheaper than tile by tile.
HINT_WHOLE_FRAME_FRACTION = 0.25

Rect = tuple[int, int, int, int]  # x, y, width, height


@dataclass(frozen=True)
class Damage:
    """The tiles that changed; ``tiles[r, c]`` covers rows ``r*TILE..`` and columns ``c*TILE..``."""

    tiles: npt.NDArray[np.bool_]
    width: int
    height: int

    @property
    def changed(self) -> bool:
        return bool(self.tiles.any())

    @property
    def fraction(self) -> float:
        """Share of tiles that changed, 0.0 to 1.0."""
        return float(self.tiles.mean()) if self.tiles.size else 0.0

    def bounding_box(self) -> Rect | None:
        """The smallest rectangle holding every changed tile, or None."""
        rows = np.flatnonzero(self.tiles.any(axis=1))
        cols = np.flatnonzero(self.tiles.any(axis=0))
        if rows.size == 0:
            return None
        x0, y0 = int(cols[0]) * TILE, int(rows[0]) * TILE
        x1 = min(self.width, (int(cols[-1]) + 1) * TILE)
        y1 = min(self.height, (int(rows[-1]) + 1) * TILE)
        return (x0, y0, x1 - x0, y1 - y0)


def _words(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
    """The frame as one 32-bit word per pixel; a view whenever each pixel's 4 bytes are adjacent."""
    if frame.strides[-1] != 1 or frame.strides[-2] != 4:
        frame = np.ascontiguousarray(frame)
    words: npt.NDArray[np.uint32] = frame.view(np.uint32)[..., 0]
    return words


def tile_damage(previous: npt.NDArray[np.uint8] | None, current: npt.NDArray[np.uint8]) -> Damage:
    """Tiles where ``current`` differs from ``previous`` (all of them if there is no previous)."""
    h, w = current.shape[:2]
    shape = (-(-h // TILE), -(-w // TILE))
    if previous is None or previous.shape != current.shape:
        return Damage(np.ones(shape, dtype=np.bool_), w, h)
    differs = _words(previous) != _words(current)
    per_band = np.logical_or.reduceat(differs, np.arange(0, h, TILE), axis=0)
    tiles = np.logical_or.reduceat(per_band, np.arange(0, w, TILE), axis=1)
    return Damage(tiles, w, h)


def hinted_tiles(hint: Sequence[Rect], width: int, height: int) -> npt.NDArray[np.bool_]:
    """The tiles that the rectangles of ``hint`` (frame pixels, any that stick out are cut)
    touch."""
    tiles = np.zeros((-(-height // TILE), -(-width // TILE)), dtype=np.bool_)
    for x, y, w, h in hint:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 > x0 and y1 > y0:
            tiles[y0 // TILE : -(-y1 // TILE), x0 // TILE : -(-x1 // TILE)] = True
    return tiles


class DamageTracker:
    """Remembers the last frame and reports what changed in each new one."""

    def __init__(self) -> None:
        self._previous: npt.NDArray[np.uint8] | None = None

    def update(self, frame: npt.NDArray[np.uint8], hint: Sequence[Rect] | None = None) -> Damage:
        """Compare ``frame`` with the last one and keep a copy of it for next time.

        ``hint``: the only rectangles that can have changed since the last frame, as the
        display server tells (None: it does not, compare everything). Inside them tiles are
        still compared, so drawing that left pixels as they were does not count as change."""
        previous = self._previous
        h, w = frame.shape[:2]
        candidates = None if hint is None else hinted_tiles(hint, w, h)
        if (
            candidates is None
            or previous is None
            or previous.shape != frame.shape
            or candidates.mean() > HINT_WHOLE_FRAME_FRACTION
        ):
            damage = tile_damage(previous, frame)
            if damage.changed:
                # A copy: capture buffers are reused by mss and the replayed scene alike.
                self._previous = np.array(frame, copy=True)
            return damage
        tiles = np.zeros_like(candidates)
        for row, col in zip(*np.nonzero(candidates), strict=True):
            y0, x0 = int(row) * TILE, int(col) * TILE
            new = frame[y0 : y0 + TILE, x0 : x0 + TILE]
            old = previous[y0 : y0 + TILE, x0 : x0 + TILE]
            if not np.array_equal(_words(old), _words(new)):
                tiles[row, col] = True
                old[...] = new
        return Damage(tiles, w, h)

    def reset(self) -> None:
        """Forget the last frame, so the next one counts as wholly changed."""
        self._previous = None
