"""A monitor switch resizes the session's sender: one budget, one byte count, one frame count."""

from __future__ import annotations

from core.media.rate import MAX_QUEUE_DELAY_S, WINDOW_S, ReceiverReport
from core.media.sender import VIDEO_WIRE_OVERHEAD_BYTES, VideoSender

from .conftest import text_screen

BUDGET_BPS = 100_000
MONITORS = [(640, 480), (800, 480)]  # two monitors of different sizes
FLIP_EVERY_S = 0.5  # a viewer switching monitors as fast as it can click


def wire(packet) -> int:
    return len(packet.data) + VIDEO_WIRE_OVERHEAD_BYTES


def test_flipping_monitors_cannot_send_more_than_the_budget() -> None:
    """Each switch wants a fresh ~24 kB picture; the window must still hold, because the bytes
    sent before a switch keep counting after it."""
    pictures = [text_screen(w, h, seed=i) for i, (w, h) in enumerate(MONITORS)]
    sender = VideoSender(*MONITORS[0], BUDGET_BPS)
    now, shown, next_flip, delivered = 0.0, 0, FLIP_EVERY_S, 0
    sent: list[tuple[float, int]] = []
    while now < 3 * WINDOW_S:
        if now >= next_flip:
            shown, next_flip = 1 - shown, next_flip + FLIP_EVERY_S
            sender.resize(*MONITORS[shown])
        packet = sender.offer(pictures[shown], now)
        if packet is not None:
            assert (packet.width, packet.height) == MONITORS[shown]
            delivered += wire(packet)  # a fast link: everything arrives at once
            sent.append((now, wire(packet)))
            sender.apply_feedback(now, ReceiverReport(delivered, packet.frame_index, False))
        now += sender.next_poll_delay(now)
    worst = max(sum(n for t, n in sent if start <= t < start + WINDOW_S) for start, _ in sent)
    assert worst <= BUDGET_BPS / 8 * WINDOW_S
    assert sum(1 for t, _ in sent if t < WINDOW_S) > 10  # it did keep sending, just less


def test_after_a_switch_in_flight_follows_the_viewers_session_wide_count() -> None:
    sender = VideoSender(*MONITORS[0], BUDGET_BPS)
    first = sender.offer(text_screen(*MONITORS[0], seed=1), 0.0)
    assert first is not None
    sender.apply_feedback(1.9, ReceiverReport(wire(first), first.frame_index, False))
    assert sender.rate.in_flight == 0

    sender.resize(*MONITORS[1])
    switched = sender.offer(text_screen(*MONITORS[1], seed=2), 2.0)
    assert switched is not None and switched.keyframe
    assert switched.frame_index == first.frame_index + 1  # the viewer sees no gap
    # The viewer counts bytes since the session began: nothing of the new picture yet.
    sender.apply_feedback(2.1, ReceiverReport(wire(first), first.frame_index, False))
    assert sender.rate.in_flight == wire(switched)
    assert sender.rate.queue_delay() > MAX_QUEUE_DELAY_S
    assert sender.offer(text_screen(*MONITORS[1], seed=3), 2.2) is None  # the queue gate holds


def test_a_switch_right_after_a_burst_gets_only_what_the_window_has_left() -> None:
    sender = VideoSender(*MONITORS[0], BUDGET_BPS)
    room = sender.rate.window_room(0.0)
    first = sender.offer(text_screen(*MONITORS[0], seed=1), 0.0)
    assert first is not None
    assert sender.rate.window_room(0.0) == room - wire(first)
    sender.resize(*MONITORS[1])
    assert sender.rate.window_room(0.0) == room - wire(first)  # the switch forgot nothing
