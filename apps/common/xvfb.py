"""A private virtual X display (Xvfb) for an office PC with no screen: the demo, tests, bench."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import LocalError

# How long Xvfb may take to report its display number before we give up.
XVFB_START_TIMEOUT_S = 15.0


@dataclass
class VirtualDisplay:
    display: str  # ":N"
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_xvfb(
    width: int = 1280,
    height: int = 800,
    *,
    start_new_session: bool = False,
    preexec_fn: Callable[[], None] | None = None,
) -> VirtualDisplay:
    """Start Xvfb on a free display number (``-displayfd``), listening on no TCP port.

    ``start_new_session`` and ``preexec_fn`` go to :class:`subprocess.Popen`: the end-to-end
    rig uses them so that Xvfb neither gets the terminal's Ctrl+C nor outlives the test run.
    """
    if shutil.which("Xvfb") is None:
        raise LocalError("Xvfb is not installed (Debian/Ubuntu: apt-get install xvfb)")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_end,),
        start_new_session=start_new_session,
        preexec_fn=preexec_fn,
    )
    os.close(write_end)
    try:
        number = read_line(read_end, XVFB_START_TIMEOUT_S).strip()
    finally:
        os.close(read_end)
    if not number.isdigit():
        process.kill()
        process.wait()
        raise LocalError("Xvfb did not start")
    return VirtualDisplay(f":{number}", process)


def read_line(fd: int, timeout_s: float) -> str:
    """One line from ``fd``, or what came before ``timeout_s`` ran out or the writer closed."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")
