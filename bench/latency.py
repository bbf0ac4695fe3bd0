"""Input-to-picture latency through the real relay, host agent and viewer (separate processes).

    python bench/latency.py [--samples 60] [--link-kbps 100]

Sets up what ``tests/e2e`` uses (tests/e2e/rig.py): two private Xvfb displays, a relay with a
fresh data directory, the office PC's agent enrolled on one display with the office window
(tests/e2e/office_window.py), the viewer on the other, logged in by typing the TOTP code into its
dialog. Then, ``--samples`` times, with a random pause of 0.3-0.6 s between samples (a user's
rhythm, so the office screen is idle when the input comes):

- t0: the pointer moves on the home display (XTest, from this process) into the other half of
  the viewer's picture of the office screen;
- the viewer sends it, the relay forwards it, the host agent moves the office pointer, and the
  office window repaints its "pointer patch" in the colour of that half (it logs when: t_office);
- the host captures, encodes and sends the change; the viewer decodes and paints it;
- t1: this process sees the new colour on the home display (mss, polled every ~2 ms).

``latency_ms`` is t1 - t0: everything a user waits for, including the host's capture schedule
(an idle screen is looked at a few times a second), the office window's own repaint, the
viewer's paint and the X server. ``input_ms`` (t_office - t0) and ``picture_ms`` (t1 - t_office)
split it. All times are ``time.monotonic()`` (CLOCK_MONOTONIC, shared by every process here).

``--link-kbps N`` puts the viewer behind an N kbit/s link: the benchmark makes a network
namespace and a veth pair (10.213.7.0/30, inside this machine only), shapes both directions with
``tc tbf`` (a one-packet bucket, queue LINK_QUEUE_MS), runs the viewer in the namespace and the
relay on the root side's address. Needs root and iproute2; everything is removed at exit.
A token bucket holds the average to N kbit/s and queues bursts, but a lone packet after an idle
moment finds a full bucket and passes at once; a real N kbit/s line would add size / rate to it
(~10-25 ms for the small frames here). ``netem rate``, which models that, is not in every kernel.

``kbps_mean`` is the session's video direction (relay to viewer) over the measured part, from the
relay's ``telework_forwarded_bytes_total`` Prometheus counter; ``kbps_to_host_mean`` the other.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.viewer.settings import mac_addresses
from tests.e2e import office_window as office
from tests.e2e.rig import (
    COLOUR_TOLERANCE,
    OfficeDesktop,
    PictureMap,
    Relay,
    XServer,
    grab_rgb,
    hex_rgb,
    one_session,
    steady_picture,
)

POLL_S = 0.002
SAMPLE_TIMEOUT_S = 10.0
PAUSE_S = (0.3, 0.6)
WARM_UP_S = 3.0  # after the picture is placed: let the first picture sharpen before measuring
PROBE = 6  # side of the square of home pixels watched, in the middle of the patch
# Pointer positions (office pixels) in the left and right half, on the bottom row of the
# screen: away from the patch, so the viewer's drawn cursor never covers what is watched.
LEFT_POINT, RIGHT_POINT = (200, 770), (1080, 770)
# The shaped link: addresses inside this machine only.
NETNS_PREFIX = "twlat"
ROOT_ADDRESS, NS_ADDRESS, PREFIX_LEN = "10.213.7.1", "10.213.7.2", 30
NS_MAC = "02:54:57:4c:41:54"  # the home PC's MAC inside the namespace (locally administered)
BURST_BYTES = 1600  # the token bucket: one full-size packet
LINK_QUEUE_MS = 300  # how long a packet may wait in the link's queue before it is dropped


LINK_STATS: dict[str, int] = {}


def qdisc_bytes(tc: list[str], device: str) -> int:
    """Bytes the shaping qdisc on ``device`` has sent: proof the traffic took the link."""
    out = subprocess.run(
        [*tc, "-s", "qdisc", "show", "dev", device], capture_output=True, text=True, timeout=30
    ).stdout
    words = out.split()
    return int(words[words.index("Sent") + 1]) if "Sent" in words else 0


def run(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def shaped_link(kbps: int) -> Iterator[str]:
    """A network namespace behind a veth pair shaped to ``kbps`` both ways; yields its name."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tc"):
        raise SystemExit("--link-kbps needs root and iproute2 (ip, tc)")
    name = f"{NETNS_PREFIX}{os.getpid()}"
    outer, inner = f"{name}a", f"{name}b"
    shape = ["root", "tbf", "rate", f"{kbps}kbit", "burst", str(BURST_BYTES)]
    shape += ["latency", f"{LINK_QUEUE_MS}ms"]
    run("ip", "netns", "add", name)
    try:
        run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
        run("ip", "link", "set", inner, "netns", name)
        run("ip", "addr", "add", f"{ROOT_ADDRESS}/{PREFIX_LEN}", "dev", outer)
        run("ip", "link", "set", outer, "up")
        ns = ["ip", "netns", "exec", name]
        run(*ns, "ip", "link", "set", "lo", "up")
        run(*ns, "ip", "link", "set", inner, "address", NS_MAC)
        run(*ns, "ip", "addr", "add", f"{NS_ADDRESS}/{PREFIX_LEN}", "dev", inner)
        run(*ns, "ip", "link", "set", inner, "up")
        run("tc", "qdisc", "add", "dev", outer, *shape)  # relay -> viewer
        run(*ns, "tc", "qdisc", "add", "dev", inner, *shape)  # viewer -> relay
        yield name
        LINK_STATS["to_viewer_bytes"] = qdisc_bytes(["tc"], outer)
        LINK_STATS["to_relay_bytes"] = qdisc_bytes([*ns, "tc"], inner)
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            run("ip", "link", "del", outer)
        with contextlib.suppress(subprocess.SubprocessError):
            run("ip", "netns", "del", name)


