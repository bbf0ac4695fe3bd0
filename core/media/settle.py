"""Which parts of the viewer's picture are finished: tiles the encoder should stop sharpening.

In CRF mode x264 goes on sharpening every area that is below its quality target, frame after
frame, down to the quantiser floor, and re-sends a little of each screenful every time: on the
corpus's long web page three quarters of the bytes were that polishing. The host decodes its
own stream (as the viewer will) and judges each 64-px tile that is still being sharpened against
the picture the encoder was given, the way the benchmark and the eye do (SSIM over sliding 7x7
windows of luma, and on flat areas the mean level, which SSIM forgives). A tile good enough is
*settled*: the encoder gets a high quantiser offset there (a region of interest), so it codes
skip blocks and the viewer's picture of it stays as it is. A tile the screen changes in is
released at once, and so is everything when the picture starts again (keyframe, reveal, a new
watermark), so a settled tile can only ever hold a picture that was judged good.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from core.media.damage import TILE, Rect
from core.media.quality import SSIM_WINDOW, ssim_per_picture

# A tile at or above this SSIM against its source is finished. The office scene's 15-px
# Japanese text is at ~0.986 where x264 stops on its own (the quantiser floor); a tile this
# good is at or past that.
SETTLE_SSIM = 0.99
# ...and every flat 8x8 block of it (luma variance at most FLAT_MAX_VARIANCE) within this many
# levels of the source's mean: SSIM forgives a faint smear on white beside a grid line, or a
# flat dark area decoded a few levels too bright (0.995), not the eye, and a held tile would
# keep it. Blocks with detail are not held to it: x264 leaves dense glyphs ~2.4 levels off on
# average at SSIM 0.99, and there SSIM's own windows see the levels.
SETTLE_MAX_OFFSET = 0.5
FLAT_MAX_VARIANCE = 4.0
LEVEL_BLOCK = 8
STUDIO_BLACK, STUDIO_LEVELS = 16.0, 219.0  # video luma spans 16..235
# Judging costs ~0.2 ms a tile; at most this many a frame. Tiles decoded (nearly) exactly, such
# as flat margins, settle without being judged and do not count.
JUDGE_TILES_PER_FRAME = 128
EXACT_MAX_MSE = 0.25  # squared error this low is a tile decoded as it is (PSNR > 54 dB)


class SettledTiles:
    """The settled tiles of one picture size; tile ``(r, c)`` covers rows ``r*TILE..``."""

    def __init__(self, width: int, height: int) -> None:
        self.shape = (-(-height // TILE), -(-width // TILE))
        self.size = (width, height)
        self.settled = np.zeros(self.shape, dtype=np.bool_)
        self._turn = 0  # raster index of the tile to judge first next time
        # Tiles judged not good on the pictures of the last judge; a tile whose pixels in both
        # pictures are still the same gets the same verdict, so it is not judged again (a dense
        # tile at x264's quantiser floor stays open and unchanged for many frames).
        self._known_bad = np.zeros(self.shape, dtype=np.bool_)
        self._last_pictures: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]] | None = None
        # Rows and columns of picture in each tile row and column (edge tiles are cut short);
        # a sliver thinner than the SSIM window is judged with padding up to the window's size.
        self._extent = (
            np.maximum(SSIM_WINDOW, np.minimum(TILE, height - TILE * np.arange(self.shape[0]))),
            np.maximum(SSIM_WINDOW, np.minimum(TILE, width - TILE * np.arange(self.shape[1]))),
        )

    @property
    def all_settled(self) -> bool:
        return bool(self.settled.all())

    def release(self, tiles: npt.NDArray[np.bool_] | None = None) -> None:
        """Forget that ``tiles`` (a boolean tile grid; None: all) were finished."""
        if tiles is None:
            self.settled[...] = False
        else:
            self.settled &= ~tiles

    def judge(self, source: npt.NDArray[np.uint8], decoded: npt.NDArray[np.uint8]) -> int:
        """Compare the viewer's picture with what the encoder was given, both as luma planes
        (``(height, width)``, studio range, as x264 sees them), in unsettled tiles; returns how
        many settled now."""
        if source.shape != decoded.shape or source.shape[::-1] != self.size:
            raise ValueError("pictures differ from the tracked size")
        if self.all_settled:
            self._last_pictures = None  # nothing to remember a verdict for
            return 0
        self._known_bad &= self._unchanged(source, decoded)
        self._last_pictures = (source.copy(), decoded.copy())
        rows, cols = np.nonzero(~self.settled & ~self._known_bad)  # raster order
        x = _tiles(source, self.shape)[rows, cols].astype(np.float32)
        y = _tiles(decoded, self.shape)[rows, cols].astype(np.float32)
        # Ringing past black or white is clipped away when the viewer turns it into RGB.
        np.clip(y, STUDIO_BLACK, STUDIO_BLACK + STUDIO_LEVELS, out=y)
        diff = x - y
        mse = np.einsum("nij,nij->n", diff, diff) / (TILE * TILE)
        exact = mse <= EXACT_MAX_MSE
        level_ok = _flat_blocks_level(x, y)
        good = exact & level_ok
        near = self._take_turns(np.flatnonzero(~exact & level_ok), rows, cols)
        if near.size:
            extents = np.stack([self._extent[0][rows[near]], self._extent[1][cols[near]]], axis=1)
            good[near] = ssim_per_picture(x[near], y[near], STUDIO_LEVELS, extents) >= SETTLE_SSIM
        self.settled[rows[good], cols[good]] = True
        judged = exact | ~level_ok
        judged[near] = True
        bad = judged & ~good
        self._known_bad[rows[bad], cols[bad]] = True
        return int(good.sum())

    def _unchanged(
        self, source: npt.NDArray[np.uint8], decoded: npt.NDArray[np.uint8]
    ) -> npt.NDArray[np.bool_]:
        """Per tile: whether both pictures are the same there as at the last judge."""
        if self._last_pictures is None:
            return np.zeros(self.shape, dtype=np.bool_)
        last_source, last_decoded = self._last_pictures
        changed = (source != last_source) | (decoded != last_decoded)
        unchanged: npt.NDArray[np.bool_] = ~_tiles(changed.view(np.uint8), self.shape).any(
            axis=(2, 3)
        )
        return unchanged

    def _take_turns(
        self, picks: npt.NDArray[np.intp], rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.intp]:
        """At most a frame's budget of ``picks`` (indices into ``rows``/``cols``, raster order),
        going on from where the last frame stopped, so tiles that never pass do not starve the
        rest."""
        if len(picks) <= JUDGE_TILES_PER_FRAME:
            return picks
        raster = rows[picks] * self.shape[1] + cols[picks]
        start = int(np.searchsorted(raster, self._turn))
        chosen = np.roll(picks, -start)[:JUDGE_TILES_PER_FRAME]
        self._turn = int(rows[chosen[-1]] * self.shape[1] + cols[chosen[-1]]) + 1
        return chosen

    def hold_rects(self) -> list[Rect]:
        """The settled tiles as few rectangles (runs along rows, equal runs merged downward),
        in frame pixels cut to the picture."""
        width, height = self.size
        rects: list[Rect] = []
        open_runs: dict[tuple[int, int], int] = {}  # (c0, c1) -> index in rects
        for r in range(self.shape[0]):
            y0, y1 = r * TILE, min(height, (r + 1) * TILE)
            still_open: dict[tuple[int, int], int] = {}
            for c0, c1 in _runs(self.settled[r]):
                index = open_runs.get((c0, c1))
                if index is not None:
                    x, y, w, _ = rects[index]
                    rects[index] = (x, y, w, y1 - y)
                else:
                    index = len(rects)
                    x1 = min(width, c1 * TILE)
                    rects.append((c0 * TILE, y0, x1 - c0 * TILE, y1 - y0))
                still_open[(c0, c1)] = index
            open_runs = still_open
        return rects


def _runs(row: npt.NDArray[np.bool_]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each run of True in a row of tiles."""
    padded = np.concatenate(([False], row, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        yield int(start), int(end)


def _flat_blocks_level(
    x: npt.NDArray[np.float32], y: npt.NDArray[np.float32]
) -> npt.NDArray[np.bool_]:
    """Per tile of two stacks ``(n, TILE, TILE)``: whether every flat block of ``x`` has its
    mean level in ``y`` (studio levels) within SETTLE_MAX_OFFSET full-range levels."""
    area = LEVEL_BLOCK * LEVEL_BLOCK
    # Integer levels summed in float32 stay exact (a block's squares stay under 2**24); the
    # variance from them is taken in float64, where the square of a sum is exact too.
    sum_x = _block_sums(x)
    sum_xx = _block_sums(x * x)
    sum_y = _block_sums(y)
    flat = (area * sum_xx - sum_x * sum_x) / (area * area) <= FLAT_MAX_VARIANCE
    off = np.abs(sum_x - sum_y) / area > SETTLE_MAX_OFFSET * STUDIO_LEVELS / 255
    ok: npt.NDArray[np.bool_] = ~(flat & off).any(axis=(1, 2))
    return ok


# Sums each LEVEL_BLOCK-wide run of a tile's TILE pixels: ``_BLOCK_SUM @ tile @ _BLOCK_SUM.T``
# is the tile's block sums, a matrix product that is ~5 times as fast as numpy's reductions over
# the blocks' strided axes (they were most of the host's judging time).
_BLOCK_SUM = np.kron(
    np.eye(TILE // LEVEL_BLOCK, dtype=np.float32), np.ones((1, LEVEL_BLOCK), dtype=np.float32)
)


def _block_sums(tiles: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """``(n, TILE, TILE)`` -> the sum of each LEVEL_BLOCK-square block, ``(n, k, k)``."""
    sums: npt.NDArray[np.float64] = (_BLOCK_SUM @ tiles @ _BLOCK_SUM.T).astype(np.float64)
    return sums


def _tiles(plane: npt.NDArray[np.uint8], shape: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """A luma plane as tiles, ``[row, col, y, x]`` (a view of a padded copy); edge tiles padded
    by repetition, as x264 pads a picture to whole macroblocks."""
    rows, cols = shape
    h, w = plane.shape
    padded = np.pad(plane, ((0, rows * TILE - h), (0, cols * TILE - w)), mode="edge")
    out: npt.NDArray[np.uint8] = padded.reshape(rows, TILE, cols, TILE).transpose(0, 2, 1, 3)
    return out
