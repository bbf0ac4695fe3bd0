"""Where the remote picture sits in the view, and which picture pixel a pointer position is.

Qt-free. Positions are the view widget's logical coordinates (what Qt's mouse events give);
``dpr`` is the screen's device-pixel ratio. "1:1" means one picture pixel per *device* pixel,
so on a 200 % screen the office PC's text is as sharp as on its own monitor; "fit" scales the
whole picture into the view, keeping its aspect ratio, centred.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    """The picture's rectangle in view (logical) coordinates."""

    x: float
    y: float
    width: float
    height: float


def placement(
    view_w: float, view_h: float, pic_w: int, pic_h: int, dpr: float, fit: bool
) -> Placement:
    if pic_w <= 0 or pic_h <= 0:
        return Placement(0.0, 0.0, 0.0, 0.0)
    if not fit:
        return Placement(0.0, 0.0, pic_w / dpr, pic_h / dpr)
    scale = min(view_w / pic_w, view_h / pic_h) if view_w > 0 and view_h > 0 else 0.0
    width, height = pic_w * scale, pic_h * scale
    return Placement((view_w - width) / 2, (view_h - height) / 2, width, height)


def natural_size(pic_w: int, pic_h: int, dpr: float) -> tuple[int, int]:
    """The view's size in logical pixels for 1:1 display (what the scroll area scrolls)."""
    return (max(1, round(pic_w / dpr)), max(1, round(pic_h / dpr)))


# A new session window takes at most this share of the screen's free area, so its frame and
# the desktop around it stay reachable.
MAX_WINDOW_SCREEN_SHARE = 0.9


def initial_view_size(
    pic_w: int, pic_h: int, dpr: float, avail_w: int, avail_h: int
) -> tuple[int, int]:
    """The view's first size: 1:1 when the picture fits the screen's share, else scaled down
    (aspect kept) to fit it. ``avail_*`` is the room left for the view, in logical pixels."""
    nat_w, nat_h = natural_size(pic_w, pic_h, dpr)
    room_w, room_h = avail_w * MAX_WINDOW_SCREEN_SHARE, avail_h * MAX_WINDOW_SCREEN_SHARE
    scale = min(1.0, room_w / nat_w, room_h / nat_h)
    return max(1, round(nat_w * scale)), max(1, round(nat_h * scale))


def to_picture(
    px: float, py: float, where: Placement, pic_w: int, pic_h: int
) -> tuple[int, int] | None:
    """The picture pixel under view position (px, py), or None outside the picture."""
    if where.width <= 0 or where.height <= 0:
        return None
    fx = (px - where.x) / where.width
    fy = (py - where.y) / where.height
    if not (0.0 <= fx < 1.0 and 0.0 <= fy < 1.0):
        return None
    return (min(pic_w - 1, int(fx * pic_w)), min(pic_h - 1, int(fy * pic_h)))


def clamp_to_picture(
    px: float, py: float, where: Placement, pic_w: int, pic_h: int
) -> tuple[int, int] | None:
    """Like :func:`to_picture` but pinned to the nearest edge (for a drag leaving the picture)."""
    if where.width <= 0 or where.height <= 0:
        return None
    fx = min(max((px - where.x) / where.width, 0.0), 1.0)
    fy = min(max((py - where.y) / where.height, 0.0), 1.0)
    return (min(pic_w - 1, int(fx * pic_w)), min(pic_h - 1, int(fy * pic_h)))
