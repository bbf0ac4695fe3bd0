"""What capture and change detection cost the office PC, with and without the X server's damage
reports (MIT-SHM capture either way), on a 1920x1080 Xvfb while a client types and a caret
blinks, and while the screen stands still.

    python bench/capture_cost.py [--seconds 20]

Runs the host's own capture/encode loop (apps/host/session.py ``HostMedia.step``) as a session
does, paced by its own poll delays, on the real H.264 encoder, and reports the loop's CPU time
as a share of one core. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.common.xvfb import start_xvfb
from apps.host.session import CURSOR_WIRE_OVERHEAD_BYTES, HostMedia
from core.media.rate import ReceiverReport
from core.media.sender import VIDEO_WIRE_OVERHEAD_BYTES
from core.protocol.session import SESSION_BUDGET_BPS

SCREEN = (1920, 1080)
KEY_INTERVAL_S = 0.15  # a typist's pace: one glyph-sized stroke each
BLINK_INTERVAL_S = 0.5


def typist(display: str, stop: threading.Event) -> None:
    """Glyph strokes along lines, and a caret blinking after them, on a white window."""
    import Xlib.display

    conn = Xlib.display.Display(display)
    screen = conn.screen()
    window = screen.root.create_window(
        0, 0, *SCREEN, 0, screen.root_depth,
        background_pixel=screen.white_pixel, override_redirect=True,
    )  # fmt: skip
    window.map()
    ink = window.create_gc(foreground=screen.black_pixel)
    paper = window.create_gc(foreground=screen.white_pixel)
    x, y, caret_on, next_blink = 100, 100, False, 0.0
    while not stop.is_set():
        now = time.monotonic()
        window.fill_rectangle(ink, x, y, 9, 16)
        x += 11
        if x > SCREEN[0] - 100:
            x, y = 100, y + 22 if y < SCREEN[1] - 100 else 100
        if now >= next_blink:
            caret_on = not caret_on
            window.fill_rectangle(ink if caret_on else paper, x + 2, y, 2, 16)
            next_blink = now + BLINK_INTERVAL_S
        conn.sync()
        stop.wait(KEY_INTERVAL_S)
    window.destroy()
    conn.close()


def measure(display: str, seconds: float, with_damage: bool, typing: bool) -> tuple[float, int]:
    """The loop's CPU (% of a core) and the number of video packets it sent."""
    media = HostMedia(display, 1, SESSION_BUDGET_BPS)
    if not with_damage and media.damage_source is not None:
        media.damage_source.close()
        media.damage_source = None
    stop = threading.Event()
    worker = threading.Thread(target=typist, args=(display, stop), daemon=True) if typing else None
    if worker:
        worker.start()
    time.sleep(0.5)
    try:
        c0, t_end, packets, received = time.thread_time(), time.monotonic() + seconds, 0, 0
        while time.monotonic() < t_end:
            packet, _, cursor, delay = media.step()
            # An ideal link: every byte arrives at once and the viewer says so.
            received += sum(len(m.to_bytes()) + CURSOR_WIRE_OVERHEAD_BYTES for m in cursor)
            if packet is not None:
                packets += 1
                received += len(packet.data) + VIDEO_WIRE_OVERHEAD_BYTES
                report = ReceiverReport(received, packet.frame_index, False)
                media.sender.apply_feedback(time.monotonic(), report)
            time.sleep(delay)
        return (time.thread_time() - c0) / seconds * 100, packets
    finally:
        stop.set()
        if worker:
            worker.join()
        media.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    screen = start_xvfb(*SCREEN)
    try:
        out: dict[str, float] = {}
        for typing in (True, False):
            for damage in (False, True):
                case = f"{'typing' if typing else 'still'}_{'damage' if damage else 'diff'}"
                cpu, packets = measure(screen.display, args.seconds, damage, typing)
                out[f"cpu_percent_{case}"] = round(cpu, 1)
                out[f"packets_{case}"] = packets
                print(f"{case}: {cpu:.1f} % CPU, {packets} packets", file=sys.stderr)
    finally:
        screen.stop()
    out["cpus"] = os.cpu_count()
    out["load_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
