"""A mark burned into every frame before it is encoded: the office PC's own watermark.

The viewer draws its watermark over the picture it shows, which a modified viewer can leave
out. A burned-in mark is part of the picture itself: the host composites it onto each
captured frame before change detection and encoding, so whatever the viewer does, the video it
decodes carries it.

The mark is one small tile (premultiplied BGRA, as ``QImage.Format_ARGB32_Premultiplied`` lays
it out in memory on a little-endian machine), tiled over the frame in a brick pattern: each row
of tiles is shifted by half a tile, which with the tile's slanted text gives diagonal lines.
Text is drawn by the app (Qt renders any script, Japanese included); this module only
composites pixels, so it stays free of Qt. Only the tile's non-transparent pixels are touched,
from index lists computed once per frame size, so a sparse mark costs a few milliseconds.

A static, unchanging mark costs x264 next to nothing after the first frame: P-frames predict it
from the previous picture. It changes once a minute (the time in it), only where its digits are.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from core.errors import LocalError


class Overlay:
    """A premultiplied BGRA tile to composite, tiled, onto BGRA frames of any size."""

    def __init__(self, tile: npt.NDArray[np.uint8]) -> None:
        if tile.ndim != 3 or tile.shape[2] != 4 or tile.dtype != np.uint8 or 0 in tile.shape:
            raise LocalError(f"an overlay tile is (h, w, 4) uint8, got {tile.shape} {tile.dtype}")
        if (tile[..., :3] > tile[..., 3:4]).any():
            raise LocalError("an overlay tile must be premultiplied (colour <= alpha)")
        self.tile = np.ascontiguousarray(tile)
        ys, xs = np.nonzero(tile[..., 3])
        self._ys, self._xs = ys.astype(np.int64), xs.astype(np.int64)
        # Per marked pixel, all four bytes: the colour to add (alpha 0: the frame's alpha stays)
        # and how much of the frame shows through (255 for alpha).
        self._colour = tile[ys, xs].astype(np.uint16)
        self._colour[:, 3] = 0
        self._keep = np.repeat(255 - tile[ys, xs, 3:4].astype(np.uint16), 4, axis=1)
        self._keep[:, 3] = 255
        self._size: tuple[int, int] | None = None
        self._at: npt.NDArray[np.int64] = np.zeros(0, np.int64)
        self._keep_at = self._keep[:0]
        self._colour_at = self._colour[:0]

    @property
    def empty(self) -> bool:
        return self._ys.size == 0

    def _place(self, width: int, height: int) -> None:
        """Where each of the tile's marked pixels lands in a ``width`` x ``height`` frame."""
        th, tw = self.tile.shape[:2]
        spots: list[npt.NDArray[np.int64]] = []
        which: list[npt.NDArray[np.int64]] = []
        everything = np.arange(self._ys.size, dtype=np.int64)
        for row, top in enumerate(range(0, height, th)):
            for left in range(-(row % 2) * (tw // 2), width, tw):
                y, x = self._ys + top, self._xs + left
                inside = (y < height) & (x >= 0) & (x < width)
                spots.append(y[inside] * width + x[inside])
                which.append(everything[inside])
        self._at = np.concatenate(spots) if spots else np.zeros(0, np.int64)
        chosen = np.concatenate(which) if which else np.zeros(0, np.int64)
        self._keep_at, self._colour_at = self._keep[chosen], self._colour[chosen]
        self._size = (width, height)

    def burn(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """A copy of the (h, w, 4) BGRA ``frame`` with the mark composited on; ``frame`` itself
        is left as it was (a replayed scene hands out the same array again)."""
        if frame.ndim != 3 or frame.shape[2] != 4:
            raise LocalError(f"frame {frame.shape} is not (h, w, 4) BGRA")
        height, width = frame.shape[:2]
        if self._size != (width, height):
            self._place(width, height)
        out = np.array(frame, copy=True, order="C")
        words = out.view(np.uint32).reshape(-1)  # one word per pixel: gathered at once
        under = words[self._at].view(np.uint8).reshape(-1, 4).astype(np.uint16)
        shown = under * self._keep_at + 128  # then / 255, rounded, without a division:
        mixed = ((shown + (shown >> 8)) >> 8) + self._colour_at
        words[self._at] = mixed.astype(np.uint8).view(np.uint32).reshape(-1)
        return out
