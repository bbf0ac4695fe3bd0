"""Rate control: keep every 10-second window inside the session budget and the queue short.

Three things bound what the host may send, all in wire bytes (framing and both TLS layers
included):

* the **budget window**: bytes sent in any ``WINDOW_S`` seconds, session start included, stay
  under ``budget * WINDOW_S * WINDOW_SHARE``;
* the **link**: receiver reports say how many bytes have arrived; what is still in flight, at the
  link rate those reports reveal, is queueing delay, and no frame is encoded while that delay is
  above ``MAX_QUEUE_DELAY_S`` (so latency stays bounded and no queue grows);
* the **encoder's VBV**: the rate controller turns the two above into libx264's VBV maxrate and
  buffer for the next frame, so one frame can never overrun them.

Nothing here reads a clock: every call takes ``now`` (seconds, any monotonic origin).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from core.protocol.session import SESSION_BUDGET_BPS

WINDOW_S = 10.0  # the budget is promised over any window of this length
WINDOW_SHARE = 0.92  # x264's VBV can overshoot by a few percent; keep that much in reserve
LINK_SHARE = 0.88  # of the measured link for video; cursor, input and reports need the rest
MAX_QUEUE_DELAY_S = 0.15  # don't start a frame while older ones would still queue this long
# Frame size caps at the full budget; on a slower link they shrink with it, so a frame never
# occupies the link longer than at full rate.
FIRST_FRAME_MAX_BYTES = 24_000  # ~1.8 s at 100 kbit/s: a ~22 kB frame makes the focus legible
BURST_MAX_BYTES = 36_000  # largest frame for a big change (window switch): ~2.9 s at 100 kbit/s
# x264's VBV buffer refills by at most this much time per frame: a quiet screen fills it up for
# the next big change, but after a big frame the refinement frames stay small (~2 kB), so a
# keystroke typed meanwhile never waits long behind one.
REFILL_MAX_S = 0.2
# A big change (window switch, fresh picture) may instead start from a full buffer: the queue
# gate has already let the link drain, so the switch goes out as one large, nearly crisp frame
# even if scrolling or typing just before had kept the buffer low. At most once this often, so
# a screen that changes completely all the time (a video, a window drag) is not sent as a
# series of huge, slow frames.
BURST_SPACING_S = 4.0
MIN_FRAME_BYTES = 600  # below this much room there is no point encoding; wait instead
LINK_PROBE_BYTES = 1_500  # in flight needed before an arrival rate counts as a link measurement
LINK_EWMA = 0.3  # weight of a new link measurement; the link changes on a scale of seconds
MIN_LINK_BPS = 8_000  # never believe a link slower than this (one bad sample must not stall us)
MAX_FPS = 15  # when things move
REFINE_FPS = 5  # while x264 sharpens a still picture: fewer, larger frames waste less on headers
IDLE_POLL_FPS = 4  # how often an idle screen is looked at (first change shows within 250 ms)
ACTIVE_HOLD_S = 1.5  # keep polling fast this long after the last change
# Below this link rate, downscale (see core.media.sender). Well under the 50 kbit/s links that
# still read fine at full size: a 50 kbit/s link's noisy estimate dips below 40 kbit/s, and a
# downscaled picture never gets crisp text again.
ECONOMY_BELOW_BPS = 30_000
ECONOMY_UNTIL_BPS = 60_000  # and keep downscaling until the link is this fast (each switch = IDR)


@dataclass(frozen=True)
class ReceiverReport:
    """What the viewer tells the host, a few times a second and at once on trouble.

    ``bytes_received`` counts every video and cursor wire byte since the session began (mod
    2**32); ``last_frame_index`` is the newest packet decoded; ``need_keyframe`` asks for an IDR.
    On the wire this is ``core.protocol.session.Feedback`` (``received_bytes``, ``highest_seq``)
    and ``KeyframeRequest``.
    """

    bytes_received: int
    last_frame_index: int
    need_keyframe: bool


@dataclass(frozen=True)
class Vbv:
    """libx264 VBV settings for the next frame (see ``H264Encoder.set_vbv``)."""

    maxrate_bps: int
    bufsize_bits: int
    burst: bool = False  # a big change's frame, which may take the whole buffer


class RateController:
    """Budget, link and pacing bookkeeping for one session's video."""

    def __init__(self, budget_bps: int = SESSION_BUDGET_BPS) -> None:
        self.budget_bps = budget_bps
        self.link_bps = float(budget_bps)  # until reports say otherwise
        self._sent: deque[tuple[float, int]] = deque()  # (time, wire bytes) inside the window
        self._sent_in_window = 0
        self._sent_total = 0
        self._acked_total = 0
        self._last_report: tuple[float, int, int] | None = None  # time, received, in flight
        self._last_frame_at: float | None = None
        self._last_burst_at = -1e9

    # ----- accounting --------------------------------------------------------------------
    def on_sent(self, now: float, wire_bytes: int) -> None:
        """Count bytes handed to the connection (video, cursor, anything of this session)."""
        self._sent.append((now, wire_bytes))
        self._sent_in_window += wire_bytes
        self._sent_total += wire_bytes

    def on_frame(self, now: float) -> None:
        self._last_frame_at = now

    def _expire(self, now: float) -> None:
        while self._sent and self._sent[0][0] <= now - WINDOW_S:
            self._sent_in_window -= self._sent.popleft()[1]

    def window_room(self, now: float, reserve: int = 0) -> int:
        """Bytes that may still be sent now without any window exceeding its share, keeping
        ``reserve`` of it unspent."""
        self._expire(now)
        allowed = self.budget_bps / 8 * WINDOW_S * WINDOW_SHARE
        return max(0, int(allowed) - reserve - self._sent_in_window)

    @property
    def in_flight(self) -> int:
        """Bytes sent that the receiver has not reported yet."""
        return max(0, self._sent_total - self._acked_total)

    # ----- feedback ----------------------------------------------------------------------
    def apply_feedback(self, now: float, report: ReceiverReport) -> None:
        """Learn the link rate and the queue from a receiver report (late or repeated ones too)."""
        received = self._unwrap(report.bytes_received)
        self._acked_total = max(self._acked_total, received)
        if self._last_report is None:
            self._last_report = (now, received, self.in_flight)
            return
        t0, r0, in_flight0 = self._last_report
        if received <= r0:
            return  # nothing new arrived: keep measuring from the older report
        dt = now - t0
        # Only a busy link shows its rate; an idle one shows how little we sent.
        if dt > 0 and in_flight0 >= LINK_PROBE_BYTES:
            sample = (received - r0) * 8 / dt
            self.link_bps += LINK_EWMA * (sample - self.link_bps)
            self.link_bps = min(float(self.budget_bps), max(float(MIN_LINK_BPS), self.link_bps))
        self._last_report = (now, received, self.in_flight)

    def _unwrap(self, received32: int) -> int:
        """Undo the 32-bit wrap of ``bytes_received`` using our own send count."""
        base = self._acked_total & ~0xFFFFFFFF
        value = base | received32
        if value < self._acked_total - 0x80000000:
            value += 1 << 32
        return value

    # ----- decisions ---------------------------------------------------------------------
    @property
    def video_bps(self) -> float:
        """The rate video may use now."""
        return min(self.link_bps * LINK_SHARE, self.budget_bps * WINDOW_SHARE)

    def economy(self, now_in_economy: bool) -> bool:
        """Whether the link is so slow that a smaller picture reads better than a blurred one."""
        limit = ECONOMY_UNTIL_BPS if now_in_economy else ECONOMY_BELOW_BPS
        return self.link_bps < limit

    def queue_delay(self) -> float:
        """Seconds the bytes in flight need to drain at the measured link rate."""
        return self.in_flight * 8 / self.link_bps

    def may_encode(self, now: float, reserve: int = 0) -> bool:
        """Whether a frame may be started now (queue short, and budget left beyond
        ``reserve``)."""
        return (
            self.queue_delay() <= MAX_QUEUE_DELAY_S
            and self.window_room(now, reserve) >= MIN_FRAME_BYTES
        )

    def vbv(
        self, now: float, cap_bytes: int, *, burst_bytes: int | None = None, reserve: int = 0
    ) -> Vbv:
        """VBV for a frame encoded now: refill for the time since the last frame, and a buffer
        no larger than the window room (less ``reserve``) or ``cap_bytes`` (the largest frame
        wanted now).

        ``burst_bytes`` (a big change) asks for one frame that may use the whole buffer's fill,
        up to that size, at most every ``BURST_SPACING_S``; otherwise it is ignored."""
        since = 1.0 / MAX_FPS if self._last_frame_at is None else now - self._last_frame_at
        since = min(max(since, 1.0 / MAX_FPS), REFILL_MAX_S)
        # x264 refills its buffer by maxrate / MAX_FPS per frame: scale so that is rate * since.
        maxrate = self.video_bps * since * MAX_FPS
        burst = burst_bytes is not None and now - self._last_burst_at >= BURST_SPACING_S
        if burst and burst_bytes is not None:
            cap_bytes = burst_bytes
        link_scale = min(1.0, self.link_bps / self.budget_bps)
        room = min(cap_bytes * link_scale, self.window_room(now, reserve))
        bufsize = max(int(room * 8), MIN_FRAME_BYTES * 8)
        if burst:
            self._last_burst_at = now
            # One frame's refill is (nearly) the whole buffer: x264 then lets this frame take all
            # of the buffer's fill (not half), and refills the buffer completely after it, so
            # the next frame can finish the job if this one found the buffer low (after a
            # scroll). x264 refuses a buffer under one frame's refill, hence the margin.
            maxrate = max(maxrate, (bufsize - 2_000) * MAX_FPS)
        return Vbv(int(maxrate), bufsize, burst)
