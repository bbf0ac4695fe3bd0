"""The burned-in mark: composited exactly where its tile is marked, nowhere else, and carried
by the video the sender encodes (decoded again with the viewer's decoder)."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import LocalError
from core.media.decoder import H264Decoder
from core.media.overlay import Overlay
from core.media.rate import ReceiverReport
from core.media.sender import VideoSender

from .conftest import text_screen


def mark_tile(width: int = 40, height: int = 24, alpha: int = 128) -> np.ndarray:
    """A premultiplied BGRA tile with a white half-transparent bar (a stroke of text)."""
    tile = np.zeros((height, width, 4), np.uint8)
    tile[8:14, 4:30] = (alpha, alpha, alpha, alpha)  # white at ``alpha``, premultiplied
    return tile


def expected_marks(width: int, height: int, tile: np.ndarray) -> np.ndarray:
    """Where the tile's marked pixels land: rows of tiles, every other row shifted half a tile
    to the left (a brick pattern), written out independently of Overlay's index arithmetic."""
    th, tw = tile.shape[:2]
    marked = np.zeros((height, width), bool)
    for y in range(height):
        row, ty = divmod(y, th)
        shift = (row % 2) * (tw // 2)
        for x in range(width):
            marked[y, x] = tile[ty, (x + shift) % tw, 3] > 0
    return marked


def test_the_frame_changes_where_the_mask_is_and_nowhere_else() -> None:
    frame = text_screen(160, 100)
    frame[frame[..., 0] == 255] = (200, 200, 200, 255)  # a grey page: white would stay white
    before = frame.copy()
    tile = mark_tile()
    burned = Overlay(tile).burn(frame)
    changed = (burned != frame).any(axis=2)
    marks = expected_marks(160, 100, tile)
    assert (frame == before).all()  # the caller's frame is left as it was
    assert not changed[~marks].any()  # unchanged elsewhere
    assert changed[marks].all()  # changed where the mask is
    # Composited by the premultiplied rule: out = under * (255 - a) / 255 + colour.
    y, x = np.argwhere(marks & (frame[..., 0] == 200))[0]
    assert tuple(burned[y, x, :3]) == ((200 * 127 + 127) // 255 + 128,) * 3
    y, x = np.argwhere(marks & (frame[..., 0] == 30))[0]
    assert tuple(burned[y, x, :3]) == ((30 * 127 + 127) // 255 + 128,) * 3
    assert (burned[..., 3] == frame[..., 3]).all()


def test_the_mark_is_tiled_over_any_frame_size_from_one_tile() -> None:
    overlay = Overlay(mark_tile())
    for width, height in ((160, 100), (64, 48), (160, 100)):  # resized, and back again
        frame = np.zeros((height, width, 4), np.uint8)
        changed = (overlay.burn(frame) != frame).any(axis=2)
        assert (changed == expected_marks(width, height, mark_tile())).all()


@pytest.mark.parametrize(
    "tile, words",
    [
        (np.zeros((8, 8, 3), np.uint8), "uint8"),
        (np.zeros((0, 8, 4), np.uint8), "uint8"),
        (np.zeros((8, 8, 4), np.uint16), "uint8"),
        (np.full((8, 8, 4), (200, 0, 0, 100), np.uint8), "premultiplied"),
    ],
)
def test_a_bad_tile_is_refused(tile, words) -> None:
    with pytest.raises(LocalError, match=words):
        Overlay(tile)


def test_a_frame_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(LocalError, match="BGRA"):
        Overlay(mark_tile()).burn(np.zeros((10, 10, 3), np.uint8))


def _run(sender: VideoSender, decoder: H264Decoder, frame: np.ndarray, start: float, steps: int):
    """Offer ``frame`` every 100 ms; the last picture decoded (None if nothing was sent) and how
    many packets were."""
    shown, packets = None, 0
    for i in range(steps):
        now = start + i * 0.1
        packet = sender.offer(frame, now)
        if packet is not None:
            packets += 1
            sender.apply_feedback(now, ReceiverReport(10**6, packet.frame_index, False))
            shown = decoder.decode(packet).image
    return shown, packets


def test_the_decoded_video_carries_the_mark_and_a_new_one_is_sent_for_a_still_screen() -> None:
    frame = np.full((240, 320, 4), 255, np.uint8)
    frame[..., :3] = 40  # a dark screen: the white mark shows
    tile = mark_tile(alpha=160)
    marks = expected_marks(320, 240, tile)
    sender, decoder = VideoSender(320, 240, allow_economy=False), H264Decoder()
    sender.set_overlay(Overlay(tile))
    shown, _ = _run(sender, decoder, frame, 0.0, 60)  # the first frame and its refinement
    assert shown is not None
    luma = shown[..., :3].astype(int).mean(axis=2)
    assert luma[marks].mean() > 40 + 60  # the mark is in the picture the viewer decodes
    assert abs(luma[~marks & ~np.roll(marks, 2, 0) & ~np.roll(marks, -2, 0)].mean() - 40) < 4

    # Once refined, a still screen costs nothing; a new mark (the next minute) is sent anyway.
    assert _run(sender, decoder, frame, 10.0, 20) == (None, 0)
    sender.set_overlay(None)
    cleared, _ = _run(sender, decoder, frame, 20.0, 60)
    assert cleared is not None
    assert abs(cleared[..., :3].astype(int).mean(axis=2)[marks].mean() - 40) < 8
