"""The real ``telework-viewer`` process, with a fresh home: after a session no file it wrote
holds any of the picture or the OTP, and what it remembers is exactly the allowed settings.

This is also how an end-to-end script drives the viewer: ``--report-state`` prints one JSON
line per state change, ``--otp-stdin`` takes the OTP as the first stdin line, ``quit`` ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import numpy as np

from apps.viewer.settings import SETTINGS_FILE
from core.crypto.certs import format_host_id
from core.media.decoder import H264Decoder
from tests.integration.relay_harness import TENANT, USER

STATE_TIMEOUT_S = 30.0
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"BM", b"P6\n", b"GIF8", b"II*\x00", b"MM\x00*")


def distinctive_screen(width: int = 320, height: int = 240) -> np.ndarray:
    """Colour ramps no desktop or font cache would contain by chance."""
    y, x = np.mgrid[0:height, 0:width]
    frame = np.empty((height, width, 4), np.uint8)
    frame[..., 0] = (x * 3 + y) % 251
    frame[..., 1] = (x * 7 + y * 5) % 241
    frame[..., 2] = (y * 11 + 37) % 239
    frame[..., 3] = 255
    return frame


def fresh_environment(root: Path) -> dict[str, str]:
    dirs = {
        "HOME": root / "home",
        "XDG_CONFIG_HOME": root / "home" / ".config",
        "XDG_CACHE_HOME": root / "home" / ".cache",
        "XDG_DATA_HOME": root / "home" / ".local" / "share",
        "XDG_STATE_HOME": root / "home" / ".local" / "state",
        "XDG_RUNTIME_DIR": root / "runtime",
        "TMPDIR": root / "tmp",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    (root / "runtime").chmod(0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update({k: str(v) for k, v in dirs.items()})
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["LANG"] = env["LC_ALL"] = "ja_JP.UTF-8"
    return env


async def next_state(proc: asyncio.subprocess.Process, wanted: str) -> dict:
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), STATE_TIMEOUT_S)
        assert line, f"viewer exited before reaching {wanted!r}"
        state = json.loads(line)
        if state.get("state") in ("refused", "failed"):
            raise AssertionError(f"viewer stopped: {state}")
        if state.get("state") == wanted:
            return state


def secrets_in(path: Path, needles: list[bytes]) -> list[int]:
    data = path.read_bytes()
    return [i for i, needle in enumerate(needles) if needle in data]


async def test_viewer_process_leaves_no_picture_or_otp_on_disk(tmp_path, relay, office, host):
    source = distinctive_screen()
    office.grab = lambda: source
    env = fresh_environment(tmp_path / "viewer")
    endpoint = relay.endpoint
    otp = relay.totp_now()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "apps.viewer.main",
        "--relay",
        f"{endpoint.host}:{endpoint.port}",
        "--relay-fingerprint",
        endpoint.fingerprint,
        "--tenant",
        TENANT,
        "--user",
        USER,
        "--host-id",
        format_host_id(host.host_id),
        "--report-state",
        "--otp-stdin",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path / "viewer" / "home",
    )
    try:
        assert (await next_state(proc, "login"))["state"] == "login"
        proc.stdin.write(otp.encode() + b"\n")
        await proc.stdin.drain()
        await next_state(proc, "logged_in")
        shown = await next_state(proc, "showing")
        assert (shown["width"], shown["height"]) == (320, 240)
        proc.stdin.write(b"quit\n")
        await proc.stdin.drain()
        await next_state(proc, "exit")
        proc.stdin.close()
        _, logs = await asyncio.wait_for(proc.communicate(), STATE_TIMEOUT_S)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert proc.returncode == 0, logs.decode(errors="replace")

    # What the picture could look like on disk: the office PC's pixels, what the viewer
    # decoded (the same decoder gives the same bytes), and the H.264 stream itself.
    decoder = H264Decoder()
    decoded = [d.image for p in office.packets if (d := decoder.decode(p)).image is not None]
    assert decoded
    needles = [otp.encode(), otp.encode("utf-16-le")]
    for image in (source, decoded[0], decoded[-1]):
        for row in (40, 120, 200):
            needles.append(image[row, 100:132].tobytes())  # 32 pixels, 128 bytes
            needles.append(image[row, 100:132, :3].tobytes())  # packed RGB/BGR
    keyframe = office.packets[0].data
    needles += [keyframe[len(keyframe) // 2 : len(keyframe) // 2 + 48], keyframe[-48:]]

    written = [p for p in (tmp_path / "viewer").rglob("*") if p.is_file()]
    leaks = {str(p): found for p in written if (found := secrets_in(p, needles))}
    assert leaks == {}
    images = [p for p in written if p.read_bytes()[:4].startswith(IMAGE_MAGIC)]
    assert images == []
    assert otp.encode() not in logs  # logs hold no secrets either

    config = tmp_path / "viewer" / "home" / ".config" / "telework-viewer"
    assert sorted(p.name for p in config.iterdir()) == ["device.crt", "device.key", SETTINGS_FILE]
    remembered = json.loads((config / SETTINGS_FILE).read_text())
    assert set(remembered) == {"relay", "fingerprint", "tenant", "user", "host_id"}
    assert (config / "device.key").stat().st_mode & 0o077 == 0
    outside_config = [p for p in written if config not in p.parents]
    print("other files written:", [str(p.relative_to(tmp_path)) for p in outside_config])
