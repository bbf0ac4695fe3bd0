"""An unchanged screen's refinement frames are encoded from the encoder's own copy of the last
picture (H264Encoder.encode_again): the same packets, without converting the frame again."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import LocalError
from core.media import encoder as encoder_module
from core.media.decoder import H264Decoder
from core.media.encoder import H264Encoder
from core.media.quality import ssim
from core.media.rate import ReceiverReport
from core.media.sender import VIDEO_WIRE_OVERHEAD_BYTES, VideoSender

from .conftest import text_screen

W, H = 640, 480
STEP_S = 0.05
HOLD = [(0, 0, 128, 64)]


def test_encoding_again_gives_the_packets_of_encoding_the_same_frame(screen, monkeypatch) -> None:
    # One thread: x264's sliced threads make two encoders of the same frames differ slightly.
    monkeypatch.setattr(encoder_module, "ENCODER_THREADS", 1)
    converting, reusing = H264Encoder(320, 240), H264Encoder(320, 240)
    for encoder in (converting, reusing):
        encoder.set_vbv(80_000, 80_000)
        encoder.encode(screen, 0)
    for i in range(1, 6):
        hold = HOLD if i % 2 else []
        expected = converting.encode(screen, i, hold)
        got = reusing.encode_again(i, hold)
        assert (got.data, got.frame_index, got.keyframe) == (
            expected.data,
            expected.frame_index,
            expected.keyframe,
        )
    converting.request_keyframe()
    reusing.request_keyframe()
    assert reusing.encode_again(9).data == converting.encode(screen, 9).data  # an IDR too


def test_encoding_again_needs_a_picture() -> None:
    with pytest.raises(LocalError):
        H264Encoder(64, 64).encode_again(0)


class Conversions:
    """Counts the frames an encoder converted (each conversion keeps a copy of its luma)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = encoder_module.plane_copy

        def counted(*args, **kwargs):
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(encoder_module, "plane_copy", counted)


class Viewer:
    """The far end of a prompt link: decodes every packet and reports it at once."""

    def __init__(self) -> None:
        self.sender = VideoSender(W, H)
        self.decoder = H264Decoder()
        self.wire = 0

    def play(
        self,
        frame: np.ndarray,
        start: float,
        seconds: float,
        focus: tuple[int, int, int, int] | None = None,
    ) -> tuple[int, np.ndarray | None]:
        """Offer ``frame`` every STEP_S; the packets sent and the last picture shown."""
        sent, shown = 0, None
        for step in range(round(seconds / STEP_S)):
            now = start + step * STEP_S
            packet = self.sender.offer(frame, now, focus=focus)
            if packet is None:
                continue
            sent += 1
            self.wire += len(packet.data) + VIDEO_WIRE_OVERHEAD_BYTES
            shown = self.decoder.decode(packet).image
            report = ReceiverReport(self.wire, packet.frame_index, need_keyframe=False)
            self.sender.apply_feedback(now + 0.03, report)
        return sent, shown


def test_a_still_screens_refinement_is_not_converted_again_and_a_change_is(monkeypatch) -> None:
    conversions = Conversions(monkeypatch)
    viewer, page = Viewer(), text_screen(W, H)
    sent, _ = viewer.play(page, 0.0, 3.0)
    assert sent > 3 and conversions.count == 1  # the first frame only
    typed = page.copy()
    typed[200:210, 300:307, :3] = 30
    sent, shown = viewer.play(typed, 3.0, 1.0)
    assert sent >= 1 and conversions.count == 2
    glyph = (288, 192, 32, 32)
    assert shown is not None and ssim(typed, shown, glyph) > ssim(page, shown, glyph) + 0.05


def test_the_reveal_after_a_focus_first_preview_is_converted_again(monkeypatch) -> None:
    conversions = Conversions(monkeypatch)
    viewer, page, focus = Viewer(), text_screen(W, H), (0, 0, 320, 240)
    _, preview = viewer.play(page, 0.0, 0.3, focus)
    assert preview is not None and ssim(page, preview, (320, 240, 320, 240)) < 0.5  # flattened
    _, shown = viewer.play(page, 0.3, 8.0, focus)  # the screen itself never changes
    assert conversions.count == 2  # the preview, then the whole picture
    assert shown is not None and ssim(page, shown, (320, 240, 320, 240)) > 0.9
