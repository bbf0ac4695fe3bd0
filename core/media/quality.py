"""Picture quality measures (SSIM, PSNR) on BGRA frames, in plain numpy.

Used by the benchmark to judge text legibility and by tests to check that decoded frames match
their source. SSIM follows Wang et al. 2004 on luma, with a 7x7 box window (like scikit-image's
default) computed through summed-area tables so a full 1080p frame costs tens of milliseconds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SSIM_WINDOW = 7  # side of the square window; small enough to see single glyph strokes
SSIM_C1 = (0.01 * 255) ** 2  # the paper's stabilising constants for 8-bit data
SSIM_C2 = (0.03 * 255) ** 2

Rect = tuple[int, int, int, int]  # x, y, width, height


def luma(
    bgra: npt.NDArray[np.uint8],
    rect: Rect | None = None,
    dtype: type[np.floating] = np.float64,
) -> npt.NDArray[np.floating]:
    """BT.601 luma of a BGRA (or BGR) image (or a stack of them), optionally cropped to ``rect``."""
    if rect is not None:
        x, y, w, h = rect
        bgra = bgra[..., y : y + h, x : x + w, :]
    b = bgra[..., 0].astype(dtype)
    g = bgra[..., 1].astype(dtype)
    r = bgra[..., 2].astype(dtype)
    out: npt.NDArray[np.floating] = 0.114 * b + 0.587 * g + 0.299 * r
    return out


def _box_mean(a: npt.NDArray[np.floating], k: int) -> npt.NDArray[np.floating]:
    """Mean over every valid k x k window of the last two axes (each shrinks by k - 1)."""
    s = np.zeros((*a.shape[:-2], a.shape[-2] + 1, a.shape[-1] + 1), dtype=a.dtype)
    np.cumsum(np.cumsum(a, axis=-2), axis=-1, out=s[..., 1:, 1:])
    total = s[..., k:, k:] - s[..., :-k, k:] - s[..., k:, :-k] + s[..., :-k, :-k]
    out: npt.NDArray[np.floating] = total / (k * k)
    return out


def _ssim_map(
    x: npt.NDArray[np.floating],
    y: npt.NDArray[np.floating],
    c1: float = SSIM_C1,
    c2: float = SSIM_C2,
) -> npt.NDArray[np.floating]:
    """SSIM of every 7x7 window of the last two axes of two luma arrays of one shape."""
    k = SSIM_WINDOW
    mx, my = _box_mean(x, k), _box_mean(y, k)
    # Unbiased (sample) variances, as scikit-image does by default.
    n = k * k
    cov_norm = n / (n - 1)
    vx = (_box_mean(x * x, k) - mx * mx) * cov_norm
    vy = (_box_mean(y * y, k) - my * my) * cov_norm
    vxy = (_box_mean(x * y, k) - mx * my) * cov_norm
    num = (2 * mx * my + c1) * (2 * vxy + c2)
    den = (mx * mx + my * my + c1) * (vx + vy + c2)
    out: npt.NDArray[np.floating] = num / den
    return out


def ssim(
    reference: npt.NDArray[np.uint8],
    test: npt.NDArray[np.uint8],
    rect: Rect | None = None,
) -> float:
    """Mean SSIM of the luma of two same-sized BGRA images (1.0 = identical)."""
    if reference.shape[:2] != test.shape[:2]:
        raise ValueError("images differ in size")
    x = luma(reference, rect)
    y = luma(test, rect)
    if min(x.shape) < SSIM_WINDOW:
        return 1.0 if np.array_equal(x, y) else 0.0
    return float(np.mean(_ssim_map(x, y)))


def ssim_per_picture(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float32],
    levels: float = 255.0,
    extents: npt.NDArray[np.intp] | None = None,
) -> npt.NDArray[np.float32]:
    """Mean SSIM of each picture of two stacks of lumas, shape (n, h, w), h and w at least 7,
    as :func:`ssim` computes it. ``levels``: the lumas' span (219 for video's studio range;
    the constants scale with it, so a picture scores as it would in full range). ``extents``:
    (n, 2) heights and widths of the part of each picture that counts (the rest is padding),
    each at least 7."""
    scale = (levels / 255.0) ** 2
    window = _ssim_map(x, y, SSIM_C1 * scale, SSIM_C2 * scale)
    if extents is None:
        out: npt.NDArray[np.float32] = window.mean(axis=(-2, -1))
        return out
    rows = (
        np.arange(window.shape[-2])[None, :, None] <= (extents[:, 0] - SSIM_WINDOW)[:, None, None]
    )
    cols = (
        np.arange(window.shape[-1])[None, None, :] <= (extents[:, 1] - SSIM_WINDOW)[:, None, None]
    )
    inside = rows & cols
    out = (np.where(inside, window, 0).sum(axis=(-2, -1)) / inside.sum(axis=(-2, -1))).astype(
        np.float32
    )
    return out


def psnr(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """Peak signal-to-noise ratio of the luma in dB (``inf`` when identical)."""
    mse = float(np.mean((luma(reference) - luma(test)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))
