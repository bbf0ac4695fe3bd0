"""H.264 encoding with libx264 through PyAV, tuned for text over a 0.1 Mbit/s link.

Settings come from the measurements in ARCHITECTURE.md: zero-latency (one packet out per frame
in, no lookahead), no periodic keyframes or scene cuts (an IDR only when the viewer asks), CRF
with a quantiser floor (``qpmin``: without it an unchanged screen keeps spending ~34 kbit/s on
invisible refinements) and a VBV cap that the rate controller moves frame by frame, and a wide
motion search so scrolled text is predicted instead of re-sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt

from core.errors import LocalError
from core.media.damage import Rect
from core.media.frames import plane_copy
from core.media.rate import MAX_FPS  # x264's VBV counts time in frames of the highest rate

PRESET = "veryfast"  # ~10 ms per refinement frame at 1080p on 2 cores; slower presets buy little
# "ssim" turns off psycho-visual noise shaping, which spends bits on grain text does not have.
TUNE = "zerolatency,ssim"
CRF = 30.0  # full-screen text at SSIM ~0.97 for ~100 kB of intra; lower costs more per keystroke
QP_MIN = 21  # below this x264 polishes invisible detail forever on a static screen
# umh with a 64-pixel range finds a wheel-notch scroll (3 lines, ~75 px with the predictors).
MOTION = "me=umh:merange=64"
# aq-mode 2 (auto-variance) moves bits from flat background to glyph edges.
# subme 6 (RD mode decision) and trellis 1 (on the final quantisation): ~5 % fewer bytes for the
# same text SSIM on a first frame or a window switch (veryfast has subme 2, no trellis).
ANALYSIS = "subme=6:trellis=1"
X264_PARAMS = f"keyint=infinite:scenecut=0:{MOTION}:aq-mode=2:ref=3"
ENCODER_THREADS = 2  # the host PC has other work to do; two threads keep encode under ~40 ms

# Quantiser offset of a held area, as a fraction of the 51-step scale (libavcodec's ROI):
# +0.5 is +25 steps, so x264 codes skip blocks there and leaves the viewer's picture as it is.
HOLD_QP_OFFSET = 0.5

INITIAL_MAXRATE_BPS = 80_000
INITIAL_BUFSIZE_BITS = 80_000


@dataclass(frozen=True)
class VideoPacket:
    """One encoded frame (an H.264 access unit in Annex B form) and what the viewer needs to know.

    ``frame_index`` counts encoded frames from 0 with no gaps, so the viewer sees a lost packet;
    ``capture_us`` is the host's capture time, for latency reports; ``keyframe`` marks an IDR.
    """

    data: bytes
    frame_index: int
    capture_us: int
    keyframe: bool
    width: int
    height: int


class H264Encoder:
    """Turns BGRA frames of one fixed size into :class:`VideoPacket`s, one per frame."""

    def __init__(
        self,
        width: int,
        height: int,
        *,
        output_size: tuple[int, int] | None = None,
        crf: float = CRF,
        qp_min: int = QP_MIN,
        first_index: int = 0,
        analysis: str = ANALYSIS,
    ) -> None:
        """``analysis`` other than the default is for measurements (bench/legibility_floor.py)."""
        if width % 2 or height % 2 or width < 16 or height < 16:
            raise LocalError(f"frame size {width}x{height} must be even and at least 16x16")
        self.input_size = (width, height)
        out_w, out_h = output_size or (width, height)
        if out_w % 2 or out_h % 2:
            raise LocalError(f"output size {out_w}x{out_h} must be even")
        self.output_size = (out_w, out_h)
        ctx = av.CodecContext.create("libx264", "w")
        assert isinstance(ctx, av.VideoCodecContext)
        ctx.width, ctx.height = out_w, out_h
        ctx.pix_fmt = "yuv420p"  # 4:4:4 costs +60 % encode time for little gain on black text
        ctx.time_base = Fraction(1, MAX_FPS)
        ctx.framerate = Fraction(MAX_FPS, 1)
        ctx.thread_count = ENCODER_THREADS
        ctx.max_bit_rate = INITIAL_MAXRATE_BPS
        ctx.rc_buffer_size = INITIAL_BUFSIZE_BITS
        ctx.options = {
            "preset": PRESET,
            "tune": TUNE,
            "crf": f"{crf:g}",
            "forced-idr": "1",  # a requested keyframe must be an IDR the viewer can start from
            "x264-params": f"{X264_PARAMS}:{analysis}:qpmin={qp_min}",
        }
        self._ctx = ctx  # opened on the first frame, so a set_vbv() before it counts from frame 0
        self._frame_index = first_index  # a replacement encoder continues the session's count
        self._keyframe_requested = True  # the first frame is an IDR anyway
        # The luma plane of the last frame encoded, as x264 saw it (before any hold).
        self.last_luma: npt.NDArray[np.uint8] | None = None
        self._last_picture: av.VideoFrame | None = None  # the same, whole, to encode again

    @property
    def frames_encoded(self) -> int:
        """The index the next packet will carry."""
        return self._frame_index

    def request_keyframe(self) -> None:
        """Make the next frame an IDR (the viewer started, lost a packet, or resumed)."""
        self._keyframe_requested = True

    def set_vbv(self, maxrate_bps: int, bufsize_bits: int) -> None:
        """Move the VBV cap; libx264 reconfigures itself before the next frame, no IDR needed."""
        self._ctx.max_bit_rate = max(1_000, int(maxrate_bps))
        self._ctx.rc_buffer_size = max(1_000, int(bufsize_bits))

    def encode(
        self, frame: npt.NDArray[np.uint8], capture_us: int, hold: Sequence[Rect] = ()
    ) -> VideoPacket:
        """Encode one (h, w, 4) BGRA frame of the input size; always returns its packet.

        ``hold``: areas (output pixels, on 16-px macroblock lines) the viewer already has well
        enough, which x264 should not sharpen further (core.media.settle)."""
        h, w = frame.shape[:2]
        if (w, h) != self.input_size or frame.ndim != 3 or frame.shape[2] != 4:
            raise LocalError(f"frame {frame.shape} does not match encoder input {self.input_size}")
        src = av.VideoFrame.from_numpy_buffer(frame, format="bgra")  # zero-copy
        out_w, out_h = self.output_size
        yuv = src.reformat(width=out_w, height=out_h, format="yuv420p", interpolation="AREA")
        self.last_luma = plane_copy(yuv, 0)
        self._last_picture = yuv
        return self._encode(yuv, capture_us, hold)

    def repeat(self, capture_us: int) -> VideoPacket:
        """A packet of the last picture again, every macroblock held (skip blocks, ~200 bytes).

        What it is for: x264's VBV buffer refills only after a frame. After a run of
        refinement frames at the link rate it is nearly empty, and a big change encoded next
        gets half of that (~5 kB: a spreadsheet raised over other windows came blurred and took
        9 s of refinement to be crisp). Repeating the last picture under the big change's VBV
        settings refills the buffer at no cost, so the change itself may take all of it."""
        if self._keyframe_requested:
            raise LocalError("a repeat cannot stand in for a keyframe")
        w, h = self.output_size
        return self.encode_again(capture_us, [(0, 0, w, h)])

    def encode_again(self, capture_us: int, hold: Sequence[Rect] = ()) -> VideoPacket:
        """The last picture encoded again, as :meth:`encode` would from the same frame, without
        converting it again (~10 ms of a 1080p frame): for a frame the caller knows to be
        unchanged, such as one more refinement of a still screen."""
        if self._last_picture is None:
            raise LocalError("no picture was encoded yet")
        return self._encode(self._last_picture, capture_us, hold)

    def _encode(self, yuv: av.VideoFrame, capture_us: int, hold: Sequence[Rect]) -> VideoPacket:
        if hold:
            yuv = _with_regions(yuv, hold, HOLD_QP_OFFSET)
        yuv.pts = self._frame_index
        keyframe = self._keyframe_requested
        # Set either way: a repeated picture must not inherit an IDR's forced type.
        kinds = av.video.frame.PictureType
        yuv.pict_type = kinds.I if keyframe else kinds.NONE
        self._keyframe_requested = False
        if not self._ctx.is_open:
            self._ctx.open()
        packets = self._ctx.encode(yuv)
        if not packets:
            raise LocalError("libx264 held a frame back; zerolatency must be in effect")
        packet = VideoPacket(
            data=b"".join(bytes(p) for p in packets),
            frame_index=self._frame_index,
            capture_us=capture_us,
            keyframe=keyframe or any(p.is_keyframe for p in packets),
            width=self.output_size[0],
            height=self.output_size[1],
        )
        self._frame_index += 1
        return packet


def _with_regions(frame: av.VideoFrame, rects: Sequence[Rect], qoffset: float) -> av.VideoFrame:
    """``frame`` carrying regions of interest (libavcodec's side data, which libx264 turns
    into per-macroblock quantiser offsets), added by FFmpeg's ``addroi`` filter."""
    graph = av.filter.Graph()
    last = graph.add_buffer(
        width=frame.width,
        height=frame.height,
        format=frame.format.name,
        time_base=Fraction(1, MAX_FPS),
    )
    for x, y, w, h in rects:
        node = graph.add("addroi", f"x={x}:y={y}:w={w}:h={h}:qoffset={qoffset:g}")
        last.link_to(node)
        last = node
    sink = graph.add("buffersink")
    last.link_to(sink)
    graph.configure()
    graph.push(frame)
    out = graph.pull()
    assert isinstance(out, av.VideoFrame)
    return out
