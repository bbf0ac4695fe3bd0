"""The host's video pipeline: change detection, rate control and the encoder, in one object.

The host app captures frames when :meth:`VideoSender.next_poll_delay` says, hands each to
:meth:`VideoSender.offer` with the current time, and sends any packet it gets back. Receiver
reports go to :meth:`apply_feedback`, keyframe requests to :meth:`request_keyframe`, and the
bytes of other session messages (cursor) to :meth:`on_other_sent`, so the budget sees them.
Another monitor is :meth:`resize`, not a new sender: the session's budget is one.

Frames are encoded when something changed, and afterwards at ``REFINE_FPS`` while x264 is still
sharpening the picture (its packets are not yet tiny): skipping those would starve refinement.
A refinement frame held by the queue gate is looked for again at ``MAX_FPS``, so it follows
the viewer's report of the last one instead of leaving the link idle until the next interval.
Once packets are tiny an unchanged screen costs nothing at all. The host decodes its own stream
and stops x264 sharpening tiles the viewer already has well enough (:mod:`core.media.settle`);
refinement also ends when every tile is settled.

A big change in a window other than the last one active (a window switch) goes out as one large
frame: x264's VBV buffer, which refinement at the link's pace keeps nearly empty, is first
refilled by a repeat of the last picture (a ~100-byte packet), and the new window, once it has
stopped painting, may then take all of it. Refinement frames leave room in the budget window for
that. A big change in the same window (a scroll, a page turned) goes out as before, in smaller
frames that follow the user's paging.

A fresh picture (session start, keyframe request) is sent *focus first*: if the app says where
the user's attention is (the active window), everything outside it is replaced by flat 16x16
block averages, which cost x264 almost nothing, so the first frame's few kilobytes go to the
text the user reads. The rest is revealed once the focus area is sharp.

With an :class:`~core.media.overlay.Overlay` set (the policy's burned-in watermark), every frame
encoded carries it, so no packet leaves without it; a new mark (its time, once a minute) counts
as a change of the picture. Frames not encoded are not marked (change detection compares the
screen itself). The focus-first preview's flat blocks flatten the mark too, with everything else
outside the focus, which shows nothing legible either.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from core.media.damage import DamageTracker, Rect
from core.media.decoder import H264Decoder
from core.media.encoder import H264Encoder, VideoPacket
from core.media.overlay import Overlay
from core.media.rate import (
    ACTIVE_HOLD_S,
    BURST_MAX_BYTES,
    FIRST_FRAME_MAX_BYTES,
    IDLE_POLL_FPS,
    MAX_FPS,
    REFINE_FPS,
    RateController,
    ReceiverReport,
    Vbv,
)
from core.media.settle import SettledTiles
from core.protocol.session import SESSION_BUDGET_BPS

# Wire cost of one video message on top of its H.264 bytes: the 6-byte frame header, the 17-byte
# video message header, and two TLS 1.3 records' overhead (22 bytes each, TLS inside TLS).
VIDEO_WIRE_OVERHEAD_BYTES = 6 + 17 + 2 * 22
TINY_PACKET_BYTES = 160  # x264 refinement below this is invisible; stop feeding still frames
# This many tiny packets in a row end refinement. After a large frame (a burst) x264's P-frame
# quantiser comes down over a few frames (its complexity memory halves each frame), so the first
# three or four refinement packets can be tiny before refinement really starts.
TINY_STREAK = 6
# Economy mode (links under rate.ECONOMY_BELOW_BPS) scales by this much: 1920x1080 -> 1280x720.
ECONOMY_SCALE = 2 / 3
ECONOMY_MIN_WIDTH = 1280  # screens this narrow already are small enough
PREVIEW_BLOCK = 64  # 4x4 macroblocks: a coarse preview costs x264 almost nothing
REVEAL_AFTER_S = 4.0  # reveal the rest even if the focus area is still refining
# A change of at least this share of the screen's tiles (a window switch: ~0.4 on the office
# scene; a wheel notch in a half-screen window: ~0.28) is sent as one burst (rate.vbv).
BIG_CHANGE_FRACTION = 0.35
# A big change's frame may take the whole VBV fill up to this much (rate.vbv): on the office scene
# a window switch reaches text SSIM 0.95 in one ~19 kB P-frame, and a larger one only delays the
# next frame (the user is typing again by then).
SWITCH_FRAME_MAX_BYTES = 22_000
# A primed big change (VideoSender._prime) waits while this share of the tiles still changes
# from one look to the next (a smooth scroll's animation: ~0.1-0.4 of the screen per look), but
# no longer than this after the primer.
SETTLING_FRACTION = 0.02
SETTLE_WAIT_S = 0.3
# Sharpening a picture that has not changed leaves this much of the budget window unspent, so the
# next change (a window switch's one large frame, a keystroke) still finds room: a dense screen's
# refinement runs at the link's pace (~80 kbit/s) for 10 s and more, and would leave the window
# nearly full (on the desk scene without it, latency p95 702 and 788 ms against 490-597 with it).
# On a link as fast as the budget, refinement is then paced by the window, not the link.
REFINE_RESERVE_BYTES = SWITCH_FRAME_MAX_BYTES


def flatten_outside(
    frame: npt.NDArray[np.uint8], keep: Rect, block: int = PREVIEW_BLOCK
) -> npt.NDArray[np.uint8]:
    """A copy of ``frame`` with everything outside ``keep`` as flat ``block``-sized averages."""
    h, w = frame.shape[:2]
    bh, bw = h // block * block, w // block * block
    out = np.array(frame, copy=True)
    blocks = out[:bh, :bw].reshape(bh // block, block, bw // block, block, 4)
    means = blocks.mean(axis=(1, 3), dtype=np.float32).astype(np.uint8)
    blocks[...] = means[:, None, :, None, :]
    x, y, kw, kh = keep
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + kw), min(h, y + kh)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
    return out


def economy_size(width: int, height: int) -> tuple[int, int]:
    """The downscaled, still even, picture size of economy mode."""
    return (round(width * ECONOMY_SCALE) & ~1, round(height * ECONOMY_SCALE) & ~1)


class VideoSender:
    """One session's outgoing video; the capture size changes only by :meth:`resize`."""

    # Set by _start_judging for each encoder.
    _settled: SettledTiles | None
    _own_decoder: H264Decoder
    _unjudged: VideoPacket | None  # sent, not yet decoded and judged by us
    _judge_unjudged: bool  # whether its tiles are judged (not a repeat before a big change)
    _primed: Vbv | None  # a big change's VBV, x264's buffer filled for it by a repeat

    def __init__(
        self,
        width: int,
        height: int,
        budget_bps: int = SESSION_BUDGET_BPS,
        *,
        allow_economy: bool = True,
    ) -> None:
        self.size = (width, height)
        self.rate = RateController(budget_bps)
        self.allow_economy = allow_economy
        self._damage = DamageTracker()
        self._economy = False
        self._encoder = H264Encoder(width, height)
        self._start_judging()
        self._dirty = True  # something changed that no packet carries yet
        self._tiny_streak = 0
        self._refining = False
        self._last_frame_at: float | None = None
        self._last_change_at = -1e9
        self._fresh = True  # the next frame is a keyframe starting a picture from scratch
        self._reveal_pending = False
        self._reveal_started = 0.0
        self._big_change = False  # a big change that no packet carries yet
        self._window_switched = False  # the active window changed since the last packet
        self._last_focus: tuple[Rect, int | None] | None = None  # the last active window seen
        self._last_flatten: Rect | None = None  # the focus the last frame's preview kept
        self.overlay: Overlay | None = None

    # ----- app-facing API ----------------------------------------------------------------
    @property
    def economy(self) -> bool:
        return self._economy

    @property
    def settled(self) -> SettledTiles | None:
        """The tiles the viewer has well enough (None while the picture is scaled)."""
        return self._settled

    def request_keyframe(self) -> None:
        """The viewer asked for an IDR (start, decode error, resume)."""
        self._encoder.request_keyframe()
        self._fresh = True
        self._dirty = True
        self._release_all()

    def resize(self, width: int, height: int) -> None:
        """Capture ``width`` x ``height`` from now on (the viewer chose another monitor).

        The next frame starts a fresh picture, but the rate control stays: bytes sent before
        still count in the budget window, the viewer's session-wide byte count still matches
        ours (so the queue gate sees what is in flight), and the link estimate is kept. Frame
        indices continue, so the viewer's reports keep naming our frames."""
        self.size = (width, height)
        self._damage = DamageTracker()
        self._encoder = self._new_encoder()
        self._start_judging()
        self._tiny_streak = 0
        self._refining = False
        self._reveal_pending = False
        self._big_change = False
        self._window_switched = False
        self.request_keyframe()

    def set_overlay(self, overlay: Overlay | None) -> None:
        """Burn ``overlay`` into every frame encoded from now on (None: no mark)."""
        self.overlay = overlay if overlay is not None and not overlay.empty else None
        self._dirty = True  # the picture changed even if the screen did not
        self._release_all()

    def apply_feedback(self, now: float, report: ReceiverReport) -> None:
        self.rate.apply_feedback(now, report)
        if report.need_keyframe:
            self.request_keyframe()

    def on_other_sent(self, now: float, wire_bytes: int) -> None:
        """Count another message of this session (cursor, policy) against the budget."""
        self.rate.on_sent(now, wire_bytes)

    def needs_picture(self, now: float) -> bool:
        """Whether a frame with nothing drawn in it would still be encoded now (refining or
        revealing the last change): if not, and the display server says nothing was drawn,
        the screen need not even be captured."""
        return self._wants_frame(now) and self.rate.may_encode(now, self._reserve())

    def next_poll_delay(self, now: float) -> float:
        """Seconds until the screen should be captured again."""
        if self._dirty or now - self._last_change_at < ACTIVE_HOLD_S:
            return 1.0 / MAX_FPS
        if self._refining or self._reveal_pending:
            if self._wants_frame(now) and not self.rate.may_encode(now, self._reserve()):
                # Held by the queue gate: the link frees up when the viewer reports the last
                # frame, so look again soon rather than a whole refinement interval later
                # (which left the link idle for half of every refinement).
                return 1.0 / MAX_FPS
            return 1.0 / REFINE_FPS
        return 1.0 / IDLE_POLL_FPS

    def offer(
        self,
        frame: npt.NDArray[np.uint8],
        now: float,
        *,
        focus: Rect | None = None,
        drawn: Sequence[Rect] | None = None,
        window: int | None = None,
    ) -> VideoPacket | None:
        """Consider a captured frame; returns the packet to send, or None to send nothing.
        ``drawn``: the rectangles the display server says were drawn since the last frame
        (None when it cannot tell); ``window``: the identity of the active window whose
        rectangle ``focus`` is (None when the platform cannot tell windows apart)."""
        self._judge_sent()  # first, so this frame's damage releases what it must
        damage = self._damage.update(frame, drawn)
        if damage.changed:
            if self._settled is not None:
                self._settled.release(damage.tiles)
            self._dirty = True
            self._last_change_at = now
            if damage.fraction >= BIG_CHANGE_FRACTION:
                self._big_change = True
        # None: between two windows. Two maximised windows share a rectangle: their identities
        # tell a switch between them.
        if focus is not None and (focus, window) != self._last_focus:
            self._window_switched |= self._last_focus is not None
            self._last_focus = (focus, window)
        self._check_economy()
        if not self._wants_frame(now) or not self.rate.may_encode(now, self._reserve()):
            return None
        if self._primed is not None and self._still_moving(now, damage.fraction):
            return None
        if self._fresh:
            self._primed = None
            vbv = self.rate.vbv(now, FIRST_FRAME_MAX_BYTES, burst_bytes=FIRST_FRAME_MAX_BYTES)
        elif self._primed is not None:
            vbv, self._primed = self._primed, None
        elif self._big_change:
            vbv = self.rate.vbv(now, BURST_MAX_BYTES, burst_bytes=SWITCH_FRAME_MAX_BYTES)
            if vbv.burst and self._window_switched:
                return self._prime(now, vbv)
        else:
            vbv = self.rate.vbv(now, BURST_MAX_BYTES, reserve=self._reserve())
        flatten_to = self._preview_focus(now, focus)
        self._encoder.set_vbv(vbv.maxrate_bps, vbv.bufsize_bits)
        hold = self._settled.hold_rects() if self._settled is not None and not self._fresh else []
        packet = self._encode(frame, flatten_to, int(now * 1_000_000), hold)
        self._count_sent(now, packet)
        self._dirty = False
        self._fresh = False
        self._big_change = False
        self._window_switched = False

        tiny = len(packet.data) < TINY_PACKET_BYTES
        self._tiny_streak = self._tiny_streak + 1 if tiny else 0
        self._refining = self._tiny_streak < TINY_STREAK
        # Judged at the next offer, so the time it takes does not delay this packet.
        self._unjudged, self._judge_unjudged = packet, True
        return packet

    def _still_moving(self, now: float, fraction: float) -> bool:
        """Whether to wait before encoding a primed big change: the screen is still changing
        widely (a smooth scroll, a window repainting), and not for too long yet. The burst
        then carries the final picture, not one that is gone by the time it arrives."""
        primed_at = self._last_frame_at  # the repeat was the last frame encoded
        return (
            fraction >= SETTLING_FRACTION
            and primed_at is not None
            and now - primed_at < SETTLE_WAIT_S
        )

    def _count_sent(self, now: float, packet: VideoPacket) -> None:
        """A packet encoded now: its bytes in the budget, its time for pacing."""
        self.rate.on_sent(now, len(packet.data) + VIDEO_WIRE_OVERHEAD_BYTES)
        self.rate.on_frame(now)
        self._last_frame_at = now

    def _prime(self, now: float, vbv: Vbv) -> VideoPacket:
        """Before a big change's frame: the last picture again, which fills x264's VBV buffer
        under the burst's settings (H264Encoder.repeat), so the change, encoded next, may take
        all of it. The change waits one frame interval for that."""
        self._encoder.set_vbv(vbv.maxrate_bps, vbv.bufsize_bits)
        packet = self._encoder.repeat(capture_us=int(now * 1_000_000))
        self._count_sent(now, packet)
        self._primed = vbv
        # Decoded by our own decoder like every packet, but not judged: it shows the picture
        # before the change, and tiles the change released must not settle on it.
        self._unjudged, self._judge_unjudged = packet, False
        return packet

    # ----- internals ---------------------------------------------------------------------
    def _wants_frame(self, now: float) -> bool:
        since = 1e9 if self._last_frame_at is None else now - self._last_frame_at
        if since < 1.0 / MAX_FPS - 1e-6:
            return False
        if self._dirty:
            return True
        if self._reveal_pending and (
            not self._refining or now - self._reveal_started >= REVEAL_AFTER_S
        ):
            return True
        return self._refining and since >= 1.0 / REFINE_FPS - 1e-6

    def _reserve(self) -> int:
        """Window bytes the next frame must leave unspent: a refinement frame (nothing changed
        since the last packet) keeps room for the next big change."""
        return 0 if self._dirty or self._fresh else REFINE_RESERVE_BYTES

    def _preview_focus(self, now: float, focus: Rect | None) -> Rect | None:
        """The focus area whose outside the next frame flattens (a fresh picture is sent focus
        first, the rest revealed later), or None for the whole screen as it is."""
        if self._fresh and focus is not None:
            self._reveal_pending = True
            self._reveal_started = now
            self._refining = True
            self._tiny_streak = 0
            return focus
        if self._reveal_pending:
            if not self._refining or now - self._reveal_started >= REVEAL_AFTER_S:
                self._reveal_pending = False
                self._refining = True
                self._tiny_streak = 0
                self._release_all()  # the flat preview was finished, not the picture
                return None
            return focus
        return None

    def _encode(
        self,
        frame: npt.NDArray[np.uint8],
        flatten_to: Rect | None,
        capture_us: int,
        hold: Sequence[Rect],
    ) -> VideoPacket:
        """Encode ``frame`` as the encoder should see it. One more refinement of an unchanged
        picture (nothing drawn, no new mark, the same preview: more than half the frames of a
        still spreadsheet) reuses the encoder's own copy instead of converting it again."""
        unchanged = not self._dirty and flatten_to == self._last_flatten
        self._last_flatten = flatten_to
        if unchanged and self._encoder.last_luma is not None:
            return self._encoder.encode_again(capture_us, hold)
        return self._encoder.encode(self._source(frame, flatten_to), capture_us, hold)

    def _source(
        self, frame: npt.NDArray[np.uint8], flatten_to: Rect | None
    ) -> npt.NDArray[np.uint8]:
        """The frame as the encoder should see it: the mark burned in, then the preview's
        flattening."""
        if self.overlay is not None:
            frame = self.overlay.burn(frame)
        return frame if flatten_to is None else flatten_outside(frame, flatten_to)

    def _check_economy(self) -> None:
        want = self.allow_economy and self.rate.economy(self._economy)
        if want != self._economy:
            self._economy = want
            self._encoder = self._new_encoder()
            self._start_judging()
            self.request_keyframe()

    def _judge_sent(self, *, judge: bool = True) -> None:
        """Decode the last packet sent as the viewer will (every packet: our decoder must see
        them all) and settle the tiles that are finished; refinement is over once all are."""
        packet, self._unjudged = self._unjudged, None
        if packet is None or self._settled is None or self._encoder.last_luma is None:
            return
        decoded = self._own_decoder.decode(packet)
        if decoded.image is None:  # cannot happen with our own stream; hold nothing then
            self._settled.release()
        elif judge and self._judge_unjudged:
            self._settled.judge(self._encoder.last_luma, decoded.image)
            if self._settled.all_settled:
                self._refining = False

    def _release_all(self) -> None:
        """The picture starts again (keyframe, reveal, new mark): nothing is finished."""
        self._judge_sent(judge=False)
        if self._settled is not None:
            self._settled.release()

    def _start_judging(self) -> None:
        """Judge a new encoder's output from scratch (core.media.settle): no tile settled, a
        decoder of our own, nothing sent yet; nothing at all for a scaled picture (economy),
        whose tiles are not the screen's."""
        out_w, out_h = self._encoder.output_size
        self._settled = SettledTiles(out_w, out_h) if (out_w, out_h) == self.size else None
        self._own_decoder = H264Decoder(luma_only=True)
        self._unjudged, self._judge_unjudged = None, True
        self._primed = None  # a new encoder's buffer was not filled for anything

    def _new_encoder(self) -> H264Encoder:
        """An encoder for the capture size and mode now that continues the session's count."""
        w, h = self.size
        out = economy_size(w, h) if self._economy and w > ECONOMY_MIN_WIDTH else None
        return H264Encoder(w, h, output_size=out, first_index=self._encoder.frames_encoded)
