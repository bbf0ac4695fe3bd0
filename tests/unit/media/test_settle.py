"""Settled tiles: the host judges its own decoded stream and stops x264 sharpening what is done."""

from __future__ import annotations

import numpy as np

from core.media.damage import TILE
from core.media.decoder import H264Decoder
from core.media.encoder import H264Encoder
from core.media.quality import luma, ssim, ssim_per_picture
from core.media.rate import ReceiverReport
from core.media.sender import VIDEO_WIRE_OVERHEAD_BYTES, VideoSender
from core.media.settle import JUDGE_TILES_PER_FRAME, SETTLE_SSIM, SettledTiles

from .conftest import text_screen


def studio_luma(bgra: np.ndarray) -> np.ndarray:
    """The luma plane x264 would be given for ``bgra`` (BT.601, studio range)."""
    return np.round(16 + luma(bgra) * 219 / 255).astype(np.uint8)


def blurred(plane: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    """``plane`` with a 3x3 box blur inside the given area."""
    out = plane.copy()
    area = plane[rows, cols].astype(np.float32)
    padded = np.pad(area, 1, mode="edge")
    shifted = [
        padded[i : i + area.shape[0], j : j + area.shape[1]] for i in range(3) for j in range(3)
    ]
    out[rows, cols] = np.mean(shifted, axis=0).round().astype(np.uint8)
    return out


def test_tile_ssim_is_the_benchmarks_ssim() -> None:
    page = text_screen(128, 128)
    noisy = page.copy()
    noisy[::3, ::2, :3] = 128
    x = luma(page)[None].astype(np.float32)
    y = luma(noisy)[None].astype(np.float32)
    assert abs(float(ssim_per_picture(x, y)[0]) - ssim(page, noisy)) < 1e-4


def test_an_edge_tile_is_judged_on_its_own_pixels() -> None:
    # A 40-row picture: its one row of tiles is padded to 64 rows for judging; the padding
    # (flat, equal in both) must not lift the score.
    page = text_screen(64, 40)
    smeared = page.copy()
    smeared[:, :, :3] = np.roll(page[:, :, :3], 1, axis=1)
    x = np.pad(luma(page), ((0, 24), (0, 0)), mode="edge")[None].astype(np.float32)
    y = np.pad(luma(smeared), ((0, 24), (0, 0)), mode="edge")[None].astype(np.float32)
    extents = np.array([[40, 64]])
    assert abs(float(ssim_per_picture(x, y, extents=extents)[0]) - ssim(page, smeared)) < 1e-4
    assert float(ssim_per_picture(x, y)[0]) > ssim(page, smeared) + 0.05  # what padding did


def test_an_exact_tile_settles_and_a_blurred_one_does_not() -> None:
    source = studio_luma(text_screen(256, 128))
    decoded = blurred(source, slice(0, TILE), slice(0, TILE))  # tile (0, 0) only
    tiles = SettledTiles(256, 128)
    tiles.judge(source, decoded)
    expected = np.ones((2, 4), dtype=bool)
    expected[0, 0] = False
    assert (tiles.settled == expected).all()
    assert not tiles.all_settled


def test_a_flat_area_decoded_too_bright_does_not_settle() -> None:
    source = np.full((128, 128), 40, np.uint8)
    decoded = source.copy()
    decoded[:TILE, :TILE] += 5  # SSIM forgives this (~0.99); the mean level does not
    tiles = SettledTiles(128, 128)
    tiles.judge(source, decoded)
    assert not tiles.settled[0, 0]
    assert tiles.settled.sum() == 3


def test_a_faint_smear_beside_a_line_does_not_settle() -> None:
    source = np.full((64, 128), 235, np.uint8)
    source[:, 10] = source[:, 74] = 60  # a grid line in each tile: not flat as a whole
    decoded = source.copy()
    decoded[40:56, 30:50] -= 3  # a faint grey smear on the white of tile (0, 0)
    x = source.reshape(64, 2, 64).transpose(1, 0, 2).astype(np.float32)
    y = decoded.reshape(64, 2, 64).transpose(1, 0, 2).astype(np.float32)
    assert ssim_per_picture(x, y, 219.0)[0] >= SETTLE_SSIM  # SSIM alone would hold it
    tiles = SettledTiles(128, 64)
    tiles.judge(source, decoded)
    assert tiles.settled.tolist() == [[False, True]]


def grainy(plane: np.ndarray, amplitude: int) -> np.ndarray:
    """``plane`` with ±``amplitude`` in a checkerboard on tile (0, 0)'s glyphs: not exact, the
    flat blocks untouched."""
    out = plane.copy()
    tile = plane[:TILE, :TILE].astype(np.int16)
    checker = (np.indices(tile.shape).sum(axis=0) % 2 * 2 - 1) * amplitude
    glyphs = (tile > 16 + amplitude) & (tile < 235 - amplitude)
    out[:TILE, :TILE] = np.where(glyphs, tile + checker, tile).astype(np.uint8)
    return out


def shuffled(plane: np.ndarray) -> np.ndarray:
    """``plane`` with every 8x8 block of tile (0, 0) turned one column round: each block's
    mean level kept, its glyphs broken, so only SSIM finds it wrong."""
    out = plane.copy()
    blocks = out[:TILE, :TILE].reshape(8, 8, 8, 8)  # block row, y, block column, x
    out[:TILE, :TILE] = np.roll(blocks, 1, axis=3).reshape(TILE, TILE)
    return out


def test_an_open_tile_is_judged_again_only_once_a_picture_changes_there(monkeypatch) -> None:
    import core.media.settle as settle

    judged: list[int] = []

    def counting(x, *args, **kwargs):
        judged.append(len(x))
        return ssim_per_picture(x, *args, **kwargs)

    monkeypatch.setattr(settle, "ssim_per_picture", counting)
    source = studio_luma(text_screen(256, 128))
    decoded = shuffled(source)
    tiles = SettledTiles(256, 128)
    tiles.judge(source, decoded)
    assert judged == [1] and not tiles.settled[0, 0]  # judged by SSIM, and still open
    tiles.judge(source, decoded)  # the same pictures: the same verdict, without judging
    assert judged == [1] and not tiles.settled[0, 0]
    tiles.judge(source, grainy(source, 2))  # sharper now: judged again, and settled
    assert judged == [1, 1] and tiles.all_settled
    # A change in the source alone is noticed too.
    tiles.release()
    tiles.judge(source, decoded)
    assert not tiles.settled[0, 0]
    tiles.judge(decoded, decoded)
    assert tiles.all_settled


def test_release_forgets_only_the_tiles_named() -> None:
    source = studio_luma(text_screen(256, 128))
    tiles = SettledTiles(256, 128)
    tiles.judge(source, source)
    assert tiles.all_settled
    changed = np.zeros((2, 4), dtype=bool)
    changed[1, 2] = True
    tiles.release(changed)
    assert (tiles.settled == ~changed).all()
    tiles.release()
    assert not tiles.settled.any()


def test_tiles_that_never_pass_do_not_starve_the_rest() -> None:
    # Every tile is near enough to be judged; the first rows never pass. Within a few frames
    # every good tile must have had its turn.
    width, height = 64 * 16, 64 * 8
    source = studio_luma(text_screen(width, height))
    bad_rows = slice(0, 3 * TILE)
    decoded = blurred(source, bad_rows, slice(0, width))
    tiles = SettledTiles(width, height)
    frames = -(-tiles.settled.size // JUDGE_TILES_PER_FRAME)
    for _ in range(frames + 1):
        tiles.judge(source, decoded)
    assert tiles.settled[3:].all()
    assert not tiles.settled[:3].any()


def test_hold_rects_cover_exactly_the_settled_tiles() -> None:
    width, height = 64 * 5 + 32, 64 * 4 + 16  # edge tiles cut by the picture
    tiles = SettledTiles(width, height)
    rng = np.random.default_rng(3)
    tiles.settled[...] = rng.random(tiles.shape) < 0.6
    tiles.settled[0, :] = True  # a full row
    tiles.settled[1:, 1:3] = True  # a column of equal runs: merged into one rectangle
    covered = np.zeros((height, width), dtype=np.int32)
    rects = tiles.hold_rects()
    for x, y, w, h in rects:
        assert w > 0 and h > 0 and x + w <= width and y + h <= height
        covered[y : y + h, x : x + w] += 1
    wanted = np.kron(tiles.settled, np.ones((TILE, TILE), dtype=np.int32))[:height, :width]
    assert (covered == wanted).all()  # every settled pixel once, nothing else
    assert len(rects) < int(tiles.settled.sum())


def test_a_held_area_is_not_sharpened_further() -> None:
    page = text_screen(320, 240)
    results = []
    for hold in ([], [(0, 0, 320, 128)]):
        encoder = H264Encoder(320, 240)
        decoder = H264Decoder()
        encoder.set_vbv(15 * 8 * 8_000, 8 * 8_000)  # a blurred first picture (SSIM ~0.74)
        first = decoder.decode(encoder.encode(page, 0)).image
        encoder.set_vbv(15 * 8 * 500, 8 * 8_000)  # then small steps
        assert first is not None
        sizes = []
        for i in range(1, 25):
            packet = encoder.encode(page, i, hold=hold)
            sizes.append(len(packet.data))
            shown = decoder.decode(packet).image
        assert shown is not None
        top, bottom = (0, 0, 320, 128), (0, 128, 320, 112)
        results.append(
            (ssim(page, first, top), ssim(page, shown, top), ssim(page, shown, bottom), sum(sizes))
        )
    (_, free_top, free_bottom, free_bytes), (held_first, held_top, held_bottom, held_bytes) = (
        results
    )
    assert free_top > held_first + 0.05  # sharpened where not held
    assert abs(held_top - held_first) < 0.01  # left as it was where held
    assert held_bottom > held_first + 0.05 and abs(held_bottom - free_bottom) < 0.05
    assert held_bytes < free_bytes


class Viewer:
    """The far end of a prompt link: decodes every packet and reports it at once."""

    def __init__(self, sender: VideoSender) -> None:
        self.sender = sender
        self.decoder = H264Decoder()
        self.wire = 0
        self.shown: np.ndarray | None = None

    def play(self, frame: np.ndarray, t0: float, seconds: float) -> list[int]:
        """Offer ``frame`` every 0.05 s for ``seconds``; returns the sizes of the packets."""
        sizes = []
        for step in range(int(seconds / 0.05)):
            t = t0 + step * 0.05
            packet = self.sender.offer(frame, t)
            if packet is None:
                continue
            sizes.append(len(packet.data))
            self.wire += len(packet.data) + VIDEO_WIRE_OVERHEAD_BYTES
            self.shown = self.decoder.decode(packet).image
            assert self.shown is not None
            report = ReceiverReport(self.wire, packet.frame_index, need_keyframe=False)
            self.sender.apply_feedback(t + 0.03, report)
        return sizes


def refined_page(width: int, height: int) -> tuple[np.ndarray, Viewer, SettledTiles]:
    """A text page sent until its refinement is over; the page, the viewer and the tiles."""
    page = text_screen(width, height)
    sender = VideoSender(width, height)
    viewer = Viewer(sender)
    viewer.play(page, 0.0, 20.0)
    assert sender.settled is not None and viewer.shown is not None
    return page, viewer, sender.settled


def test_a_still_screen_settles_and_its_refinement_ends() -> None:
    page, viewer, settled = refined_page(640, 480)
    # These dense random glyphs level off around tile SSIM 0.976-0.99 at x264's quantiser
    # floor, some with white gaps a few levels dark: most tiles settle (45-51 of 80 in ten
    # runs; x264's two threads make runs differ), the rest end with the tiny packets as before.
    assert settled.settled.sum() >= 0.5 * settled.settled.size
    assert viewer.shown is not None
    for r, c in zip(*np.nonzero(settled.settled), strict=True):
        rect = (int(c) * TILE, int(r) * TILE, TILE, TILE)
        assert ssim(page, viewer.shown, rect) >= SETTLE_SSIM - 0.01  # held only when good
    assert viewer.play(page, 20.0, 2.0) == []  # finished: nothing more is sent


def test_a_keystroke_is_sent_small_and_leaves_the_rest_settled() -> None:
    page, viewer, settled = refined_page(640, 480)
    before = settled.settled.copy()
    typed = page.copy()
    typed[200:210, 300:307, :3] = 30  # one glyph, inside tile (3, 4)
    sizes = viewer.play(typed, 20.0, 0.1)
    assert sizes and sizes[0] < 600
    assert viewer.shown is not None and ssim(typed, viewer.shown, (256, 192, 64, 64)) > 0.9
    others = np.ones_like(before)
    others[3, 4] = False
    assert (settled.settled[others] >= before[others]).all()  # nothing else was released


def test_a_keyframe_request_releases_everything() -> None:
    _, viewer, settled = refined_page(320, 240)
    assert settled.settled.any()
    viewer.sender.request_keyframe()
    assert not settled.settled.any()
