"""Screen capture with ``mss``: one monitor, the whole virtual desktop, or a region.

The mouse cursor is never part of the picture (it travels on the cursor channel, see
:mod:`core.media.cursor`). libx264 needs even sizes, so an odd width or height loses its last
column or row; the frame is a zero-copy view of mss's buffer in BGRA order, which
``av.VideoFrame.from_numpy_buffer`` accepts as is. Sizes are physical pixels: mss makes the
process DPI-aware on Windows, so a 150 % HiDPI screen is captured at its full resolution.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Protocol

import mss
import numpy as np
import numpy.typing as npt

from core.errors import LocalError

Rect = tuple[int, int, int, int]  # left, top, width, height in desktop pixels

MIN_CAPTURE_SIDE = 16  # x264's smallest sensible picture is one macroblock each way


@dataclass(frozen=True)
class Monitor:
    """One physical monitor; ``index`` counts from 1 like ``mss.monitors``."""

    index: int = 1


@dataclass(frozen=True)
class VirtualDesktop:
    """The bounding box of all monitors."""


@dataclass(frozen=True)
class Region:
    """A fixed rectangle of the desktop."""

    left: int
    top: int
    width: int
    height: int


Target = Monitor | VirtualDesktop | Region


class FrameSource(Protocol):
    """Anything that yields BGRA frames: a live screen or a replayed scene."""

    @property
    def size(self) -> tuple[int, int]: ...

    def grab(self) -> npt.NDArray[np.uint8]: ...


def even_size(width: int, height: int) -> tuple[int, int]:
    """The largest even size not above ``width`` x ``height`` (x264 needs even sizes)."""
    return width & ~1, height & ~1


def even_view(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``pixels`` without a trailing odd column or row; a view, no copy."""
    w, h = even_size(pixels.shape[1], pixels.shape[0])
    return pixels[:h, :w]


def resolve(target: Target, monitors: list[dict[str, int]]) -> Rect:
    """The desktop rectangle ``target`` denotes, given ``mss``'s monitor list."""
    match target:
        case VirtualDesktop():
            m = monitors[0]
        case Monitor(index):
            if not 1 <= index < len(monitors):
                raise LocalError(f"no monitor {index}; there are {len(monitors) - 1}")
            m = monitors[index]
        case Region(left, top, width, height):
            m = {"left": left, "top": top, "width": width, "height": height}
    rect = (m["left"], m["top"], m["width"], m["height"])
    if min(rect[2], rect[3]) < MIN_CAPTURE_SIDE:
        raise LocalError(f"capture area {rect[2]}x{rect[3]} is too small")
    return rect


class ScreenCapture:
    """Grabs ``target`` with mss. Not thread-safe: use it from the thread that made it."""

    def __init__(self, target: Target = Monitor(1), *, display: str | None = None) -> None:
        kwargs: dict[str, Any] = {}
        if sys.platform.startswith("linux"):
            # Only X11 takes these; elsewhere mss never draws the cursor and warns about them.
            kwargs["with_cursor"] = False
            if display is not None:
                kwargs["display"] = display
        self._mss = mss.MSS(**kwargs)
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
