"""Pointer geometry: the viewer's picture pixels to the office PC's desktop, and wheel steps."""

from __future__ import annotations

from dataclasses import dataclass

WHEEL_STEP = 120  # one notch, as Qt and Windows report wheel deltas
# Notches one Wheel message may scroll (a hard flick of a free-spinning wheel between two
# events stays under it). More would be injected one by one on the agent's event loop, and a
# single 4-byte message could ask for hundreds; the excess is dropped, not carried over.
MAX_WHEEL_NOTCHES = 10


@dataclass(frozen=True)
class ScreenMap:
    """The monitor shown (desktop rectangle) and the picture size the viewer sees of it.

    The picture may be smaller than the monitor (economy mode downscales), so every position
    the viewer sends is scaled back; positions outside the picture are clamped onto it.
    """

    left: int
    top: int
    width: int
    height: int
    picture_width: int
    picture_height: int

    def to_desktop(self, x: int, y: int) -> tuple[int, int]:
        px = min(max(x, 0), max(self.picture_width - 1, 0))
        py = min(max(y, 0), max(self.picture_height - 1, 0))
        dx = px * self.width // max(self.picture_width, 1)
        dy = py * self.height // max(self.picture_height, 1)
        return self.left + min(dx, self.width - 1), self.top + min(dy, self.height - 1)

    def to_picture(self, x: int, y: int) -> tuple[int, int]:
        """A desktop position (the real cursor) in picture pixels, for the cursor channel."""
        return (
            (x - self.left) * self.picture_width // max(self.width, 1),
            (y - self.top) * self.picture_height // max(self.height, 1),
        )


class WheelAccumulator:
    """Turns 1/120 wheel deltas into whole notches, keeping the remainder (touchpads)."""

    def __init__(self) -> None:
        self._dx = 0
        self._dy = 0

    def add(self, dx: int, dy: int) -> tuple[int, int]:
        """Add a delta; return the whole notches to scroll now (positive dy = away from user)."""
        self._dx += dx
        self._dy += dy
        steps_x = int(self._dx / WHEEL_STEP)  # towards zero, so -60 then -60 makes -1
        steps_y = int(self._dy / WHEEL_STEP)
        self._dx -= steps_x * WHEEL_STEP
        self._dy -= steps_y * WHEEL_STEP
        return _capped(steps_x), _capped(steps_y)


def _capped(steps: int) -> int:
    return max(-MAX_WHEEL_NOTCHES, min(MAX_WHEEL_NOTCHES, steps))
