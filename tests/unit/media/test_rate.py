"""Rate control and the sender: budget windows, feedback, pacing, skipping (injected clock)."""

from __future__ import annotations

import numpy as np

from core.media.damage import TILE, DamageTracker, tile_damage
from core.media.rate import (
    BURST_SPACING_S,
    MAX_FPS,
    MAX_QUEUE_DELAY_S,
    REFINE_FPS,
    WINDOW_S,
    WINDOW_SHARE,
    RateController,
    ReceiverReport,
)
from core.media.sender import (
    REFINE_RESERVE_BYTES,
    VIDEO_WIRE_OVERHEAD_BYTES,
    VideoSender,
    economy_size,
    flatten_outside,
)
from core.protocol.session import SESSION_BUDGET_BPS

from .conftest import text_screen


def test_window_room_counts_every_byte_of_the_last_window() -> None:
    rate = RateController(100_000)
    full = int(100_000 / 8 * WINDOW_S * WINDOW_SHARE)
    rate.on_sent(0.0, 40_000)
    rate.on_sent(5.0, 40_000)
    assert rate.window_room(9.9) == full - 80_000
    assert rate.window_room(10.5) == full - 40_000  # the first send left the window
    assert rate.window_room(15.5) == full


def test_vbv_never_allows_more_than_the_window_room() -> None:
    rate = RateController(100_000)
    rate.on_sent(0.0, rate.window_room(0.0) - 2_000)
    vbv = rate.vbv(1.0, cap_bytes=30_000)
    assert vbv.bufsize_bits <= 2_000 * 8


def test_feedback_measures_a_slow_link_and_gates_the_queue() -> None:
    rate = RateController(100_000)
    t, acked = 0.0, 0
    rate.on_sent(t, 50_000)  # a burst far larger than the link carries at once
    assert not rate.may_encode(t)
    # The receiver reports every 100 ms; the link really carries 40 kbit/s.
    while acked < 50_000:
        t += 0.1
        acked = min(50_000, acked + 500)
        rate.apply_feedback(t, ReceiverReport(acked, 0, False))
    assert 36_000 < rate.link_bps < 44_000
    assert rate.queue_delay() <= MAX_QUEUE_DELAY_S and rate.may_encode(t)
    assert rate.video_bps < 40_000


def test_report_counter_wraps_at_32_bits() -> None:
    rate = RateController(100_000)
    rate.on_sent(0.0, 2**32 + 1000)
    rate.apply_feedback(0.1, ReceiverReport(2**32 - 10, 0, False))
    rate.apply_feedback(0.2, ReceiverReport(500, 0, False))  # wrapped
    assert rate.in_flight == 500


