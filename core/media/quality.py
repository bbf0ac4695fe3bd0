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


def luma(bgra: npt.NDArray[np.uint8], rect: Rect | None = None) -> npt.NDArray[np.float64]:
    """BT.601 luma of a BGRA (or BGR) image, optionally cropped to ``rect``."""
    if rect is not None:
        x, y, w, h = rect
        bgra = bgra[y : y + h, x : x + w]
    b = bgra[..., 0].astype(np.float64)
    g = bgra[..., 1].astype(np.float64)
    r = bgra[..., 2].astype(np.float64)
    out: npt.NDArray[np.float64] = 0.114 * b + 0.587 * g + 0.299 * r
    return out


def _box_mean(a: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.float64]:
    """Mean over every valid k x k window (output shrinks by k - 1 in each dimension)."""
    s = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=np.float64)
    np.cumsum(np.cumsum(a, axis=0), axis=1, out=s[1:, 1:])
    total = s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]
    out: npt.NDArray[np.float64] = total / (k * k)
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
    k = SSIM_WINDOW
    mx, my = _box_mean(x, k), _box_mean(y, k)
    # Unbiased (sample) variances, as scikit-image does by default.
    n = k * k
    cov_norm = n / (n - 1)
    vx = (_box_mean(x * x, k) - mx * mx) * cov_norm
    vy = (_box_mean(y * y, k) - my * my) * cov_norm
    vxy = (_box_mean(x * y, k) - mx * my) * cov_norm
    num = (2 * mx * my + SSIM_C1) * (2 * vxy + SSIM_C2)
    den = (mx * mx + my * my + SSIM_C1) * (vx + vy + SSIM_C2)
    return float(np.mean(num / den))


def psnr(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """Peak signal-to-noise ratio of the luma in dB (``inf`` when identical)."""
    mse = float(np.mean((luma(reference) - luma(test)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))
