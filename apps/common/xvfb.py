"""A private virtual X display (Xvfb) for an office PC with no screen: the demo and tests."""

from __future__ import annotations

import os
import shutil
import subprocess
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


def start_xvfb(width: int = 1280, height: int = 800) -> VirtualDisplay:
    """Start Xvfb on a free display number (``-displayfd``), listening on no TCP port."""
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
    )
    os.close(write_end)
    with os.fdopen(read_end) as ready:
        number = ready.readline().strip()
    if not number.isdigit():
        process.kill()
        process.wait()
        raise LocalError("Xvfb did not start")
    return VirtualDisplay(f":{number}", process)