def test_tile_damage_finds_the_changed_tile() -> None:
    a = text_screen(320, 240)
    b = a.copy()
    b[130, 200] = 0
    damage = tile_damage(a, b)
    assert damage.tiles.shape == (4, 5)
    assert damage.tiles.sum() == 1 and damage.tiles[130 // TILE, 200 // TILE]
    assert damage.bounding_box() == (192, 128, 64, 64)
    assert not tile_damage(a, a.copy()).changed
    assert tile_damage(None, a).fraction == 1.0


def test_damage_tracker_handles_padded_views() -> None:
    big = text_screen(321, 241)
    tracker = DamageTracker()
    assert tracker.update(big[:240, :320]).changed
    assert not tracker.update(big[:240, :320]).changed


def test_flatten_outside_keeps_the_focus_exactly() -> None:
    frame = text_screen(320, 240)
    out = flatten_outside(frame, (32, 48, 100, 80))
    assert np.array_equal(out[48:128, 32:132], frame[48:128, 32:132])
    assert len(np.unique(out[0:16, 200:216].reshape(-1, 4), axis=0)) == 1


class Clock:
    """The injected time, and the bytes the (instant) link has delivered so far."""

    def __init__(self) -> None:
        self.now = 0.0
        self.delivered = 0


def drive(sender: VideoSender, frames, seconds: float, clock: Clock) -> list[tuple[float, int]]:
    """Poll the sender as a host app would, acknowledging everything at once (fast link)."""
    sent: list[tuple[float, int]] = []
    end = clock.now + seconds
    while clock.now < end:
        packet = sender.offer(frames(clock.now), clock.now)
        if packet is not None:
            clock.delivered += len(packet.data) + VIDEO_WIRE_OVERHEAD_BYTES
            sent.append((clock.now, len(packet.data)))
            report = ReceiverReport(clock.delivered, packet.frame_index, False)
            sender.apply_feedback(clock.now, report)
        clock.now += sender.next_poll_delay(clock.now)
    return sent


def test_unchanged_screen_costs_nothing_once_refined() -> None:
    screen = text_screen(320, 240)
    sender, clock = VideoSender(320, 240), Clock()
    drive(sender, lambda t: screen, 30.0, clock)  # start and refine
    later = drive(sender, lambda t: screen, 10.0, clock)
    assert sum(size + VIDEO_WIRE_OVERHEAD_BYTES for _, size in later) / 10.0 < 200
    assert sender.next_poll_delay(clock.now) > 0.2  # idle: the screen is looked at rarely


def test_typing_is_sent_at_once() -> None:
    screen = text_screen(320, 240)
    sender, clock = VideoSender(320, 240), Clock()
    drive(sender, lambda t: screen, 20.0, clock)

    def typed(t: float) -> np.ndarray:
        frame = screen.copy()
        keys = int((t - 20.0) / 0.2)
        frame[200:210, 8 : 8 + 9 * keys] = 0
        return frame

    sent = drive(sender, typed, 4.0, clock)
    assert 19 <= len(sent) <= 4.0 * 15  # about one frame per key, never above 15 fps
    gaps = np.diff([t for t, _ in sent])
    assert gaps.min() >= 1 / 15 - 1e-9
    assert gaps.max() <= 0.2 + 1 / 15  # each key is on its way within a poll interval
    assert max(size for _, size in sent) < 1_000  # a keystroke is a small P-frame


def test_whole_session_stays_inside_every_window() -> None:
    """Even a screen that changes completely every frame never exceeds the budget."""
    sender, clock = VideoSender(320, 240, budget_bps=20_000), Clock()
    rng = np.random.default_rng(3)
    noise = [rng.integers(0, 256, (240, 320, 4), dtype=np.uint8) for _ in range(8)]
    sent = drive(sender, lambda t: noise[int(t * 15) % 8], 25.0, clock)
    times = np.array([t for t, _ in sent])
    sizes = np.array([s + VIDEO_WIRE_OVERHEAD_BYTES for _, s in sent])
    for t in np.arange(0.0, 15.0, 0.25):
        in_window = sizes[(times >= t) & (times < t + WINDOW_S)].sum()
        assert in_window * 8 / WINDOW_S <= 20_000, (t, in_window)


def test_keyframe_request_from_feedback() -> None:
    screen = text_screen(320, 240)
    sender, clock = VideoSender(320, 240), Clock()
    drive(sender, lambda t: screen, 20.0, clock)
    sender.apply_feedback(clock.now, ReceiverReport(10**6, 0, need_keyframe=True))
    packet = sender.offer(screen, clock.now)
    assert packet is not None and packet.keyframe


def test_a_very_slow_link_switches_to_economy_with_a_keyframe() -> None:
    screen = np.full((1080, 1920, 4), 200, np.uint8)
    sender, clock = VideoSender(1920, 1080), Clock()
    drive(sender, lambda t: screen, 2.0, clock)
    assert not sender.economy
    # Reports show 20 kbit/s arriving while plenty is in flight.
    sender.on_other_sent(clock.now, 50_000)
    for _ in range(30):
        clock.now += 0.5
        clock.delivered += 1_250
        sender.apply_feedback(clock.now, ReceiverReport(clock.delivered, 0, False))
    clock.delivered += 10**6  # then the queue drains
    sender.apply_feedback(clock.now, ReceiverReport(clock.delivered, 0, False))
    before = sender._encoder.frames_encoded
    packet = sender.offer(screen, clock.now)
    assert sender.economy and packet is not None and packet.keyframe
    assert packet.frame_index == before  # the session's count goes on across the switch
    assert (packet.width, packet.height) == economy_size(1920, 1080) == (1280, 720)
    assert sender.settled is None  # a scaled picture's tiles are not the screen's: not judged


def test_a_burst_lets_one_frame_use_the_whole_fill_at_most_every_spacing() -> None:
    rate = RateController(100_000)
    rate.on_frame(0.0)
    normal = rate.vbv(0.1, cap_bytes=36_000)
    burst = rate.vbv(0.1, cap_bytes=36_000, burst_bytes=22_000)
    assert normal.bufsize_bits == 36_000 * 8 and burst.bufsize_bits == 22_000 * 8
    # x264 lets a frame use all of its buffer's fill only while the buffer holds fewer than five
    # frames' refill (maxrate / MAX_FPS each); a burst refills (nearly) all of it, never more.
    assert normal.bufsize_bits >= 5 * normal.maxrate_bps / MAX_FPS
    assert 0.9 * burst.bufsize_bits <= burst.maxrate_bps / MAX_FPS <= burst.bufsize_bits
    soon = 0.1 + BURST_SPACING_S / 2
    again = rate.vbv(soon, cap_bytes=36_000, burst_bytes=22_000)
    assert again == rate.vbv(soon, cap_bytes=36_000)  # too soon: an ordinary frame
    later = rate.vbv(0.2 + BURST_SPACING_S, cap_bytes=36_000, burst_bytes=22_000)
    assert later == burst


def test_a_burst_never_allows_more_than_the_window_room() -> None:
    rate = RateController(100_000)
    rate.on_sent(0.0, rate.window_room(0.0) - 5_000)
    vbv = rate.vbv(1.0, cap_bytes=36_000, burst_bytes=22_000)
    assert vbv.bufsize_bits <= 5_000 * 8


def test_refinement_follows_the_link_not_a_fixed_interval() -> None:
    """On a slow link each refinement frame holds the link ~0.3 s and the queue gate holds the
    next one until the viewer reports it: the next is encoded within one fast poll of that
    report, not a whole refinement interval later (which left the link idle half the time).
    The link is slower than refinement's share of the budget window (all of it but
    REFINE_RESERVE_BYTES), so the link, not the window, paces refinement here."""
    link_bps = 60_000
    budget = SESSION_BUDGET_BPS / 8 * WINDOW_S * WINDOW_SHARE  # the sender's default budget
    assert link_bps * WINDOW_S / 8 < budget - REFINE_RESERVE_BYTES
    screen = text_screen(1280, 720)
    sender, now = VideoSender(1280, 720), 0.0
    link_free = 0.0
    in_flight: list[tuple[float, int, int]] = []  # arrival, bytes so far, frame index
    sent = 0
    frames: list[float] = []  # when each frame was encoded
    reported_at: list[float] = []  # when the viewer reported each frame (its arrival)
    while now < 12.0:
        while in_flight and in_flight[0][0] <= now:
            arrival, delivered, index = in_flight.pop(0)
            sender.apply_feedback(now, ReceiverReport(delivered, index, False))
            reported_at.append(arrival)  # the viewer reports at once; the host hears at its poll
        packet = sender.offer(screen, now)
        if packet is not None:
            frames.append(now)
            wire = len(packet.data) + VIDEO_WIRE_OVERHEAD_BYTES
            sent += wire
            link_free = max(link_free, now) + wire * 8 / link_bps
            in_flight.append((link_free, sent, packet.frame_index))
        now += sender.next_poll_delay(now)
    refining = [i for i, t in enumerate(frames) if t >= 4.0]  # after the first frame's burst
    assert len(refining) >= 10
    for i in refining:
        # due: REFINE_FPS after the frame before, and once the viewer has reported that one
        due = max(frames[i - 1] + 1 / REFINE_FPS, reported_at[i - 1])
        assert frames[i] - due <= 1 / MAX_FPS + 1e-6, (frames[i - 1], reported_at[i - 1])