class Pointer:
    """Moves the home display's pointer through XTest, from this process (no exec delay)."""

    def __init__(self, display: str) -> None:
        import Xlib.display
        import Xlib.ext.xtest
        import Xlib.X

        self._xtest, self._motion = Xlib.ext.xtest, Xlib.X.MotionNotify
        self._display = Xlib.display.Display(display)

    def move(self, x: int, y: int) -> None:
        self._xtest.fake_input(self._display, self._motion, x=x, y=y)
        self._display.sync()

    def close(self) -> None:
        self._display.close()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def measure(
    home: XServer,
    desktop: OfficeDesktop,
    picture: PictureMap,
    samples: int,
    rng: random.Random,
) -> tuple[list[float], list[float], list[float], int]:
    """(latencies, input parts, picture parts) in ms, and how many samples timed out."""
    px, py, pw, ph = office.POINTER_PATCH
    cx, cy = picture.to_home(px + pw / 2, py + ph / 2)
    probe = (cx - PROBE // 2, cy - PROBE // 2, PROBE, PROBE)
    pointer = Pointer(home.display)
    latencies: list[float] = []
    inputs: list[float] = []
    pictures: list[float] = []
    timeouts = 0
    try:
        with home.grabber() as grabber:
            # Start from a known colour: the pointer in the left half.
            pointer.move(*picture.to_home(*LEFT_POINT))
            time.sleep(1.0)
            for n in range(samples):
                target = RIGHT_POINT if n % 2 == 0 else LEFT_POINT
                colour = hex_rgb(office.patch_colour(target[0]))
                time.sleep(rng.uniform(*PAUSE_S))
                since = len(desktop.events())
                t0 = time.monotonic()
                pointer.move(*picture.to_home(*target))
                t1 = None
                while time.monotonic() - t0 < SAMPLE_TIMEOUT_S:
                    seen = grab_rgb(grabber, probe).reshape(-1, 3).mean(axis=0)
                    now = time.monotonic()
                    if np.abs(seen - colour).max() <= COLOUR_TOLERANCE:
                        t1 = now
                        break
                    time.sleep(POLL_S)
                if t1 is None:
                    timeouts += 1
                    continue
                latencies.append((t1 - t0) * 1000)
                changed = [e for e in desktop.events()[since:] if e["event"] == "patch"]
                if changed:
                    inputs.append((changed[0]["t"] - t0) * 1000)
                    pictures.append((t1 - changed[0]["t"]) * 1000)
    finally:
        pointer.close()
    return latencies, inputs, pictures, timeouts


def forwarded(relay: Relay) -> tuple[float, float]:
    m = relay.metrics()
    return (
        m['telework_forwarded_bytes_total{direction="to_viewer"}'],
        m['telework_forwarded_bytes_total{direction="to_host"}'],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--link-kbps", type=int, default=0, help="shape the viewer's link")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="telework-latency-")))
        netns = stack.enter_context(shaped_link(args.link_kbps)) if args.link_kbps else None
        session = one_session(
            stack,
            work,
            relay_host=ROOT_ADDRESS if netns else "127.0.0.1",
            home_macs=[*mac_addresses(), NS_MAC],
            netns=netns,
        )
        home_screen, desktop, relay = session.home_screen, session.desktop, session.relay
        viewer = session.viewer
        viewer.place_session_window()
        picture = steady_picture(home_screen, 90)
        time.sleep(WARM_UP_S)

        start_bytes, start_t = forwarded(relay), time.monotonic()
        latencies, inputs, pictures, timeouts = measure(
            home_screen, desktop, picture, args.samples, rng
        )
        end_bytes, seconds = forwarded(relay), time.monotonic() - start_t

    def kbps(i: int) -> float:
        return round((end_bytes[i] - start_bytes[i]) * 8 / seconds / 1000, 1)

    result = {
        "latency_ms_p50": round(percentile(latencies, 50), 1),
        "latency_ms_p95": round(percentile(latencies, 95), 1),
        "latency_ms_max": round(max(latencies, default=float("nan")), 1),
        "samples": len(latencies),
        "timeouts": timeouts,
        "input_ms_p50": round(percentile(inputs, 50), 1),
        "picture_ms_p50": round(percentile(pictures, 50), 1),
        "picture_ms_p95": round(percentile(pictures, 95), 1),
        "kbps_mean": kbps(0),
        "kbps_to_host_mean": kbps(1),
        "link_kbps": args.link_kbps or None,
        **{f"link_{k}": v for k, v in LINK_STATS.items()},
        "measured": "pointer move on the home display -> new colour seen on the home display",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
