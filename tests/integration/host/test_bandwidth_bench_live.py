"""bench/bandwidth.py's live path captures through the host's own ``HostMedia.look``: on a real
X display it sends the screen, sees the X server's damage reports, and skips captures while
nothing is drawn and nothing is refining (its figures are then the host's, not a copy's)."""

from __future__ import annotations

import subprocess

import pytest

from apps.host.session import WHOLE_FRAME_COMPARE_S, HostMedia
from bench.bandwidth import Run, look_and_send, run_display
from core.protocol.session import SESSION_BUDGET_BPS

pytestmark = pytest.mark.x11

STILL_S = 20.0  # of modelled time: the first picture is refined well within half of it


def test_the_live_bench_sends_a_legible_screen_through_the_hosts_own_look(xdisplay):
    # Something to read: a window of text on the (otherwise black) screen.
    window = subprocess.Popen(
        ["xmessage", "-geometry", "+40+40", "Telework: text the bench must show legibly " * 3],
        env={"DISPLAY": xdisplay},
    )
    try:
        subprocess.run(
            ["xdotool", "search", "--sync", "--name", "xmessage"],
            check=True,
            env={"DISPLAY": xdisplay},
            capture_output=True,
            timeout=10,
        )
        result = run_display(xdisplay, 4.0, 100.0)
    finally:
        window.kill()
        window.wait()
    assert result["kbps_mean"] is not None and 0 < result["kbps_mean"] <= 100
    assert result["first_legible_s"] is not None and result["first_legible_s"] < 4.0
    assert result["text_ssim_steady"] is None or result["text_ssim_steady"] > 0.9


def test_a_still_screen_is_not_even_captured_once_refined(xdisplay):
    media = HostMedia(xdisplay, 1, SESSION_BUDGET_BPS)
    try:
        assert media.damage_source is not None, "Xvfb has DAMAGE: the host must use it"
        run = Run(*media.sender.size, 100.0, sender=media.sender)
        looks, now = [], 0.0
        while now < STILL_S:  # a screen nobody draws on, on the bench's modelled link (no sleep)
            looks.append((now, look_and_send(run, media, now)))
            now += media.sender.next_poll_delay(now)
    finally:
        media.close()
    assert looks[0][1].frame is not None  # the first picture
    late = [look for now, look in looks if now >= STILL_S / 2]
    captured = [look for look in late if look.frame is not None]
    # Once refined, only the whole-frame comparison every WHOLE_FRAME_COMPARE_S still captures.
    assert len(captured) <= STILL_S / 2 / WHOLE_FRAME_COMPARE_S + 1 < len(late)
    assert all(look.drawn is None for look in captured)
