"""Screen capture with ``mss``: one monitor, the whole virtual desktop, or a region.

The mouse cursor is never part of the picture (it travels on the cursor channel, see
:mod:`core.media.cursor`). The frame is a zero-copy view of mss's buffer in BGRA order, which
``av.VideoFrame.from_numpy_buffer`` accepts as is, cut to even sizes
(:func:`core.media.frames.even_view`). Sizes are physical pixels: mss makes the process
DPI-aware on Windows, so a 150 % HiDPI screen is captured at its full resolution.
"""

from __future__ import annotations

import sys
from typing import Any

import mss
import numpy as np
import numpy.typing as npt

from core.media.frames import Monitor, Target, even_size, even_view, resolve

FIRST_MONITOR = Monitor(1)  # what the host captures unless told otherwise


def _open_mss(display: str | None) -> mss.base.MSSBase:
    kwargs: dict[str, Any] = {}
    if sys.platform.startswith("linux"):
        # Only X11 takes these; elsewhere mss never draws the cursor and warns about them.
        kwargs["with_cursor"] = False
        if display is not None:
            kwargs["display"] = display
    return mss.MSS(**kwargs)


def list_monitors(display: str | None = None) -> list[dict[str, int]]:
    """The physical monitors (``left``, ``top``, ``width``, ``height``), in mss's order."""
    with _open_mss(display) as grabber:
        return [dict(m) for m in grabber.monitors[1:]]


class ScreenCapture:
    """Grabs ``target`` with mss. Not thread-safe: use it from the thread that made it."""

    def __init__(self, target: Target = FIRST_MONITOR, *, display: str | None = None) -> None:
        self._mss = _open_mss(display)
        try:
            left, top, width, height = resolve(target, list(self._mss.monitors))
        except BaseException:
            self._mss.close()  # its X connection, which nothing else would ever close
            raise
        self._area = {"left": left, "top": top, "width": width, "height": height}
        self._size = even_size(width, height)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames :meth:`grab` returns, always even."""
        return self._size

    def grab(self) -> npt.NDArray[np.uint8]:
        """The current picture as an (h, w, 4) BGRA view, without the cursor."""
        shot = self._mss.grab(self._area)
        pixels = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
        return even_view(pixels)

    def close(self) -> None:
        self._mss.close()

    def __enter__(self) -> ScreenCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
