"""What a frame shows and what shape it has: capture targets and the even sizes x264 needs.

A target names one monitor, the whole virtual desktop, or a region; :func:`resolve` turns it
into a desktop rectangle given the monitor list (the capture itself is :mod:`desktop.capture`).
libx264 needs even sizes, so an odd width or height loses its last column or row.
:func:`plane_copy` reads one plane of a PyAV picture as numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import av
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


def frame_rect(
    desktop: Rect, monitor: Rect, frame_size: tuple[int, int], smallest: int = 2
) -> Rect | None:
    """``desktop`` in the captured frame's pixels (the monitor's own), clipped to the frame;
    None when less than ``smallest`` pixels of it are left either way."""
    left, top, width, height = desktop
    m_left, m_top, _, _ = monitor
    frame_w, frame_h = frame_size
    x0, y0 = max(0, left - m_left), max(0, top - m_top)
    x1, y1 = min(frame_w, left - m_left + width), min(frame_h, top - m_top + height)
    if x1 - x0 < smallest or y1 - y0 < smallest:
        return None
    return x0, y0, x1 - x0, y1 - y0


def drawn_in_frame(
    desktop: Sequence[Rect], monitor: Rect, frame_size: tuple[int, int]
) -> list[Rect]:
    """Rectangles the display server drew (desktop pixels), as the captured frame's pixels:
    those on the monitor, clipped, however small (a caret is one pixel wide)."""
    rects = (frame_rect(rect, monitor, frame_size, smallest=1) for rect in desktop)
    return [rect for rect in rects if rect is not None]


def plane_copy(frame: av.VideoFrame, index: int) -> npt.NDArray[np.uint8]:
    """A copy of plane ``index`` of an 8-bit planar picture, without its row padding."""
    plane = frame.planes[index]
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
    return np.array(rows[:, : plane.width], copy=True)
