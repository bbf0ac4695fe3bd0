"""H.264 decoding for the viewer: one picture out per packet, straight into a QImage-ready buffer.

Frame threading is off (it would hold pictures back by a frame per thread). Anything wrong with
the stream, a lost packet (a gap in ``frame_index``), bytes the decoder rejects or a picture it
flags as corrupt, ends in ``need_keyframe``: the viewer asks the host for an IDR and keeps
showing the last good picture until one arrives. Nothing here raises on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

from core.media.encoder import VideoPacket
from core.media.frames import plane_copy

# Slice threads are useless on x264's single-slice stream; frame threads add a frame of delay.
DECODER_THREADS = 1
# The largest picture the viewer accepts: 8K UHD, room for three 4K monitors side by side. The
# size comes from the stream, i.e. from the office PC; without a cap, a stream declaring
# 16k x 16k would make the home PC allocate ~1 GB per picture.
MAX_PICTURE_PIXELS = 7680 * 4320


@dataclass(frozen=True)
class Decoded:
    """What one packet gave.

    ``image`` is an (h, w, 4) C-contiguous BGRA array (wrap it with
    ``QImage(image.data, w, h, image.strides[0], QImage.Format_RGB32)``), or None when there is
    nothing new to show; ``need_keyframe`` asks the host for an IDR.
    """

    image: npt.NDArray[np.uint8] | None
    need_keyframe: bool


class H264Decoder:
    """Decodes the packets of one session in order."""

    def __init__(self, *, luma_only: bool = False) -> None:
        """``luma_only``: images are the (h, w) luma plane as decoded (studio range), for the
        host judging its own stream (core.media.settle), not BGRA for display."""
        self._luma_only = luma_only
        self._ctx = self._new_context()
        self._expected_index: int | None = None  # None: waiting for a keyframe

    @staticmethod
    def _new_context() -> av.VideoCodecContext:
        ctx = av.CodecContext.create("h264", "r")
        assert isinstance(ctx, av.VideoCodecContext)
        ctx.thread_count = DECODER_THREADS
        ctx.thread_type = "SLICE"
        ctx.options = {"max_pixels": str(MAX_PICTURE_PIXELS)}  # FFmpeg refuses larger pictures
        return ctx

    @property
    def waiting_for_keyframe(self) -> bool:
        return self._expected_index is None

    def decode(self, packet: VideoPacket) -> Decoded:
        """Decode ``packet``; a broken stream yields ``need_keyframe`` and never an exception."""
        if self._expected_index is None and not packet.keyframe:
            return Decoded(None, need_keyframe=True)  # P-frames before an IDR are useless
        gap = self._expected_index is not None and packet.frame_index != self._expected_index
        if gap and not packet.keyframe:  # an IDR needs nothing before it
            return self._broken()
        if packet.keyframe:
            self._ctx = self._new_context()  # drop every reference from before
        try:
            frames = self._ctx.decode(av.Packet(packet.data))
        except (av.error.FFmpegError, ValueError):
            return self._broken()
        good = [f for f in frames if not f.is_corrupt]
        if not good or len(good) != len(frames):
            return self._broken()
        if (good[-1].width, good[-1].height) != (packet.width, packet.height):
            return self._broken()  # the stream and the message disagree: trust neither
        self._expected_index = packet.frame_index + 1
        if self._luma_only:
            return Decoded(plane_copy(good[-1], 0), need_keyframe=False)
        image = good[-1].to_ndarray(format="bgra")
        return Decoded(np.ascontiguousarray(image), need_keyframe=False)

    def _broken(self) -> Decoded:
        self._expected_index = None
        return Decoded(None, need_keyframe=True)
